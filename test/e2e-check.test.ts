import { mkdtempSync, rmSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, BAD, EXAMPLES, SPEC_FIXTURES, STACK, assertBuilt, kapspec, sh, BIN } from './helpers/cli.js';

// Each test spawns node; on a loaded 2-core machine a spawn can take seconds.
vi.setConfig({ testTimeout: 60_000 });

let tmp: string;
let bad: string;
beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'kapspec-e2e-check-'));
  bad = join(tmp, 'bad.kap');
  writeFileSync(bad, BAD);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const { version } = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('kapspec (real binary): program', () => {
  it('--version', async () => {
    expect(await kapspec(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('--help shows the commands and an example', async () => {
    const r = await kapspec(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('check [options] <files...>');
    expect(r.stdout).toContain('fmt [options] <files...>');
    expect(r.stdout).toContain('Examples:\n  $ kapspec check ');
  });

  it('no arguments: usage on stderr, exit 2', async () => {
    const r = await kapspec([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: kapspec /);
  });

  it('unknown command: exit 2, one line and a pointer to --help, no stack', async () => {
    const r = await kapspec(['chek', 'x.kap']);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "kapspec: unknown command 'chek' (did you mean check?)\nRun `kapspec --help` for usage.\n",
    });
  });

  it('unknown option: exit 2, names the command, no stack', async () => {
    const r = await kapspec(['check', '--strict', SPEC_FIXTURES[0]!]);
    expect(r).toEqual({
      code: 2,
      stdout: '',
      stderr: "kapspec check: unknown option '--strict'\nRun `kapspec check --help` for usage.\n",
    });
  });

  it('the examples in every --help are real: they run without a usage error', async () => {
    const commands: string[] = [];
    for (const args of [['--help'], ['check', '--help'], ['fmt', '--help']]) {
      const help = (await kapspec(args)).stdout;
      for (const m of help.matchAll(/^\s+\$ kapspec (.+?)(?:\s{2,}.*)?$/gm)) commands.push(m[1]!);
    }
    expect(commands.length).toBeGreaterThanOrEqual(6);
    const runnable = commands.filter((line) => !line.includes('--write')); // never rewrite the repository
    const results = await Promise.all(
      runnable.map((line) => {
        const cmd = line.replace(/>\s*\S+/, '>/dev/null').replace(/\bprotocol\.kap\b/, 'examples/individual-iv.kap');
        return sh(`"${process.execPath}" "${BIN}" ${cmd}`);
      }),
    );
    results.forEach((r, i) => {
      expect([0, 1], `kapspec ${runnable[i]}\n${r.stderr}`).toContain(r.code);
      expect(r.stderr).not.toContain('Run `kapspec');
    });
  });
});

describe('kapspec check (real binary)', () => {
  it.each(SPEC_FIXTURES)('spec fixture %s: no errors (warnings allowed), exit 0', async (file) => {
    const r = await kapspec(['check', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('error[');
    expect(r.stdout).toMatch(new RegExp(`(^|\\n)${file.replace(/[.]/g, '\\.')}: 0 errors, \\d+ warnings?\\n$`));
    expect(r.code).toBe(0);
  });

  it('every example checks clean (exit 0), with a total line', async () => {
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(3);
    const r = await kapspec(['check', ...EXAMPLES]);
    expect(r.stderr).toBe('');
    for (const f of EXAMPLES) expect(r.stdout).toContain(`${f}: 0 errors, `);
    expect(r.stdout).toMatch(new RegExp(`\\nchecked ${EXAMPLES.length} files: 0 errors, \\d+ warnings?\\n$`));
    expect(r.code).toBe(0);
  });

  it('every example in JSON: no errors', async () => {
    const r = await kapspec(['check', '--format', 'json', ...EXAMPLES]);
    const { diagnostics } = JSON.parse(r.stdout) as { diagnostics: { severity: string }[] };
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('check goes as far as compile: a drug dosed in mg and mg/kg is an error (exit 1), a stage of 40 weeks a warning', async () => {
    const mixed = 'packages/compiler/test/fixtures/diagnostics/KAP4001-inconsistent-dose-units.kap';
    const r = await kapspec(['check', mixed]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^error\[KAP4001\]: /m);
    expect(r.stdout).toMatch(new RegExp(`${mixed.replace(/[.]/g, '\\.')}: 1 error, 0 warnings\n$`));
    const long = 'packages/compiler/test/fixtures/diagnostics/KAP4003-stage-longer-than-a-day.kap';
    const w = await kapspec(['check', long, '--format', 'json']);
    expect(w.code).toBe(0);
    const codes = (JSON.parse(w.stdout) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code);
    expect(codes).toEqual(['KAP4003', 'KAP4003']);
  });

  it('a file with errors (text): each with file:line:col, exit 1, no ANSI off a TTY', async () => {
    const r = await kapspec(['check', 'bad.kap'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('error[KAP1009]');
    expect(r.stdout).toContain('--> bad.kap:5:11');
    expect(r.stdout).toContain('--> bad.kap:5:59');
    expect(r.stdout).toContain('--> bad.kap:6:3');
    expect(r.stdout).toMatch(/\nbad\.kap: [1-9]\d* errors?, \d+ warnings?\n$/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('a file with errors (json): exactly {"diagnostics":[...]} on stdout, exit 1', async () => {
    const r = await kapspec(['check', '--format', 'json', 'bad.kap'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const parsed = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['diagnostics']);
    expect(parsed.diagnostics).toContainEqual(
      expect.objectContaining({
        severity: 'error',
        code: 'KAP1001',
        file: 'bad.kap',
        range: { start: { line: 5, column: 59 }, end: { line: 5, column: 60 } },
      }),
    );
    expect(parsed.diagnostics.map((d) => d['code'])).toEqual(expect.arrayContaining(['KAP1009', 'KAP1001', 'KAP1003']));
  });

  it('a missing file: one line on stderr naming the path, exit 2, no stack', async () => {
    const r = await kapspec(['check', 'examples/nope.kap']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'kapspec: cannot read examples/nope.kap: no such file\n' });
  });

  it('a directory: exit 2', async () => {
    const r = await kapspec(['check', 'examples']);
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'kapspec: cannot read examples: is a directory\n' });
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable file: exit 2', async () => {
    const file = join(tmp, 'secret.kap');
    writeFileSync(file, BAD);
    chmodSync(file, 0o000);
    const r = await kapspec(['check', 'secret.kap'], { cwd: tmp });
    expect(r).toEqual({ code: 2, stdout: '', stderr: 'kapspec: cannot read secret.kap: permission denied\n' });
  });

  it('missing and present files: the others are still checked, exit 2', async () => {
    const r = await kapspec(['check', 'nope.kap', 'bad.kap'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kapspec: cannot read nope.kap: no such file\n');
    expect(r.stdout).toContain('--> bad.kap:5:11');
    expect(r.stdout).toMatch(/checked 1 of 2 files: .*\(1 could not be read\)\n$/);
  });

  it('--format json with a missing file: JSON of the rest on stdout, error on stderr', async () => {
    const r = await kapspec(['check', '--format', 'json', 'nope.kap', 'bad.kap'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('kapspec: cannot read nope.kap: no such file\n');
    expect((JSON.parse(r.stdout) as { diagnostics: unknown[] }).diagnostics.length).toBeGreaterThan(0);
  });

  it('an invalid --format value: exit 2', async () => {
    const r = await kapspec(['check', '--format', 'xml', 'bad.kap'], { cwd: tmp });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^kapspec check: option '--format <format>' argument 'xml' is invalid\..*\nRun `kapspec check --help` for usage\.\n$/);
  });

  it('no user mistake prints a stack trace', async () => {
    const cases = [['check'], ['check', '--nope'], ['check', 'nope.kap'], ['nope'], ['check', tmp], ['fmt', '--wrte', 'x']];
    const results = await Promise.all(cases.map((args) => kapspec(args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i]!.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stdout).not.toMatch(STACK);
    });
  });
});

describe('kapspec check (real binary): files that are not protocols, and one mistake', () => {
  /** 2 KiB of pseudo-random bytes, the same every run. */
  const garbage = (): Buffer => {
    const bytes = Buffer.alloc(2048);
    let x = 12345;
    for (let i = 0; i < bytes.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    return bytes;
  };

  it('random bytes: one error naming where the file stops being text, exit 1, no raw control characters', async () => {
    writeFileSync(join(tmp, 'garbage.kap'), garbage());
    const r = await kapspec(['check', 'garbage.kap'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    expect(r.stdout.match(/error\[/g)).toHaveLength(1);
    expect(r.stdout).toMatch(/^error\[KAP1015\]: This file is not (UTF-8 )?text: .* at line \d+, column \d+\.\n +--> garbage\.kap:\d+:\d+\n/);
    expect(r.stdout).toMatch(/\ngarbage\.kap: 1 error, 0 warnings\n$/);
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(r.stdout.length).toBeLessThan(2000);
  });

  it('a misspelt keyword in a rule: one error at the word, with the keyword it resembles', async () => {
    const tutorial = readFileSync(new URL('../docs/snippets/tutorial-5.kap', import.meta.url), 'utf8');
    writeFileSync(join(tmp, 'whn.kap'), tutorial.replace('when sbp > 180 during', 'whn sbp > 180 during'));
    const r = await kapspec(['check', 'whn.kap'], { cwd: tmp });
    expect(r.code).toBe(1);
    expect(r.stdout.match(/error\[/g)).toHaveLength(1);
    expect(r.stdout).toContain('error[KAP1003]: Expected `when` after `{`, but found `whn`.');
    expect(r.stdout).toContain('= hint: Did you mean `when`?');
    expect(r.stdout).toMatch(/\nwhn\.kap: 1 error, 0 warnings\n$/);
  });

  it('a text file that is not a protocol: at most 20 diagnostics shown, a line counts the rest; JSON has them all', async () => {
    writeFileSync(join(tmp, 'notes.kap'), readFileSync(new URL('../docs/language.md', import.meta.url)));
    const text = await kapspec(['check', 'notes.kap'], { cwd: tmp });
    expect(text.code).toBe(1);
    const total = Number(/\nnotes\.kap: (\d+) errors?, 0 warnings\n$/.exec(text.stdout)?.[1]);
    expect(total).toBeGreaterThan(20);
    expect(text.stdout.match(/^error\[/gm)).toHaveLength(20);
    expect(text.stdout).toContain(`\n… ${total - 20} more not shown (${total - 20} errors, 0 warnings); \`kapspec check --format json\` lists them all.\n`);
    const json = await kapspec(['check', '--format', 'json', 'notes.kap'], { cwd: tmp });
    expect((JSON.parse(json.stdout) as { diagnostics: unknown[] }).diagnostics).toHaveLength(total);
  });
});

describe('colour (real binary)', () => {
  // `script` gives the child a real pseudo-terminal.
  const hasScript = (() => {
    try {
      return readFileSync('/usr/bin/script').length > 0;
    } catch {
      return false;
    }
  })();

  it('off a TTY: no ANSI escapes, with or without NO_COLOR', async () => {
    for (const env of [{}, { NO_COLOR: '1' }] as Record<string, string>[]) {
      const r = await kapspec(['check', 'bad.kap'], { cwd: tmp, env });
      expect(r.stdout).not.toMatch(ANSI);
      expect(r.stderr).not.toMatch(ANSI);
    }
  });

  it.skipIf(!hasScript)('on a TTY: colour, unless NO_COLOR is set', async () => {
    const cmd = `script -qec '"${process.execPath}" "${BIN}" check bad.kap' /dev/null`;
    const coloured = await sh(cmd, { cwd: tmp, env: { TERM: 'xterm' } });
    expect(coloured.stdout).toContain('error[KAP1009]');
    expect(coloured.stdout).toMatch(ANSI);
    const plain = await sh(cmd, { cwd: tmp, env: { TERM: 'xterm', NO_COLOR: '1' } });
    expect(plain.stdout).toContain('error[KAP1009]');
    expect(plain.stdout).not.toMatch(ANSI);
  });
});
