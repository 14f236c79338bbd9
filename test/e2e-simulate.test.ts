import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace } from '../packages/simulator/src/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, EXAMPLES, STACK, assertBuilt, kapspec } from './helpers/cli.js';

// The runtime simulates about 20 sessions a second today; be generous.
vi.setConfig({ testTimeout: 120_000 });

let tmp: string;
beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'kapspec-e2e-simulate-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kapspec simulate (real binary)', () => {
  it('the examples exist', () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(4);
  });

  it.each(EXAMPLES)('%s: a plain, stable timeline and a summary; exit 0', async (file) => {
    const a = await kapspec(['simulate', file]);
    expect(a.stderr).toBe('');
    expect(a.code).toBe(0);
    expect(a.stdout).not.toMatch(ANSI);
    expect(a.stdout).toMatch(/^Protocol ".+", session \S+: seed 1, calibrated model, \d+ participants?\.\n/);
    expect(a.stdout).toMatch(/\ntime +stage +(who +)?what happened\n/);
    expect(a.stdout).toMatch(/\nt\+0 +\S+ +(\S+ +)?\S+ begins\n/);
    expect(a.stdout).toMatch(/\nOutcomes?: .+\.\n$/);
    const b = await kapspec(['simulate', file]);
    expect(b.stdout).toBe(a.stdout);
  });

  it('a stage lasting weeks: simulate, test and stats refuse it naming the stage (exit 2); open-ended, it runs to the 24 h horizon', async () => {
    const tutorial = readFileSync('docs/snippets/tutorial-5.kap', 'utf8');
    expect(tutorial).toContain('stage infusion duration 40 min');
    expect(tutorial).toContain('duration at least 60 min');
    const bounded = join(tmp, 'weeks.kap');
    writeFileSync(bounded, tutorial.replace('stage infusion duration 40 min', 'stage infusion duration 100000 weeks').replace('duration at least 60 min', 'duration 60 min'));
    for (const args of [['simulate', bounded], ['simulate', bounded, '--model', 'adversarial'], ['test', bounded, '--runs', '1'], ['stats', bounded, '--sessions', '1']]) {
      const r = await kapspec(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      // The compiler's warning first (KAP4003: the unit slip), then the refusal.
      expect(r.stderr).toMatch(/^warning\[KAP4003\]: Stage `infusion` lasts `100000 weeks` \(1008000000 min\), more than a day\.\n/);
      expect(r.stderr).toMatch(/\nkapspec \w+: cannot \w+ .*weeks\.kap: session "dosing" can last up to 1,008,000,075 minutes \(700,000 days\) \(stage "infusion" at line \d+ lasts 1,008,000,000 minutes \(700,000 days\)\), .*the simulator runs at most 10,080 minutes \(7 days\) of a session\. Check the stage durations' units\.\n$/);
      expect(r.stderr).not.toMatch(STACK);
    }
    // Open-ended (the recovery has no upper bound): the simulation stops at 24 h, and the adversarial model draws nothing beyond it.
    const open = join(tmp, 'weeks-open.kap');
    writeFileSync(open, tutorial.replace('stage infusion duration 40 min', 'stage infusion duration 100000 weeks'));
    const r = await kapspec(['simulate', open, '--model', 'adversarial']);
    expect(r.code).toBe(0);
    // Only the compiler's warning about the unit slip.
    expect(r.stderr).toMatch(/^warning\[KAP4003\]: Stage `infusion` lasts `100000 weeks`/);
    expect(r.stderr).not.toMatch(/cannot|error/);
  });

  it('--out writes a trace that parses, for the seed given', async () => {
    const out = join(tmp, 'iv.jsonl');
    const r = await kapspec(['simulate', 'examples/individual-iv.kap', '--seed', '42', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(`wrote ${out}\n`);
    const parsed = parseTrace(readFileSync(out, 'utf8'));
    if ('error' in parsed) throw new Error(parsed.error.message);
    expect(parsed.trace.header).toMatchObject({ seed: 42, session: 'dosing', model: 'calibrated' });
  });

  it('--model adversarial on a group protocol shows the participant on each line', async () => {
    const r = await kapspec(['simulate', 'examples/group-im.kap', '--model', 'adversarial', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('adversarial model');
    expect(r.stdout).toMatch(/\nt\+\S+ +\S+ +p1 +measured /);
  });

  it('user mistakes: exit 2, one line and a pointer to --help, no stack', async () => {
    for (const args of [
      ['simulate', 'examples/individual-iv.kap', '--seed', 'x'],
      ['simulate', 'examples/individual-iv.kap', '--model', 'random'],
      ['simulate', 'examples/individual-iv.kap', '--session', 'nope'],
      ['simulate', 'examples/missing.kap'],
      ['simulate', 'examples/individual-iv.kap', '--out', join(tmp, 'no', 'such', 'dir', 't.jsonl')],
    ]) {
      const r = await kapspec(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^kapspec( simulate)?: /);
      expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
      expect(r.stderr).not.toMatch(STACK);
    }
  });

  it('--help shows a real example that runs', async () => {
    const h = await kapspec(['simulate', '--help']);
    expect(h.code).toBe(0);
    const example = /\$ kapspec (simulate examples\/individual-iv\.kap)\n/.exec(h.stdout);
    expect(example).not.toBeNull();
    const r = await kapspec(example![1]!.split(' '));
    expect(r.code).toBe(0);
  });
});
