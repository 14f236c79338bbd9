/**
 * Runs the REAL built `kapspec` binary (packages/cli/dist/bin.js) as a child
 * process, the way a user or CI does. The root `pnpm test` builds first.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../packages/cli/bundle/kapspec.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm build\` before the e2e tests`);
}

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  readonly cwd?: string;
  /** Added to a clean environment (no NO_COLOR / FORCE_COLOR / CI colour hints). */
  readonly env?: Record<string, string>;
  readonly input?: string;
}

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['NO_COLOR', 'FORCE_COLOR', 'KAPSPEC_DEBUG', 'NODE_OPTIONS']) delete env[k];
  return { ...env, ...extra };
}

/** Spawns `node dist/bin.js ...args` with pipes (so stdout/stderr are not TTYs). */
export function kapspec(args: readonly string[], options: RunOptions = {}): Promise<Result> {
  return spawnCollect(process.execPath, [BIN, ...args], options);
}

/** Runs a shell command line (for globs in help examples, `script` for a TTY). */
export function sh(command: string, options: RunOptions = {}): Promise<Result> {
  return spawnCollect('/bin/sh', ['-c', command], options);
}

function spawnCollect(file: string, args: readonly string[], options: RunOptions): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** `.kap` files of a repository folder, as repo-relative paths, sorted. */
export function kapFiles(dir: string): string[] {
  const abs = fileURLToPath(new URL(`../../${dir}/`, import.meta.url));
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .filter((f) => f.endsWith('.kap'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

export const SPEC_FIXTURES = kapFiles('packages/language/test/fixtures/spec');
export const EXAMPLES = kapFiles('examples');

/** Any ANSI escape sequence. */
export const ANSI = /\u001b\[/;

/** A stack trace line (`    at foo (file:1:2)`). */
export const STACK = /^\s+at .+/m;

/**
 * Three independent syntax errors on lines 5 (twice) and 6: a unit used as a
 * name (KAP1009), a stray `@` (KAP1001), an unexpected word (KAP1003).
 */
export const BAD = `protocol "x" {
  measures {
    sbp mmHg 50..260
  }
  session s { stage a duration 10 min { measure sbp every @ } }
  oops
}
`;
