import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, BAD, EXAMPLES, ROOT, SPEC_FIXTURES, STACK, assertBuilt, kapspec } from './helpers/cli.js';

// Each test spawns node; on a loaded 2-core machine a spawn can take seconds.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

/** The repository's .kap files the tests format (always as copies). */
const SOURCES = [...SPEC_FIXTURES, ...EXAMPLES];
/** A copy's name: `spec-group-im.kap`, `examples-group-im.kap` (base names repeat across folders). */
const copyName = (f: string): string => `${basename(dirname(f))}-${basename(f)}`;

let tmp: string;
/** Per source (by copy name): its text and its formatted text as printed by `kapspec fmt <file>`. */
const original = new Map<string, string>();
const formatted = new Map<string, string>();

beforeAll(async () => {
  assertBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'kapspec-e2e-fmt-'));
  const results = await Promise.all(SOURCES.map((f) => kapspec(['fmt', f])));
  results.forEach((r, i) => {
    const f = SOURCES[i]!;
    if (r.code !== 0) throw new Error(`kapspec fmt ${f} failed (${r.code}): ${r.stderr}`);
    original.set(copyName(f), readFileSync(join(ROOT, f), 'utf8'));
    formatted.set(copyName(f), r.stdout);
  });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh directory under tmp holding the given files. */
function dir(name: string, files: Record<string, string>): string {
  const d = join(tmp, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(d, f), text);
  return d;
}
const names = (): string[] => [...original.keys()];
const pick = (m: Map<string, string>): Record<string, string> => Object.fromEntries(m);

describe('kapspec fmt (real binary)', () => {
  it('prints the formatted text of one file on stdout, exit 0, and is a no-op the second time', async () => {
    const d = dir('print', pick(formatted));
    const results = await Promise.all(names().map((f) => kapspec(['fmt', f], { cwd: d })));
    results.forEach((r, i) => expect(r).toEqual({ code: 0, stdout: formatted.get(names()[i]!), stderr: '' }));
  });

  it('several files: each after a `// ==> file <==` header', async () => {
    const d = dir('print-many', pick(original));
    const r = await kapspec(['fmt', ...names()], { cwd: d });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(names().map((f) => `// ==> ${f} <==\n${formatted.get(f)}`).join('\n'));
  });

  it('--check on formatted files: silent, exit 0', async () => {
    const d = dir('check-clean', pick(formatted));
    const r = await kapspec(['fmt', '--check', ...names()], { cwd: d });
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('--check on unformatted files: lists them, exit 1, changes nothing', async () => {
    const d = dir('check-dirty', pick(original));
    const changed = names().filter((f) => original.get(f) !== formatted.get(f));
    expect(changed.length).toBeGreaterThan(0); // the spec fixtures are hand-aligned, not canonical
    const r = await kapspec(['fmt', '--check', ...names()], { cwd: d });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(changed.map((f) => `${f}\n`).join(''));
    expect(r.stderr).toMatch(/^\d+ files? needs? formatting; run `kapspec fmt --write` to fix\n$/);
    for (const f of names()) expect(readFileSync(join(d, f), 'utf8')).toBe(original.get(f));
  });

  it('--write on temporary copies: rewrites the changed files in place, lists them; a second run is a no-op', async () => {
    const d = join(tmp, 'write');
    mkdirSync(d);
    for (const f of SOURCES) copyFileSync(join(ROOT, f), join(d, copyName(f)));
    const changed = names().filter((f) => original.get(f) !== formatted.get(f));
    const r = await kapspec(['fmt', '--write', ...names()], { cwd: d });
    expect(r).toEqual({ code: 0, stdout: changed.map((f) => `${f}\n`).join(''), stderr: '' });
    for (const f of names()) expect(readFileSync(join(d, f), 'utf8')).toBe(formatted.get(f));
    expect(readdirSync(d).sort()).toEqual(names().sort()); // no temporary files left
    const again = await kapspec(['fmt', '--write', ...names()], { cwd: d });
    expect(again).toEqual({ code: 0, stdout: '', stderr: '' });
    const check = await kapspec(['fmt', '--check', ...names()], { cwd: d });
    expect(check).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('--write with an absolute path lists it as given', async () => {
    const [f] = names().filter((n) => original.get(n) !== formatted.get(n));
    const d = dir('write-abs', { [f!]: original.get(f!)! });
    const r = await kapspec(['fmt', '--write', join(d, f!)]);
    expect(r).toEqual({ code: 0, stdout: `${join(d, f!)}\n`, stderr: '' });
  });

  it('a file with syntax errors: not formatted, diagnostics on stderr, exit 1, file untouched', async () => {
    const d = dir('bad', { 'bad.kap': BAD });
    const cases = [['fmt', 'bad.kap'], ['fmt', '--check', 'bad.kap'], ['fmt', '--write', 'bad.kap']];
    const results = await Promise.all(cases.map((args) => kapspec(args, { cwd: d })));
    for (const [i, r] of results.entries()) {
      expect(r.code, cases[i]!.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('--> bad.kap:5:59');
      expect(r.stderr).toContain('kapspec: bad.kap has syntax errors; not formatted\n');
      expect(r.stderr).not.toMatch(ANSI);
      expect(readFileSync(join(d, 'bad.kap'), 'utf8')).toBe(BAD);
    }
  });

  it('a missing file: one line on stderr, exit 2, other files still processed', async () => {
    const [f] = names();
    const d = dir('missing', { [f!]: formatted.get(f!)! });
    const r = await kapspec(['fmt', '--check', 'nope.kap', f!], { cwd: d });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'kapspec: cannot read nope.kap: no such file\n' });
  });

  it('usage errors: exit 2, one line and a pointer to --help, no stack', async () => {
    const r = await kapspec(['fmt', '--wirte', 'a.kap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("kapspec fmt: unknown option '--wirte' (did you mean --write?)\nRun `kapspec fmt --help` for usage.\n");
    const none = await kapspec(['fmt', '--check']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe("kapspec fmt: missing required argument 'files'\nRun `kapspec fmt --help` for usage.\n");
    expect(none.stderr).not.toMatch(STACK);
  });

  it('--help explains the multi-file output and shows an example', async () => {
    const r = await kapspec(['fmt', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('// ==> file <==');
    expect(r.stdout).toContain('$ kapspec fmt --check examples/*.kap');
  });
});
