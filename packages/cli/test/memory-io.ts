/**
 * An in-memory Io for driving main() in tests: files in a Map keyed by
 * absolute path, captured stdout/stderr, a fake environment.
 */
import { posix } from 'node:path';
import type { Io } from '../src/io.js';
import { main } from '../src/main.js';

export interface MemoryIoOptions {
  /** Files by path; relative paths are relative to `cwd`. */
  readonly files?: Record<string, string>;
  /** Paths that exist as directories. */
  readonly dirs?: readonly string[];
  /** Paths that exist but cannot be read (EACCES). */
  readonly unreadable?: readonly string[];
  /** Paths whose writes fail (EACCES). */
  readonly unwritable?: readonly string[];
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly stdoutTTY?: boolean;
  readonly stderrTTY?: boolean;
}

export interface MemoryIo {
  readonly io: Io;
  readonly files: Map<string, string>;
  /** Paths passed to writeFile, in order. */
  readonly writes: string[];
  /** Directories that exist (given, or created with makeDirectory). */
  readonly dirs: Set<string>;
  stdout(): string;
  stderr(): string;
}

function errno(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

export function memoryIo(options: MemoryIoOptions = {}): MemoryIo {
  const cwd = options.cwd ?? '/work';
  const abs = (p: string): string => posix.resolve(cwd, p);
  const files = new Map(Object.entries(options.files ?? {}).map(([p, t]) => [abs(p), t]));
  const dirs = new Set((options.dirs ?? []).map(abs));
  const unreadable = new Set((options.unreadable ?? []).map(abs));
  const unwritable = new Set((options.unwritable ?? []).map(abs));
  const writes: string[] = [];
  let out = '';
  let err = '';
  const io: Io = {
    stdout: { write: (s) => void (out += s), isTTY: options.stdoutTTY ?? false },
    stderr: { write: (s) => void (err += s), isTTY: options.stderrTTY ?? false },
    env: options.env ?? {},
    cwd,
    readFile: async (path) => {
      if (dirs.has(path)) throw errno('EISDIR', path);
      if (unreadable.has(path)) throw errno('EACCES', path);
      const text = files.get(path);
      if (text === undefined) throw errno('ENOENT', path);
      return text;
    },
    writeFile: async (path, text) => {
      if (unwritable.has(path)) throw errno('EACCES', path);
      writes.push(path);
      files.set(path, text);
    },
    makeDirectory: async (path) => {
      if (unwritable.has(path)) throw errno('EACCES', path);
      if (files.has(path)) throw errno('EEXIST', path);
      for (let p = path; p !== posix.dirname(p); p = posix.dirname(p)) dirs.add(p);
    },
  };
  return { io, files, writes, dirs, stdout: () => out, stderr: () => err };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly memory: MemoryIo;
}

export async function run(args: readonly string[], options: MemoryIoOptions = {}): Promise<RunResult> {
  const memory = memoryIo(options);
  const code = await main(args, memory.io);
  return { code, stdout: memory.stdout(), stderr: memory.stderr(), memory };
}

/** Any ANSI escape sequence. */
export const ANSI = /\u001b\[/;
