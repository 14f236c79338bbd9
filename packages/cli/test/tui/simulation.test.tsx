import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup } from 'ink-testing-library';
import { SimulationView, StageTimeline, VitalsRow, StaffBoard } from '../../src/tui/simulation.js';
import { renderSimulationFrame } from '../../src/tui/index.js';
import { delay, groupPanics, ivSurge, plain, until } from './fixtures.js';

vi.setConfig({ testTimeout: 30_000 });
afterEach(() => cleanup());

const RIGHT = '\u001b[C';
/** A vitals line: the measure, its unit, then a sparkline of block characters. */
const SBP_LINE = /^SBP\s+mmHg\s+[▁▂▃▄▅▆▇█]+\s+[\d.]+\s+[▁▂▃▄▅▆▇█ ]+\s+[\d.]+\s.*>160 >180 >200/m;

function frameOf(r: { lastFrame: () => string | undefined }) {
  return plain(r.lastFrame());
}

describe('SimulationView (individual-iv, scripted surge)', () => {
  it('shows the stages, a vitals line with sparklines, the staff board and the log', async () => {
    const { ir, trace } = ivSurge();
    const r = render(<SimulationView ir={ir} trace={trace} paused />);
    await until(() => frameOf(r).includes('Stages'), () => frameOf(r));
    const f = frameOf(r);
    expect(f).toContain('Individual IV ketamine-assisted psychotherapy · session dosing');
    expect(f).toMatch(/Stages\s+▶ predose ─ · infusion ─ · recovery\nOutcome\s+— \(in session\)/);
    expect(f).toContain('playback paused');
    expect(f).toMatch(/^SBP\s+mmHg\s+▁\s+130\s+▁\s+130 now\s+>160 >180 >200/m);
    expect(f).toMatch(/therapist\s+free 1\s+attending 0\s+absent 0/);
    expect(f).toContain('predose begins');
  });

  it('→ steps one happening at a time; the surge read at 35 pauses the infusion', async () => {
    const { ir, trace } = ivSurge();
    const r = render(<SimulationView ir={ir} trace={trace} paused />);
    await until(() => frameOf(r).includes('Log ('), () => frameOf(r));
    await delay(30);
    const count = () => Number(/Log \((\d+) so far\)/.exec(frameOf(r))?.[1]);
    const before = count();
    r.stdin.write(RIGHT);
    await until(() => count() === before + 1, () => frameOf(r));
    expect(frameOf(r)).toMatch(/t\+15 min\s+predose ends/);
    // Keep stepping until the pause.
    for (let i = 0; i < 30 && !frameOf(r).includes('infusion PAUSED'); i++) {
      const n = count();
      r.stdin.write(RIGHT);
      await until(() => count() === n + 1, () => frameOf(r));
    }
    const f = frameOf(r);
    expect(f).toMatch(/t\+35 min\s+infusion PAUSED \(rule hypertension\)/);
    expect(f).toMatch(/▶ infusion ‖ PAUSED/);
    expect(f).toMatch(/t\+35 min\s+rule hypertension fired/);
    expect(f).toMatch(SBP_LINE);
    expect(f).toMatch(/^SBP .* 195 now /m);
  });

  it('plays to the outcome; space pauses (the frame stops changing); q quits', async () => {
    const { ir, trace } = ivSurge();
    const onQuit = vi.fn();
    const r = render(<SimulationView ir={ir} trace={trace} speed={120} tickMs={20} onQuit={onQuit} />);
    await until(() => /t\+[1-9]\d* min/.test(frameOf(r).split('\n')[1] ?? ''), () => frameOf(r));
    r.stdin.write(' ');
    await until(() => frameOf(r).includes('playback paused'), () => frameOf(r));
    const paused = frameOf(r);
    const frames = r.frames.length;
    await delay(200);
    expect(frameOf(r)).toBe(paused);
    expect(r.frames.length).toBe(frames);
    r.stdin.write(' ');
    await until(() => frameOf(r).includes('■ finished'), () => frameOf(r), 15_000);
    const f = frameOf(r);
    expect(f).toContain('Outcome  ■ ended at t+180 min (not ready for discharge at 3 h: medical review) [rule not_settled]');
    expect(f).toMatch(/Stages\s+✓ predose ─ ✓ infusion ─ ✓ recovery/);
    expect(f).toContain('OUTCOME ended');
    expect(onQuit).not.toHaveBeenCalled();
    r.stdin.write('q');
    await until(() => onQuit.mock.calls.length === 1, () => frameOf(r));
    const n = r.frames.length;
    r.stdin.write(' ');
    r.stdin.write(RIGHT);
    await delay(100);
    expect(r.frames.length).toBe(n);
  });

  it('+ and − change the speed shown', async () => {
    const { ir, trace } = ivSurge();
    const r = render(<SimulationView ir={ir} trace={trace} paused speed={10} />);
    await until(() => frameOf(r).includes('10 min/s'), () => frameOf(r));
    await delay(30);
    r.stdin.write('+');
    await until(() => frameOf(r).includes('20 min/s'), () => frameOf(r));
    r.stdin.write('-');
    r.stdin.write('-');
    await until(() => frameOf(r).includes(' 5 min/s'), () => frameOf(r));
  });
});

