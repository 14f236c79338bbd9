import { format } from '@kapspec/language';
import { describe, expect, it } from 'vitest';
import { BAD, SPEC } from './fixtures.js';
import { ANSI, run } from './memory-io.js';

/** The spec fixtures as written, and their canonical form. */
const raw = SPEC;
const canonical: Record<string, string> = Object.fromEntries(
  Object.entries(SPEC).map(([f, t]) => {
    const text = format(t).text;
    if (text === undefined) throw new Error(`${f} does not format`);
    return [f, text];
  }),
);
const names = Object.keys(SPEC);
const [first] = names as [string, ...string[]];
const unformatted = names.filter((f) => raw[f] !== canonical[f]);

describe('kapspec fmt (print)', () => {
  it('the fixtures include at least one unformatted file', () => {
    expect(unformatted.length).toBeGreaterThan(0);
  });

  it('one file: exactly the formatted text on stdout, exit 0, nothing written', async () => {
    const r = await run(['fmt', first], { files: raw });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(canonical[first]);
    expect(r.memory.writes).toEqual([]);
  });

  it('formatting formatted text prints it unchanged', async () => {
    const r = await run(['fmt', first], { files: canonical });
    expect(r.stdout).toBe(canonical[first]);
  });

  it('several files: a `// ==> file <==` header before each, blank line between', async () => {
    const r = await run(['fmt', ...names], { files: raw });
    expect(r.code).toBe(0);
    const expected = names.map((f) => `// ==> ${f} <==\n${canonical[f]}`).join('\n');
    expect(r.stdout).toBe(expected);
  });

  it('a file with syntax errors: diagnostics on stderr, nothing on stdout, exit 1', async () => {
    const r = await run(['fmt', 'bad.kap'], { files: { 'bad.kap': BAD } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[KAP1001]');
    expect(r.stderr).toContain('--> bad.kap:5:59');
    expect(r.stderr).toMatch(/\n\nkapspec: bad\.kap has syntax errors; not formatted\n$/);
    expect(r.stderr).not.toMatch(ANSI);
  });

  it('syntax-error diagnostics are coloured only when stderr is a TTY without NO_COLOR', async () => {
    const files = { 'bad.kap': BAD };
    expect((await run(['fmt', 'bad.kap'], { files, stderrTTY: true })).stderr).toMatch(ANSI);
    expect((await run(['fmt', 'bad.kap'], { files, stdoutTTY: true })).stderr).not.toMatch(ANSI);
    expect((await run(['fmt', 'bad.kap'], { files, stderrTTY: true, env: { NO_COLOR: '1' } })).stderr).not.toMatch(ANSI);
  });

  it('a missing file among good ones: reported, the others printed, exit 2', async () => {
    const r = await run(['fmt', 'nope.kap', first], { files: raw });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kapspec: cannot read nope.kap: no such file\n');
    expect(r.stdout).toBe(`// ==> ${first} <==\n${canonical[first]}`);
  });
});

describe('kapspec fmt --check', () => {
  it('formatted files: no output, exit 0', async () => {
    const r = await run(['fmt', '--check', ...names], { files: canonical });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('unformatted files: listed on stdout, a hint on stderr, exit 1, nothing written', async () => {
    const r = await run(['fmt', '--check', ...names], { files: raw });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(unformatted.map((f) => `${f}\n`).join(''));
    expect(r.stderr).toMatch(/^\d+ files? needs? formatting; run `kapspec fmt --write` to fix\n$/);
    expect(r.memory.writes).toEqual([]);
  });

  it('a syntax error is a finding too (exit 1) and the file is not listed', async () => {
    const r = await run(['fmt', '--check', 'bad.kap', first], { files: { ...canonical, 'bad.kap': BAD } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('kapspec: bad.kap has syntax errors; not formatted');
  });

  it('an I/O error wins over findings: exit 2', async () => {
    const r = await run(['fmt', '--check', 'gone.kap', ...names], { files: raw });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe(unformatted.map((f) => `${f}\n`).join(''));
    expect(r.stderr).toContain('kapspec: cannot read gone.kap: no such file\n');
  });
});

describe('kapspec fmt --write', () => {
  it('rewrites only the changed files, lists them, exit 0', async () => {
    const files = { ...raw, 'ok.kap': canonical[first]! };
    const r = await run(['fmt', '--write', ...names, 'ok.kap'], { files });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(unformatted.map((f) => `${f}\n`).join(''));
    expect(r.memory.writes).toEqual(unformatted.map((f) => `/work/${f}`));
    for (const f of names) expect(r.memory.files.get(`/work/${f}`)).toBe(canonical[f]);
  });

  it('a second run changes nothing', async () => {
    const once = await run(['fmt', '--write', ...names], { files: raw });
    const again = await run(['fmt', '--write', ...names], {
      files: Object.fromEntries(names.map((f) => [f, once.memory.files.get(`/work/${f}`)!])),
    });
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(again.memory.writes).toEqual([]);
  });

  it('never rewrites a file with syntax errors', async () => {
    const r = await run(['fmt', '--write', 'bad.kap'], { files: { 'bad.kap': BAD } });
    expect(r.code).toBe(1);
    expect(r.memory.writes).toEqual([]);
    expect(r.memory.files.get('/work/bad.kap')).toBe(BAD);
  });

  it('a write failure: one line on stderr, exit 2', async () => {
    const r = await run(['fmt', '--write', unformatted[0]!], { files: raw, unwritable: [unformatted[0]!] });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kapspec: cannot write ${unformatted[0]}: permission denied\n`);
  });

  it('with --check: rewrites, lists, and still exits 1', async () => {
    const r = await run(['fmt', '--write', '--check', ...names], { files: raw });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(unformatted.map((f) => `${f}\n`).join(''));
    expect(r.stderr).toMatch(/^\d+ files? (was|were) reformatted\n$/);
    for (const f of names) expect(r.memory.files.get(`/work/${f}`)).toBe(canonical[f]);
  });
});
