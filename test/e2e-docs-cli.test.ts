/**
 * The command examples in the documentation are real: every ```console block
 * of the documents below is run against the bundled `kapspec` binary and its
 * output and exit code are compared with what the block shows.
 *
 * Block format (docs/cli.md explains it to readers):
 *
 *     ```console
 *     $ kapspec <args>          the command, as typed (a shell line: globs work)
 *     <output lines>            stdout and stderr as `2>&1` interleaves them
 *     …                         optional: the output goes on; only the lines
 *                               above are compared, as a prefix
 *     [exit N]                  the exit code, when it is not 0
 *     ```
 *
 * Each document's blocks run in order in one scratch folder holding copies of
 * `examples/` and `docs/snippets/` under the same relative paths, so a block
 * may use a file an earlier block wrote (a counterexample trace, `--out`), and
 * nothing is written into the repository. No TTY and NO_COLOR=1: the plain
 * output a pipe or a CI log gets.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, ROOT, assertBuilt, sh } from './helpers/cli.js';

// `kapspec test` with 100 adversarial runs takes several seconds; under a full parallel suite, more.
vi.setConfig({ testTimeout: 300_000 });

/** Documents whose ```console blocks are checked. */
export const DOCUMENTS = ['docs/cli.md', 'docs/tutorial.md', 'docs/simulator.md'] as const;

/** Folders copied into each scratch folder (the paths the examples use). */
const FIXTURE_DIRS = ['examples', 'docs/snippets'] as const;

export interface ConsoleExample {
  /** `docs/cli.md:123`: where the block starts. */
  readonly where: string;
  /** The arguments after `kapspec`, as a shell line. */
  readonly args: string;
  /** Output lines shown (without the `…` and `[exit N]` lines). */
  readonly expected: readonly string[];
  /** True when the block is cut with `…`: compare `expected` as a prefix. */
  readonly prefix: boolean;
  readonly exit: number;
}

const FENCE_OPEN = /^```console\s*$/;
const FENCE_CLOSE = /^```\s*$/;
const COMMAND = /^\$ kapspec(?: (.*))?$/;
const EXIT = /^\[exit (\d+)\]$/;
const CUT = '…';

/** Every ```console block of `markdown`; a block that does not follow the format is an error (no unchecked examples). */
export function extractConsoleExamples(markdown: string, file: string): ConsoleExample[] {
  const lines = markdown.split('\n');
  const out: ConsoleExample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!FENCE_OPEN.test(lines[i]!)) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i++; i < lines.length && !FENCE_CLOSE.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${file}:${start}: a console block is not closed`);
    const where = `${file}:${start}`;
    const command = COMMAND.exec(body[0] ?? '');
    if (!command) throw new Error(`${where}: a console block must start with "$ kapspec <args>", got ${JSON.stringify(body[0] ?? '')}`);
    let rest = body.slice(1);
    let exit = 0;
    const last = EXIT.exec(rest[rest.length - 1] ?? '');
    if (last) {
      exit = Number(last[1]);
      if (exit === 0) throw new Error(`${where}: write no [exit 0] line (exit 0 is the default)`);
      rest = rest.slice(0, -1);
    }
    const cut = rest.indexOf(CUT);
    if (cut >= 0 && cut !== rest.length - 1) throw new Error(`${where}: "${CUT}" must be the last output line (before [exit N])`);
    const prefix = cut >= 0;
    if (prefix) rest = rest.slice(0, -1);
    out.push({ where, args: command[1] ?? '', expected: rest, prefix, exit });
  }
  return out;
}

/** A shell word for a path (double-quoted JSON string is valid POSIX sh for plain paths). */
const q = (s: string) => JSON.stringify(s);

describe('documentation examples run as shown (real binary)', () => {
  const scratch: string[] = [];
  afterAll(() => {
    for (const d of scratch) rmSync(d, { recursive: true, force: true });
  });

  it('the checker reads its own format', () => {
    const md = ['text', '```console', '$ kapspec check a.kap', 'a.kap: 1 error, 0 warnings', '[exit 1]', '```', '```console', '$ kapspec fmt a.kap', 'x', '…', '```', '```console', '$ kapspec', '```'].join('\n');
    expect(extractConsoleExamples(md, 'x.md')).toEqual([
      { where: 'x.md:2', args: 'check a.kap', expected: ['a.kap: 1 error, 0 warnings'], prefix: false, exit: 1 },
      { where: 'x.md:7', args: 'fmt a.kap', expected: ['x'], prefix: true, exit: 0 },
      { where: 'x.md:12', args: '', expected: [], prefix: false, exit: 0 },
    ]);
    expect(() => extractConsoleExamples('```console\nls\n```\n', 'y.md')).toThrow(/y\.md:1: a console block must start with/);
  });

  for (const doc of DOCUMENTS) {
    describe(doc, () => {
      const path = join(ROOT, doc);
      const examples = existsSync(path) ? extractConsoleExamples(readFileSync(path, 'utf8'), doc) : [];
      let dir = '';
      beforeAll(() => {
        assertBuilt();
        dir = mkdtempSync(join(tmpdir(), 'kapspec-docs-'));
        scratch.push(dir);
        for (const d of FIXTURE_DIRS) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
      });

      it('exists and has examples', () => {
        expect(existsSync(path)).toBe(true);
        expect(examples.length).toBeGreaterThan(0);
      });

      for (const ex of examples) {
        it(`${ex.where}: $ kapspec ${ex.args}`, async () => {
          const r = await sh(`${q(process.execPath)} ${q(BIN)} ${ex.args} 2>&1`, { cwd: dir, env: { NO_COLOR: '1' } });
          const actual = r.stdout.endsWith('\n') ? r.stdout.slice(0, -1).split('\n') : r.stdout === '' ? [] : r.stdout.split('\n');
          const shown = ex.prefix ? actual.slice(0, ex.expected.length) : actual;
          expect(shown.join('\n'), `output of \`kapspec ${ex.args}\` (${ex.where})${ex.prefix ? ', compared as a prefix' : ''}`).toBe(ex.expected.join('\n'));
          if (ex.prefix) expect(actual.length, `${ex.where}: the output is cut with "…" but has no more lines`).toBeGreaterThan(ex.expected.length);
          expect(r.code, `exit code of \`kapspec ${ex.args}\` (${ex.where})`).toBe(ex.exit);
        });
      }
    });
  }
});