describe('SimulationView (group-im, two panics)', () => {
  it('shows a participant grid, the staff board with who is attended, merged log lines', async () => {
    const { ir, trace } = groupPanics();
    const f = plain(renderSimulationFrame(ir, trace, { at: 45, columns: 120 }));
    expect(f).toMatch(/Stages\s+✓ opening ─ ▶ journey ─ · sharing/);
    expect(f).toContain('Participants (6)');
    for (let i = 1; i <= 6; i++) expect(f).toMatch(new RegExp(`^\\s+p${i}\\s+journey\\s+\\d+`, 'm'));
    expect(f).toMatch(/^\s+p1\s+journey\s+[\d.]+\s+[▁▂▃▄▅▆▇█]+.*attended by facilitator$/m);
    expect(f).toMatch(/^\s+p3\s+journey.*in session$/m);
    expect(f).toMatch(/facilitator\s+free 0\s+attending 2\s+absent 0\s+\(p1 until t\+60 min; p2 until t\+60 min\)/);
    expect(f).toMatch(/STAFFING: 0 facilitator free, >= 1 required/);
    const end = plain(renderSimulationFrame(ir, trace, { columns: 120 }));
    expect(end).toContain('Outcome  ■ 6 discharged');
    expect(end).toMatch(/^\s+p6\s+—.*discharged t\+150 min$/m);
    expect(end).toMatch(/t\+150 min\s+all: OUTCOME discharged/);
  });
});

describe('pieces', () => {
  it('StageTimeline marks done, current, paused and the outcome', () => {
    const r = render(
      <StageTimeline
        stages={[
          { name: 'a', status: 'done', pausedBy: [] },
          { name: 'b', status: 'current', pausedBy: ['p2'] },
          { name: 'c', status: 'pending', pausedBy: [] },
        ]}
        group
        outcome="1 deferred"
      />,
    );
    expect(plain(r.lastFrame())).toBe('Stages  ✓ a ─ ▶ b ‖ PAUSED (p2) ─ · c\nOutcome  ■ 1 deferred');
  });

  it('VitalsRow: true and seen sparklines against the thresholds', () => {
    const ths = [{ measure: 'sbp', op: '>' as const, value: 180, rules: ['hypertension'] }];
    const r = render(
      <VitalsRow
        measure={{ name: 'sbp', unit: 'mmHg', min: 50, max: 260, span: { start: 0, end: 0, line: 1, column: 1 } }}
        truth={[120, 150, 180, 200]}
        seen={[undefined, 150, 150, 200]}
        truthNow={200}
        seenNow={{ value: 200, at: 3 }}
        t={4}
        thresholds={ths}
      />,
    );
    expect(plain(r.lastFrame())).toBe('SBP   mmHg  ▁▄▆█   200   ▄▄█   200 1 min ago   >180');
  });

  it('StaffBoard: free, attending, absent', () => {
    const r = render(<StaffBoard rows={[{ role: 'therapist', free: 0, attending: 1, absent: 1, assignments: [{ participant: 'p1', until: 50 }] }]} />);
    expect(plain(r.lastFrame())).toBe('Staff\n  therapist  free 0  attending 1  absent 1  (p1 until t+50 min)');
  });
});
