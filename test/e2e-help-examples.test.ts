/**
 * Every example in the `--help` of compile, simulate, test, replay and stats
 * is a command a user may paste: each one runs, verbatim (through a shell,
 * redirections included), with the real binary, in a scratch copy of
 * examples/ so that what they write stays there. (check and fmt: see
 * e2e-check.test.ts.)
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, ROOT, STACK, assertBuilt, kapspec, sh } from './helpers/cli.js';

vi.setConfig({ testTimeout: 180_000 });

let dir = '';
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kapspec-help-'));
  cpSync(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function examplesOf(command: string): Promise<string[]> {
  const help = (await kapspec([command, '--help'])).stdout;
  return [...help.matchAll(/^\s+\$ kapspec (.+?)(?:\s{2,}.*)?$/gm)].map((m) => m[1]!);
}

/** Exit 1 is the expected finding for a deliberately flawed example protocol; everything else must succeed. */
const expectedCode = (line: string) => (line.includes('examples/flawed/') ? 1 : 0);

describe('the examples in every --help run as written', () => {
  // In order: replay's examples read what simulate and test wrote.
  for (const command of ['compile', 'simulate', 'test', 'replay', 'stats']) {
    it(`kapspec ${command} --help`, async () => {
      const lines = await examplesOf(command);
      expect(lines.length).toBeGreaterThanOrEqual(2);
      if (command === 'replay') {
        // replay's counterexample example is the trace `kapspec test` writes with its default seed.
        const t = await sh(`"${process.execPath}" "${BIN}" test examples/flawed/bp-every-20-min.kap > /dev/null`, { cwd: dir });
        expect(t.code).toBe(1);
      }
      for (const line of lines) {
        const r = await sh(`"${process.execPath}" "${BIN}" ${line}`, { cwd: dir });
        expect(r.code, `kapspec ${line}\n${r.stderr}`).toBe(expectedCode(line));
        expect(r.stderr, `kapspec ${line}`).not.toMatch(STACK);
        expect(r.stderr, `kapspec ${line}`).not.toContain('Run `kapspec');
      }
      // What the examples say they write is there.
      for (const line of lines) {
        const out = /(?:--out|>)\s*(\S+)/.exec(line)?.[1];
        if (out !== undefined) expect(existsSync(join(dir, out)), `${out} (from kapspec ${line})`).toBe(true);
      }
    });
  }
});
