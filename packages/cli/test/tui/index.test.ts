/** The lazy entry point: what the commands call, on fake streams; and that nothing else loads ink. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { renderSimulationFrame, showSimulation, showStats, showTest } from '../../src/tui/index.js';
import { fakeTerminal } from '../fake-terminal.js';
import { ivSurge, plain } from './fixtures.js';

vi.setConfig({ testTimeout: 30_000 });

function streams() {
  const { terminal, stdout } = fakeTerminal();
  return { stdout, io: terminal };
}

describe('src/tui/index.ts', () => {
  it('showSimulation plays the trace and, with no keyboard, returns at its end', async () => {
    const { ir, trace } = ivSurge();
    const { stdout, io } = streams();
    await showSimulation({ ir, trace, speed: 1200, tickMs: 10, ...io });
    const out = plain(stdout.text);
    expect(out).toContain('Outcome  ■ ended at t+180 min');
    expect(out).toContain('■ finished');
  });

  it('showTest: progress updates, then the final view', async () => {
    const { stdout, io } = streams();
    const ui = showTest({ title: 'kapspec test demo.kap', properties: [{ name: 'p', runs: 0, total: 10, status: 'running' }], ...io });
    ui.update([{ name: 'p', runs: 5, total: 10, status: 'running' }]);
    await ui.finish({ properties: [{ name: 'p', runs: 10, total: 10, status: 'passed' }], summary: '1 property passed' });
    const out = plain(stdout.text);
    expect(out).toMatch(/✓ p\s+█+\s+10\/10 {2}PASSED/);
    expect(out).toContain('1 property passed');
  });

  it('showStats: a progress bar, then the table', async () => {
    const { stdout, io } = streams();
    const ui = showStats({ title: 'kapspec stats', total: 4, ...io });
    ui.progress(2);
    await ui.finish({ header: ['outcome', 'runs'], rows: [['discharged', '4']] });
    const out = plain(stdout.text);
    expect(out).toMatch(/100% {2}4\/4 runs/);
    expect(out).toMatch(/discharged\s+4/);
  });

  it('renderSimulationFrame: one frame as text, at a minute', () => {
    const { ir, trace } = ivSurge();
    const f = plain(renderSimulationFrame(ir, trace, { at: 40, columns: 120 }));
    expect(f).toMatch(/^t\+40 min /m);
    expect(f).toMatch(/▶ infusion ‖ PAUSED/);
  });

  it('nothing outside src/tui imports it statically (ink and React load only when a TUI is shown)', () => {
    const src = fileURLToPath(new URL('../../src/', import.meta.url));
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.tsx?$/.test(n)) files.push(p);
      }
    };
    walk(src);
    const offenders = files
      .filter((f) => !relative(src, f).startsWith('tui'))
      .filter((f) => {
        const text = readFileSync(f, 'utf8');
        return /^\s*(import|export)\b[^;]*?from\s+['"][^'"]*(\/tui\/|\bink\b|\breact\b)[^'"]*['"]/m.test(text) || /^\s*import\s+['"][^'"]*(\/tui\/|\bink\b|\breact\b)/m.test(text);
      })
      .map((f) => relative(src, f));
    expect(offenders).toEqual([]);
  });
});
