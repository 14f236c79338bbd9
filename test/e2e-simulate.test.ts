import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
