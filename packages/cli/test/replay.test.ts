import { checkProperties, scriptedScenario, serializeTrace, simulate } from '@kapspec/simulator';
import { describe, expect, it, vi } from 'vitest';
import { firstDifference, replayPlan } from '../src/trace-scenario.js';
import { ANSI, run } from './memory-io.js';
import { SMALL, SMALL_ASSERT_LINE, irOf, surgeTrace } from './sim-fixtures.js';

vi.setConfig({ testTimeout: 60_000 });

const STACK = /^\s+at .+/m;

describe('kapspec replay', () => {
  const { ir, trace, text } = surgeTrace('small.kap');
  const files = { 'small.kap': SMALL, 'run.jsonl': text };

  it('re-runs a trace byte for byte and prints the verdicts; a failed property exits 1 with its vignette', async () => {
    const r = await run(['replay', 'run.jsonl', 'small.kap'], { files });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Replayed run.jsonl against small.kap: protocol "Small", session dosing, seed 3, scripted model, 1 participant.');
    expect(lines[1]).toBe(`The re-run is identical to the saved trace (${text.split('\n').length - 1} lines).`);
    expect(r.stdout).toMatch(new RegExp(`^FAIL  responsive +1 run  small\\.kap:${SMALL_ASSERT_LINE}$`, 'm'));
    expect(r.stdout).toMatch(/^PASS  builtin\.staffing +1 run  small\.kap:\d+$/m);
    expect(r.stdout).toContain('FAILED responsive (assert)');
    expect(r.stdout).toContain('Minute by minute');
    expect(r.stdout.trimEnd().split('\n').pop()).toMatch(/^\d+ properties: \d+ passed, 1 failed \(seed 3\)\.$/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('the verdicts are those of the saved trace', async () => {
    const r = await run(['replay', 'run.jsonl', 'small.kap'], { files });
    for (const v of checkProperties(ir, 'dosing', trace)) {
      expect(r.stdout).toMatch(new RegExp(`^${v.status === 'passed' ? 'PASS' : v.status === 'failed' ? 'FAIL' : 'INCONCLUSIVE'} +${v.name.replace('.', '\\.')} `, 'm'));
    }
  });

  it('exit 0 when every property holds', async () => {
    const calm = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 130, spo2: 98 } }], staffAtStart: { therapist: 1, medical_provider: 1 } });
    const t = serializeTrace(simulate(irOf(SMALL, 'small.kap'), { session: 'dosing', scenario: calm, seed: 1 }));
    const r = await run(['replay', 'calm.jsonl', 'small.kap'], { files: { 'small.kap': SMALL, 'calm.jsonl': t } });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('FAIL');
  });

  it('on a terminal: marks and colour; NO_COLOR keeps the marks without colour', async () => {
    const tty = await run(['replay', 'run.jsonl', 'small.kap'], { files, stdoutTTY: true });
    expect(tty.stdout).toMatch(ANSI);
    expect(tty.stdout).toContain('✗');
    const plain = await run(['replay', 'run.jsonl', 'small.kap'], { files, stdoutTTY: true, env: { NO_COLOR: '' } });
    expect(plain.stdout).not.toMatch(ANSI);
    expect(plain.stdout).toMatch(/^✗  responsive/m);
    expect(plain.stdout).toMatch(/^✓  builtin\.staffing/m);
  });

  it('the same protocol text under another path is the same protocol', async () => {
    const r = await run(['replay', 'run.jsonl', 'copy/of/small.kap'], { files: { ...files, 'copy/of/small.kap': SMALL } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('The re-run is identical');
  });

  it('a changed protocol: exit 2, one message, nothing on stdout', async () => {
    const changed = SMALL.replace('within 5 min', 'within 15 min');
    const r = await run(['replay', 'run.jsonl', 'small.kap'], { files: { ...files, 'small.kap': changed } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^kapspec replay: the protocol changed since this trace was made: run\.jsonl is of protocol "Small", session dosing, IR [0-9a-f]{12}; small\.kap now compiles to IR [0-9a-f]{12}\n/);
  });

  it('a trace of another protocol names both', async () => {
    const other = SMALL.replace('protocol "Small"', 'protocol "Other"');
    const r = await run(['replay', 'run.jsonl', 'small.kap'], { files: { ...files, 'small.kap': other } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('small.kap now compiles to protocol "Other", IR ');
  });

  describe('bad trace files: exit 2, one line naming the line and the field, no stack', () => {
    const lines = text.split('\n');
    const cases: [string, string, RegExp][] = [
      ['truncated mid-line', text.slice(0, text.length - 40), new RegExp(`line ${lines.length - 1}: not valid JSON`)],
      ['a field of the wrong type', [...lines.slice(0, 2), lines[2]!.replace('"t":0', '"t":"zero"'), ...lines.slice(3)].join('\n'), /line 3, field "t": expected a finite number, got "zero"/],
      ['no header', lines.slice(1).join('\n'), /line 1, field "kapspecTrace": the first line must be the trace header/],
      ['empty', '', /line 1: the trace is empty/],
      ['not JSON at all', 'hello\n', /line 1: not valid JSON/],
    ];
    it.each(cases)('%s', async (_, bad, message) => {
      const r = await run(['replay', 'bad.jsonl', 'small.kap'], { files: { 'small.kap': SMALL, 'bad.jsonl': bad } });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^kapspec replay: bad\.jsonl is not a valid trace: line \d+/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).not.toMatch(STACK);
    });
  });

  it('a missing trace or protocol file: exit 2', async () => {
    const a = await run(['replay', 'nope.jsonl', 'small.kap'], { files });
    expect(a).toMatchObject({ code: 2, stdout: '', stderr: 'kapspec replay: cannot read nope.jsonl: no such file\n' });
    const b = await run(['replay', 'run.jsonl', 'nope.kap'], { files });
    expect(b).toMatchObject({ code: 2, stdout: '', stderr: 'kapspec: cannot read nope.kap: no such file\n' });
  });

  it('a protocol with errors: exit 2 (nothing replayed), diagnostics on stderr', async () => {
    const r = await run(['replay', 'run.jsonl', 'small.kap'], { files: { ...files, 'small.kap': `${SMALL}oops\n` } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[');
    expect(r.stderr).toContain('kapspec replay: small.kap has errors');
  });

  it('needs both arguments; --help shows an example and the exit codes', async () => {
    const r = await run(['replay', 'run.jsonl']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("kapspec replay: missing required argument 'file'\nRun `kapspec replay --help` for usage.\n");
    const h = await run(['replay', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Usage: kapspec replay [options] <trace> <file>');
    expect(h.stdout).toContain('Examples:\n  $ kapspec simulate');
    expect(h.stdout).toContain('Exit codes: 0');
  });
});

describe('replayPlan (recorded inputs)', () => {
  it('a group trace plays back byte for byte', () => {
    const GROUP = `protocol "Circle" {
  setting group 2..4
  roles { facilitator 1 per 2 participants }
  measures { sbp mmHg 50..260 }
  events { panic }
  session circle {
    stage opening duration 10 min { measure sbp at start }
    stage journey duration 30 min {
      administer ketamine 1 mg/kg im once
      monitor sbp every 15 min
    }
    discharge when elapsed >= 40 min and sbp <= 160
    rule panic { when panic then attend facilitator within 2 min for 10 min }
  }
}
`;
    const ir = irOf(GROUP, 'g.kap');
    const scenario = scriptedScenario({
      participants: [
        { id: 'a', vitals: { sbp: 130 }, events: [{ t: 20.5, name: 'panic' }] },
        { id: 'b', vitals: { sbp: [[0, 130], [30, 150]] }, events: [{ t: 21, name: 'panic' }] },
        { id: 'c', vitals: { sbp: 120 } },
      ],
      staffAtStart: { facilitator: 2 },
      staff: [{ t: 15, action: 'leave', role: 'facilitator' }],
    });
    const trace = simulate(ir, { session: 'circle', scenario, seed: 9 });
    const plan = replayPlan(trace);
    expect(plan.participantIds).toEqual(['a', 'b', 'c']);
    const again = simulate(ir, { session: 'circle', scenario: plan.scenario, seed: 9, participantIds: plan.participantIds, model: trace.header.model });
    expect(serializeTrace(again)).toBe(serializeTrace(trace));
  });

  it('a horizon stop is replayed with the same horizon', () => {
    const ir = irOf(SMALL, 's.kap');
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 170, spo2: 98 } }], staffAtStart: { therapist: 1, medical_provider: 1 } });
    const trace = simulate(ir, { session: 'dosing', scenario, seed: 1, horizonMinutes: 90 });
    const plan = replayPlan(trace);
    expect(plan.horizonMinutes).toBe(90);
    const again = simulate(ir, { session: 'dosing', scenario: plan.scenario, seed: 1, horizonMinutes: 90, model: 'scripted' });
    expect(serializeTrace(again)).toBe(serializeTrace(trace));
  });

  it('firstDifference names the first differing line', () => {
    expect(firstDifference('a\nb\n', 'a\nb\n')).toBeUndefined();
    expect(firstDifference('a\nb\nc\n', 'a\nx\nc\n')).toEqual({ line: 2, saved: 'b', rerun: 'x' });
    expect(firstDifference('a\n', 'a\nb\n')).toEqual({ line: 2, saved: '', rerun: 'b' });
  });
});
