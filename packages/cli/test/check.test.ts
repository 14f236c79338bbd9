import { analyze, renderDiagnostics, summarize, type Diagnostic } from '@kapspec/language';
import { describe, expect, it } from 'vitest';
import { BAD, CLEAN, SPEC } from './fixtures.js';
import { ANSI, run } from './memory-io.js';

const specFiles = Object.keys(SPEC);
const [first] = specFiles as [string, ...string[]];

// Expected output is built from the language package itself, so these tests
// pin the CLI's layout, not the checker's current findings.
const diags = (text: string): readonly Diagnostic[] => analyze(text).diagnostics;
/** What `check` prints for one file (without the blank line before it). */
function block(file: string, text: string): string {
  const d = diags(text);
  const rendered = d.length > 0 ? `${renderDiagnostics(d, text, { file, color: false })}\n\n` : '';
  return `${rendered}${file}: ${summarize(d)}\n`;
}

it('the spec fixtures have no errors', () => {
  for (const text of Object.values(SPEC)) expect(diags(text).filter((d) => d.severity === 'error')).toEqual([]);
});

describe('kapspec check (text)', () => {
  it('a file without errors: its warnings (if any) and one summary line, exit 0', async () => {
    const r = await run(['check', first], { files: SPEC });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(block(first, SPEC[first]!));
    expect(r.stdout).toMatch(/: 0 errors, \d+ warnings?\n$/);
  });

  it('a file with no diagnostics at all: just the summary line', async () => {
    const r = await run(['check', 'p.kap'], { files: { 'p.kap': CLEAN } });
    expect(r).toMatchObject({ code: 0, stdout: 'p.kap: 0 errors, 0 warnings\n', stderr: '' });
  });

  it('warnings only: exit 0', async () => {
    const withWarnings = Object.entries(SPEC).filter(([, t]) => diags(t).length > 0);
    for (const [file] of withWarnings) {
      const r = await run(['check', file], { files: SPEC });
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('warning[');
    }
  });

  it('several files: a block each and a total', async () => {
    const r = await run(['check', ...specFiles], { files: SPEC });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const all = specFiles.flatMap((f) => diags(SPEC[f]!));
    expect(r.stdout).toBe(
      specFiles.map((f) => block(f, SPEC[f]!)).join('\n') + `checked ${specFiles.length} files: ${summarize(all)}\n`,
    );
  });

  it('a file with errors: every error with file:line:col, excerpt and hint; exit 1', async () => {
    const r = await run(['check', 'protocols/bad.kap'], { files: { 'protocols/bad.kap': BAD } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('error[KAP1009]');
    expect(r.stdout).toContain('--> protocols/bad.kap:5:11');
    expect(r.stdout).toContain('error[KAP1001]');
    expect(r.stdout).toContain('--> protocols/bad.kap:5:59');
    expect(r.stdout).toContain('error[KAP1003]');
    expect(r.stdout).toContain('--> protocols/bad.kap:6:3');
    expect(r.stdout).toContain('5 |   session s {');
    expect(r.stdout).toContain('= hint:');
    expect(r.stdout).toMatch(/\n\nprotocols\/bad\.kap: [1-9]\d* errors?, \d+ warnings?\n$/);
  });

  it('the path is shown as given on the command line', async () => {
    const r = await run(['check', './x/../bad.kap'], { files: { 'bad.kap': BAD } });
    expect(r.stdout).toContain('--> ./x/../bad.kap:5:11');
    expect(r.stdout).toContain('\n./x/../bad.kap: ');
  });

  it('errors in one of several files: exit 1, blocks separated by blank lines', async () => {
    const files = { 'clean.kap': CLEAN, 'bad.kap': BAD };
    const r = await run(['check', 'clean.kap', 'bad.kap', 'clean.kap'], { files });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(
      `clean.kap: 0 errors, 0 warnings\n\n${block('bad.kap', BAD)}clean.kap: 0 errors, 0 warnings\n` +
        `checked 3 files: ${summarize(diags(BAD))}\n`,
    );
    expect(r.stdout).toMatch(/\n\nbad\.kap: [1-9]\d* errors?, \d+ warnings?\n/);
    expect(r.stdout).toMatch(/^checked 3 files: [1-9]\d* errors?, \d+ warnings?$/m);
  });

  it('a missing file: one line on stderr, no stack, exit 2', async () => {
    const r = await run(['check', 'examples/nope.kap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('kapspec: cannot read examples/nope.kap: no such file\n');
  });

  it('a directory and an unreadable file', async () => {
    const r = await run(['check', 'examples', 'secret.kap'], { dirs: ['examples'], unreadable: ['secret.kap'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'kapspec: cannot read examples: is a directory\nkapspec: cannot read secret.kap: permission denied\n',
    );
  });

  it('missing and fine files: reports the missing one, checks the others, exit 2', async () => {
    const r = await run(['check', 'nope.kap', 'bad.kap', first], { files: { ...SPEC, 'bad.kap': BAD } });
    expect(r.code).toBe(2); // I/O beats findings
    expect(r.stderr).toBe('kapspec: cannot read nope.kap: no such file\n');
    expect(r.stdout).toContain('error[KAP1009]');
    expect(r.stdout).toMatch(new RegExp(`\\n${first.replace(/[.]/g, '\\.')}: 0 errors, \\d+ warnings?\\n`));
    expect(r.stdout).toMatch(/^checked 2 of 3 files: .* \(1 could not be read\)$/m);
  });

  it('colour only on a TTY, never with NO_COLOR', async () => {
    const files = { 'bad.kap': BAD };
    const tty = await run(['check', 'bad.kap'], { files, stdoutTTY: true });
    expect(tty.stdout).toMatch(ANSI);
    expect(tty.stdout).toContain('\u001b[31merror[KAP1009]\u001b[0m');
    const pipe = await run(['check', 'bad.kap'], { files });
    expect(pipe.stdout).not.toMatch(ANSI);
    for (const value of ['1', '']) {
      const noColor = await run(['check', 'bad.kap'], { files, stdoutTTY: true, env: { NO_COLOR: value } });
      expect(noColor.stdout).not.toMatch(ANSI);
      expect(noColor.stdout).toBe(pipe.stdout);
    }
    // stderr being a TTY does not colour stdout
    const errTty = await run(['check', 'bad.kap'], { files, stderrTTY: true });
    expect(errTty.stdout).not.toMatch(ANSI);
  });
});

describe('kapspec check --format json', () => {
  it('files without errors: exactly {"diagnostics":[...warnings]}, exit 0', async () => {
    const r = await run(['check', '--format', 'json', ...specFiles], { files: SPEC });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const parsed = JSON.parse(r.stdout) as { diagnostics: { severity: string }[] };
    expect(parsed.diagnostics.every((d) => d.severity === 'warning')).toBe(true);
    expect(parsed.diagnostics).toHaveLength(specFiles.flatMap((f) => diags(SPEC[f]!)).length);
  });

  it('nothing to report: exactly {"diagnostics":[]}', async () => {
    const r = await run(['check', '--format', 'json', 'p.kap', 'q.kap'], { files: { 'p.kap': CLEAN, 'q.kap': CLEAN } });
    expect(r).toMatchObject({ code: 0, stdout: '{"diagnostics":[]}\n', stderr: '' });
  });

  it('errors: the DESIGN.md shape, 1-based positions, file as given; exit 1', async () => {
    const r = await run(['check', 'bad.kap', '--format=json'], { files: { 'bad.kap': BAD } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['diagnostics']);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    for (const d of parsed.diagnostics) {
      expect(d).toMatchObject({
        severity: expect.stringMatching(/^(error|warning)$/),
        code: expect.stringMatching(/^KAP\d{4}$/),
        message: expect.any(String),
        file: 'bad.kap',
        range: {
          start: { line: expect.any(Number), column: expect.any(Number) },
          end: { line: expect.any(Number), column: expect.any(Number) },
        },
      });
    }
    expect(parsed.diagnostics).toContainEqual(
      expect.objectContaining({
        code: 'KAP1009',
        range: { start: { line: 5, column: 11 }, end: { line: 5, column: 12 } },
        hint: expect.any(String),
      }),
    );
    expect(parsed.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'KAP1001', range: { start: { line: 5, column: 59 }, end: { line: 5, column: 60 } } }),
    );
    expect(parsed.diagnostics).toContainEqual(
      expect.objectContaining({ code: 'KAP1003', range: { start: { line: 6, column: 3 }, end: { line: 6, column: 7 } } }),
    );
  });

  it('all files in one array, in command-line order', async () => {
    const r = await run(['check', '--format', 'json', 'a.kap', 'b.kap'], { files: { 'a.kap': BAD, 'b.kap': BAD } });
    const files = (JSON.parse(r.stdout) as { diagnostics: { file: string }[] }).diagnostics.map((d) => d.file);
    const firstB = files.indexOf('b.kap');
    expect(firstB).toBeGreaterThan(0);
    expect(files.slice(0, firstB).every((f) => f === 'a.kap')).toBe(true);
    expect(files.slice(firstB).every((f) => f === 'b.kap')).toBe(true);
  });

  it('a missing file: message on stderr, the JSON of the others on stdout, exit 2', async () => {
    const r = await run(['check', '--format', 'json', 'nope.kap', 'bad.kap'], { files: { 'bad.kap': BAD } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kapspec: cannot read nope.kap: no such file\n');
    const parsed = JSON.parse(r.stdout) as { diagnostics: { file: string }[] };
    expect(parsed.diagnostics.length).toBeGreaterThanOrEqual(3);
  });

  it('no colour in JSON, even on a TTY', async () => {
    const r = await run(['check', '--format', 'json', 'bad.kap'], { files: { 'bad.kap': BAD }, stdoutTTY: true });
    expect(r.stdout).not.toMatch(ANSI);
  });
});
