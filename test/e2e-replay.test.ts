import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compile } from '../packages/compiler/src/index.js';
import { checkProperties, parseTrace } from '../packages/simulator/src/index.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, ROOT, STACK, assertBuilt, kapspec } from './helpers/cli.js';

vi.setConfig({ testTimeout: 120_000 });

let tmp: string;
beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'kapspec-e2e-replay-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WORD = { passed: 'PASS', failed: 'FAIL', inconclusive: 'INCONCLUSIVE' } as const;

describe('kapspec replay (real binary)', () => {
  it.each([
    ['examples/individual-iv.kap', 'calibrated', '7'],
    ['examples/group-im.kap', 'calibrated', '2'],
    ['examples/flawed/bp-every-20-min.kap', 'adversarial', '4'],
  ])('simulate --out, then replay %s (%s): identical re-run, the saved trace\'s verdicts', async (file, model, seed) => {
    const trace = join(tmp, `${model}-${seed}.jsonl`);
    const sim = await kapspec(['simulate', file, '--model', model, '--seed', seed, '--out', trace]);
    expect(sim.code).toBe(0);
    const saved = readFileSync(trace, 'utf8');

    const r = await kapspec(['replay', trace, file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stdout).toContain(`The re-run is identical to the saved trace (${saved.split('\n').length - 1} lines).`);
    expect(readFileSync(trace, 'utf8')).toBe(saved); // replay never rewrites the trace

    const parsed = parseTrace(saved);
    if ('error' in parsed) throw new Error(parsed.error.message);
    const ir = compile(readFileSync(join(ROOT, file), 'utf8'), { file }).ir!;
    const verdicts = checkProperties(ir, parsed.trace.header.session, parsed.trace);
    for (const v of verdicts) expect(r.stdout).toMatch(new RegExp(`^${WORD[v.status]} +${v.name.replace('.', '\\.')} +1 run `, 'm'));
    expect(r.code).toBe(verdicts.some((v) => v.status === 'failed') ? 1 : 0);
  });

  it('the same protocol under another path: accepted, and every verdict and vignette names and quotes the file given', async () => {
    const file = 'examples/flawed/bp-every-20-min.kap';
    const trace = join(tmp, 'moved.jsonl');
    expect((await kapspec(['simulate', file, '--model', 'adversarial', '--seed', '4', '--out', trace])).code).toBe(0);
    const copy = join(tmp, 'copy.kap');
    writeFileSync(copy, readFileSync(join(ROOT, file), 'utf8'));
    const r = await kapspec(['replay', trace, copy]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/The re-run is identical to the saved trace/);
    const labels = [...r.stdout.matchAll(/(\S+\.kap):\d+/g)].map((m) => m[1]);
    expect(labels.length).toBeGreaterThanOrEqual(7);
    expect(new Set(labels)).toEqual(new Set([copy]));
  });

  it('a trace cut short: re-run up to its last record, said so; what it cannot decide is inconclusive, never a failure', async () => {
    const file = 'docs/snippets/tutorial-5.kap';
    const trace = join(tmp, 'whole.jsonl');
    expect((await kapspec(['simulate', file, '--seed', '3', '--out', trace])).code).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    expect(lines.at(-2)).toMatch(/"type":"end"/);
    for (const n of [2, 20, 50, 200, lines.length - 2]) {
      const cut = join(tmp, `cut-${n}.jsonl`);
      writeFileSync(cut, lines.slice(0, n).join('\n') + '\n');
      const last = JSON.parse(lines[n - 1]!) as { t?: number };
      const r = await kapspec(['replay', cut, file]);
      expect(r.stderr, `first ${n} lines`).toBe('');
      expect(r.stdout).toContain(`The saved trace is incomplete: it has no end record and stops at t+${last.t ?? 0} min (${n} lines).`);
      expect(r.stdout).toContain('The re-run agrees with all of the saved trace.');
      // Cut before the outcome record, whether the session ends is undecided; with it, it is decided.
      expect(r.stdout).toMatch(n < lines.length - 2 ? /^INCONCLUSIVE +builtin\.terminates +1 run /m : /^PASS +builtin\.terminates +1 run /m);
      expect(r.stdout).not.toMatch(/^FAIL /m);
      expect(r.code).toBe(0);
    }
  });

  it('an edited trace: the re-run of its inputs, and a note showing the first differing line as saved and as re-run', async () => {
    const file = 'docs/snippets/tutorial-5.kap';
    const trace = join(tmp, 'to-edit.jsonl');
    expect((await kapspec(['simulate', file, '--seed', '3', '--out', trace])).code).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const i = lines.findIndex((l) => l.includes('"type":"observe"') && l.includes('"sbp":'));
    expect(i).toBeGreaterThan(0);
    const edited = join(tmp, 'edited.jsonl');
    writeFileSync(edited, [...lines.slice(0, i), lines[i]!.replace(/"sbp":\d+/, '"sbp":250'), ...lines.slice(i + 1)].join('\n'));
    const r = await kapspec(['replay', edited, file]);
    expect(r.stdout).toMatch(/The re-run differs from the saved trace from line \d+ on; the verdicts below are the re-run's\./);
    expect(r.stderr).toMatch(/^kapspec replay: note: the re-run differs from .*edited\.jsonl at line \d+: the trace was edited since it was made, or kapspec's simulator changed\n  saved:  \{.*\n  re-run: \{.*\n$/);
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a corrupted trace: exit 2, one line naming the line and field, no stack', async () => {
    const trace = join(tmp, 'good.jsonl');
    expect((await kapspec(['simulate', 'examples/individual-iv.kap', '--out', trace])).code).toBe(0);
    const lines = readFileSync(trace, 'utf8').split('\n');
    const cases: [string, RegExp][] = [
      [lines.slice(0, 20).join('\n') + '\n' + lines[20]!.slice(0, 25), /line 21: not valid JSON/],
      [[...lines.slice(0, 5), lines[5]!.replace(/"values":\{"/, '"values":{"x":"high","'), ...lines.slice(6)].join('\n'), /line 6, field "values\.x": expected a number, got "high"/],
    ];
    for (const [text, message] of cases) {
      const bad = join(tmp, 'bad.jsonl');
      writeFileSync(bad, text);
      const r = await kapspec(['replay', bad, 'examples/individual-iv.kap']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^kapspec replay: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid trace: `));
      expect(r.stderr).toMatch(message);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).not.toMatch(STACK);
    }
  });

  it('a trace replayed against a modified protocol: exit 2 with the message', async () => {
    const kap = join(tmp, 'iv.kap');
    writeFileSync(kap, readFileSync(join(ROOT, 'examples/individual-iv.kap'), 'utf8'));
    const trace = join(tmp, 'iv-before.jsonl');
    expect((await kapspec(['simulate', kap, '--out', trace])).code).toBe(0);
    writeFileSync(kap, readFileSync(kap, 'utf8').replace('monitor sbp, dbp, hr every 10 min', 'monitor sbp, dbp, hr every 5 min'));
    const r = await kapspec(['replay', trace, kap]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('kapspec replay: the protocol changed since this trace was made: ');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a missing trace: exit 2', async () => {
    const r = await kapspec(['replay', 'nope.jsonl', 'examples/individual-iv.kap']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'kapspec replay: cannot read nope.jsonl: no such file\n' });
  });
});

/** The one line of `text` that matches `re` (the test fails if there is not exactly one). */
function onlyLine(text: string, re: RegExp): string {
  const found = text.split('\n').filter((l) => re.test(l));
  expect(found, `one line matching ${re} in:\n${text}`).toHaveLength(1);
  return found[0]!;
}

describe('test, then replay of its counterexample (real binary): the same participant and seed', () => {
  it.each([
    // Calibrated: the run has a seed of its own (not --seed), and a profile with fractional age and baselines.
    ['docs/snippets/tutorial-2.kap', 'calibrated'],
    // Adversarial: the run is the search's seed and a shrunk generated value.
    ['examples/flawed/bp-every-20-min.kap', 'adversarial'],
  ])('%s (%s)', async (file, model) => {
    const cwd = mkdtempSync(join(tmp, 'pair-'));
    mkdirSync(join(cwd, dirname(file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(cwd, file));

    const t = await kapspec(['test', file, '--model', model, '--property', 'responsive', '--runs', '50'], { cwd });
    expect(t.stderr).toBe('');
    expect(t.code).toBe(1);
    const replayCommand = /^Replay: kapspec replay (\S+) (\S+)$/m.exec(t.stdout);
    expect(replayCommand).not.toBeNull();
    const r = await kapspec(['replay', replayCommand![1]!, replayCommand![2]!], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('The re-run is identical to the saved trace');

    const parsed = parseTrace(readFileSync(join(cwd, replayCommand![1]!), 'utf8'));
    if ('error' in parsed) throw new Error(parsed.error.message);
    const h = parsed.trace.header;

    // The participant, word for word, and the protocol line naming the trace's seed.
    const participant = /^Participant p1: /;
    expect(onlyLine(r.stdout, participant)).toBe(onlyLine(t.stdout, participant));
    const protocolLine = `Protocol "${h.protocol}", session ${h.session}; seed ${h.seed}, ${h.model} model.`;
    expect(onlyLine(t.stdout, /^Protocol "/)).toBe(protocolLine);
    expect(onlyLine(r.stdout, /^Protocol "/)).toBe(protocolLine);

    // The seed line: the trace's seed and model in both; `test` adds the search it came from.
    const seed = /^Seed \d+, /;
    const replaySeed = onlyLine(r.stdout, seed);
    const testSeed = onlyLine(t.stdout, seed);
    expect(replaySeed).toBe(`Seed ${h.seed}, ${h.model} model.`);
    expect(testSeed.startsWith(`${replaySeed.slice(0, -1)}: run `)).toBe(true);
    expect(testSeed).toMatch(h.seed === 1 ? /: run \d+[,( ]/ : /: run \d+ of the search from seed 1 /);

    // Numbers as `simulate` prints them: a calibrated run's seed reproduces its participant there.
    for (const n of onlyLine(t.stdout, participant).match(/\d+\.\d+/g) ?? []) expect(n).toMatch(/^\d+\.\d{1,2}$/);
    if (model === 'calibrated') {
      const sim = await kapspec(['simulate', file, '--model', model, '--seed', String(h.seed)], { cwd });
      expect(sim.code).toBe(0);
      expect(`Participant ${sim.stdout.split('\n')[1]}`).toBe(onlyLine(t.stdout, participant));
    }
  });
});
