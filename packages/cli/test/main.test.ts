import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ANSI, run } from './memory-io.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('kapspec (program)', () => {
  it('--version prints the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await run([flag]);
      expect(r).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('--help lists the commands with an example and exit codes, on stdout', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Usage: kapspec /);
    expect(r.stdout).toContain('check [options] <files...>');
    expect(r.stdout).toContain('fmt [options] <files...>');
    expect(r.stdout).toContain('Examples:\n  $ kapspec check');
    expect(r.stdout).toContain('Exit codes: 0');
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('help <command> is the same as <command> --help', async () => {
    const a = await run(['help', 'check']);
    const b = await run(['check', '--help']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
  });

  it.each([['check'], ['fmt']])('%s --help shows a real example and the exit codes', async (cmd) => {
    const r = await run([cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`Usage: kapspec ${cmd} [options] <files...>`);
    expect(r.stdout).toContain(`Examples:\n  $ kapspec ${cmd} `);
    expect(r.stdout).toContain('Exit codes: 0');
  });

  it('no arguments: help on stderr, nothing on stdout, exit 2', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: kapspec /);
  });

  it('unknown command: one line with a suggestion, a pointer to --help, exit 2', async () => {
    const r = await run(['chek', 'a.kap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("kapspec: unknown command 'chek' (did you mean check?)\nRun `kapspec --help` for usage.\n");
  });

  it('unknown option on a command names the command', async () => {
    const r = await run(['check', '--frmat', 'json', 'a.kap']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "kapspec check: unknown option '--frmat' (did you mean --format?)\nRun `kapspec check --help` for usage.\n",
    );
  });

  it('unknown option on the program', async () => {
    const r = await run(['--verbose', 'check', 'a.kap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("kapspec: unknown option '--verbose'\nRun `kapspec --help` for usage.\n");
  });

  it('a command without its files', async () => {
    for (const cmd of ['check', 'fmt']) {
      const r = await run([cmd]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `kapspec ${cmd}: missing required argument 'files'\nRun \`kapspec ${cmd} --help\` for usage.\n`,
      );
    }
  });

  it('an invalid --format value', async () => {
    const r = await run(['check', '--format', 'xml', 'a.kap']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("kapspec check: option '--format <format>' argument 'xml' is invalid.");
    expect(r.stderr.split('\n')).toHaveLength(3); // two lines and the final newline
  });

  it('usage errors never show a stack trace', async () => {
    for (const args of [['check', '--nope'], ['nope'], ['check'], ['fmt', '--check=1', 'a.kap']]) {
      const r = await run(args);
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).not.toContain('CommanderError');
    }
  });

  it('main() can run twice in one process (no shared commander state)', async () => {
    const a = await run(['check', '--format', 'json', 'missing.kap']);
    const b = await run(['check', 'missing.kap']);
    expect(a.stdout).toBe('{"diagnostics":[]}\n');
    expect(b.stdout).toBe('');
  });
});
