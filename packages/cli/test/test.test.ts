import { BUILTIN_NAMES, parseTrace } from '@kapspec/simulator';
import { describe, expect, it, vi } from 'vitest';
import { counterexamplePath } from '../src/commands/test.js';
import { xmlEscape } from '../src/junit.js';
import { ANSI, run } from './memory-io.js';
import { SMALL, example } from './sim-fixtures.js';

// The runtime simulates about 20 sessions a second today: searches take seconds.
vi.setConfig({ testTimeout: 120_000 });

const FLAWED = 'examples/flawed/bp-every-20-min.kap';
const files = { [FLAWED]: example(FLAWED), 'small.kap': SMALL };
// Enough adversarial runs to find the 20-minute flaw with seed 1 (the search is deterministic).
const RUNS = ['--runs', '50'];
const TRACE = '.kapspec/counterexamples/bp-every-20-min/responsive-1.jsonl';

describe('kapspec test (text)', () => {
  it('a protocol with errors: its diagnostics, nothing tested, exit 2 (an error, not a failed property)', async () => {
    const r = await run(['test', 'bad.kap'], { files: { 'bad.kap': `${SMALL}oops\n` } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[');
    expect(r.stderr).toMatch(/kapspec test: bad\.kap has errors \(.*\); nothing tested\n$/);
  });

  it('a failing property: its line, the vignette, the seed, the trace and the replay command; exit 1', async () => {
    const r = await run(['test', FLAWED, ...RUNS], { files });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^Testing "Flawed: blood pressure every 20 minutes", session dosing: \d+ adversarial runs, seed 1\.$/);
    expect(r.stdout).toMatch(/^FAIL  responsive +\d+ runs  examples\/flawed\/bp-every-20-min\.kap:\d+$/m);
    for (const b of BUILTIN_NAMES) expect(r.stdout).toMatch(new RegExp(`^(PASS|FAIL|INCONCLUSIVE) +${b.replace('.', '\\.')} `, 'm'));
    expect(r.stdout).toContain('FAILED responsive (assert)');
    expect(r.stdout).toContain('Minute by minute');
    expect(r.stdout).toMatch(/^Seed 1, adversarial model: run \d+(, shrunk in \d+ steps?)? \(failed in \d+ of \d+ runs\)\.$/m);
    expect(r.stdout).toContain(`\nTrace: ${TRACE}\n`);
    expect(r.stdout).toContain(`\nReplay: kapspec replay ${TRACE} ${FLAWED}\n`);
    expect(r.stdout).toMatch(/\n\d+ properties: \d+ passed, [1-9]\d* failed.*\(\d+ runs, seed 1\)\.\n$/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('writes the counterexample trace, and the replay command reproduces the failure', async () => {
    const r = await run(['test', FLAWED, ...RUNS], { files });
    const path = `/work/${TRACE}`;
    expect(r.memory.dirs.has('/work/.kapspec/counterexamples/bp-every-20-min')).toBe(true);
    expect(r.memory.writes).toContain(path);
    const text = r.memory.files.get(path)!;
    expect('trace' in parseTrace(text)).toBe(true);
    const replay = await run(['replay', TRACE, FLAWED], { files: { ...files, [TRACE]: text } });
    expect(replay.stderr).toBe('');
    expect(replay.code).toBe(1);
    expect(replay.stdout).toContain('The re-run is identical to the saved trace');
    expect(replay.stdout).toMatch(/^FAIL  responsive +1 run /m);
  });

  it('the same seed and runs give the same report', async () => {
    const a = await run(['test', FLAWED, ...RUNS, '--seed', '3'], { files });
    const b = await run(['test', FLAWED, ...RUNS, '--seed', '3'], { files });
    expect(b.stdout).toBe(a.stdout);
  });

  it('--property checks only that property', async () => {
    const r = await run(['test', 'small.kap', '--runs', '3', '--property', 'builtin.dose-limits'], { files });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS  builtin\.dose-limits +3 runs  small\.kap:\d+$/m);
    expect(r.stdout).not.toContain('responsive');
    expect(r.stdout).toMatch(/1 property: 1 passed, 0 failed/);
  });

  it('an unknown --property: exit 2 listing the names', async () => {
    const r = await run(['test', 'small.kap', '--property', 'responsiv'], { files });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kapspec test: no property \`responsiv\` in session dosing of small.kap; its properties are responsive, ${BUILTIN_NAMES.join(', ')}\n`);
  });

  it('a counterexample that cannot be written: exit 2', async () => {
    const r = await run(['test', FLAWED, ...RUNS], { files, unwritable: ['.kapspec/counterexamples/bp-every-20-min'] });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('kapspec test: cannot write the counterexample under .kapspec/counterexamples/bp-every-20-min: permission denied\n');
  });

  it.each([
    [['--runs', '0'], "option '--runs <n>' argument '0' is invalid. expected a whole number of at least 1"],
    [['--seed', '1.5'], "option '--seed <n>' argument '1.5' is invalid. expected an integer from 0 to 4294967295"],
    [['--format', 'xml'], "option '--format <format>' argument 'xml' is invalid. Allowed choices are text, json, junit."],
  ])('a bad option %j: exit 2', async (args, message) => {
    const r = await run(['test', 'small.kap', ...args], { files });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`kapspec test: ${message}\nRun \`kapspec test --help\` for usage.\n`);
  });

  it('an unknown session lists the sessions', async () => {
    const r = await run(['test', 'small.kap', '--session', 'x'], { files });
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'kapspec test: small.kap has no session `x`; its sessions are `dosing`\n' });
  });

  it('--help: a real example, inconclusive does not fail, exit codes', async () => {
    const r = await run(['test', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Examples:\n  $ kapspec test examples/individual-iv.kap');
    expect(r.stdout).toMatch(/inconclusive[^.]*does not fail/i);
    expect(r.stdout).toContain('Exit codes: 0');
  });

  it('counterexample paths are file-safe', () => {
    expect(counterexamplePath('examples/group-im.kap', 'builtin.staffing', 7)).toBe('.kapspec/counterexamples/group-im/builtin.staffing-7.jsonl');
    expect(counterexamplePath('x/a b.kap', 'a/b c', 1)).toBe('.kapspec/counterexamples/a-b/a-b-c-1.jsonl');
    // Two protocols with a property of the same name and seed keep their own traces.
    expect(counterexamplePath('a/p.kap', 'responsive', 1)).not.toBe(counterexamplePath('b/q.kap', 'responsive', 1));
  });
});

describe('kapspec test --format json', () => {
  it('exactly {"properties":[{name,status,runs,seed,counterexample?,replay?}]} on one line', async () => {
    const r = await run(['test', FLAWED, ...RUNS, '--format', 'json'], { files });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().includes('\n')).toBe(false);
    const json = JSON.parse(r.stdout) as { properties: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(['properties']);
    for (const p of json.properties) {
      expect(Object.keys(p).slice(0, 4)).toEqual(['name', 'status', 'runs', 'seed']);
      expect(['passed', 'failed', 'inconclusive']).toContain(p['status']);
      expect(p['seed']).toBe(1);
      if (p['status'] === 'failed') {
        expect(Object.keys(p)).toEqual(['name', 'status', 'runs', 'seed', 'counterexample', 'replay']);
        expect(p['counterexample']).toMatchObject({ trace: expect.stringMatching(/^\.kapspec\/counterexamples\//), message: expect.any(String), vignette: expect.stringContaining('Minute by minute') });
        expect(p['replay']).toMatch(/^kapspec replay \.kapspec\/counterexamples\/\S+ examples\/flawed\/bp-every-20-min\.kap$/);
      } else expect(Object.keys(p)).toEqual(['name', 'status', 'runs', 'seed']);
    }
    expect(json.properties.find((p) => p['name'] === 'responsive')?.['status']).toBe('failed');
  });
});

describe('kapspec test --format junit', () => {
  it('a testsuite for the session, a testcase per property, a failure with the vignette', async () => {
    const r = await run(['test', FLAWED, ...RUNS, '--format', 'junit'], { files });
    expect(r.code).toBe(1);
    const xml = r.stdout;
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toContain('<testsuite name="Flawed: blood pressure every 20 minutes: session dosing"');
    expect(xml.match(/<testcase /g)).toHaveLength(1 + BUILTIN_NAMES.length);
    expect(xml).toMatch(/<testcase name="responsive" classname="[^"]+" file="examples\/flawed\/bp-every-20-min\.kap" line="\d+">\n {6}<failure message="[^"]+" type="assert">FAILED responsive \(assert\)/);
    expect(xml).toContain('Replay: kapspec replay .kapspec/counterexamples/bp-every-20-min/responsive-1.jsonl examples/flawed/bp-every-20-min.kap');
    expect(wellFormed(xml)).toBe(true);
  });

  it('escapes what XML cannot hold as text', () => {
    expect(xmlEscape(`a < b && "c" > 'd'\u0001`)).toBe('a &lt; b &amp;&amp; &quot;c&quot; &gt; &apos;d&apos;');
  });
});

/** Tags balance and every `&` starts an entity: enough to catch a broken writer. */
function wellFormed(xml: string): boolean {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  if (/&(?!(amp|lt|gt|quot|apos);)/.test(body)) return false;
  const stack: string[] = [];
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w.-]*)((?:\s+[\w.-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0 && !/<(?![/A-Za-z?])/.test(body);
}
