/**
 * Everything the CLI touches outside the process: output streams, the
 * environment, the working directory and files. Commands receive an `Io` and
 * never import `node:fs` or `process` themselves, so tests drive `main()` with
 * an in-memory `Io` instead of spawning the binary.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface OutputStream {
  write(text: string): void;
  /** Whether the stream is a terminal (decides colour, never content). */
  readonly isTTY: boolean;
  /** Terminal width, when known; used to wrap `--help`. */
  readonly columns?: number | undefined;
}

export interface Io {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Absolute working directory; relative paths on the command line resolve against it. */
  readonly cwd: string;
  /**
   * Reads a UTF-8 text file (absolute path). Rejects with an error carrying
   * the Node errno `code` (`ENOENT`, `EISDIR`, `EACCES`, …) on failure.
   */
  readFile(path: string): Promise<string>;
  /**
   * Replaces a file (absolute path) atomically: readers see either the old or
   * the new content, never a half-written file. Same error contract as readFile.
   */
  writeFile(path: string, text: string): Promise<void>;
  /** Creates a directory (absolute path) and its missing parents; an existing directory is fine. Same error contract. */
  makeDirectory(path: string): Promise<void>;
  /**
   * The real terminal, for the interactive views: present only when stdin and
   * stdout are both terminals (a key can be read and a screen drawn). Tests
   * and pipes have none, so commands print plain text.
   */
  readonly terminal?: Terminal;
}

export interface Terminal {
  readonly stdin: NodeJS.ReadStream;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

/** The real thing: process streams, process.env, node:fs. */
export function nodeIo(): Io {
  const stream = (s: NodeJS.WriteStream): OutputStream => ({
    write: (text) => {
      s.write(text);
    },
    get isTTY() {
      return s.isTTY === true;
    },
    get columns() {
      return s.isTTY ? s.columns : undefined;
    },
  });
  return {
    stdout: stream(process.stdout),
    stderr: stream(process.stderr),
    env: process.env,
    cwd: process.cwd(),
    readFile: (path) => fs.readFile(path, 'utf8'),
    writeFile: writeFileAtomic,
    makeDirectory: async (path) => {
      await fs.mkdir(path, { recursive: true });
    },
    ...(process.stdin.isTTY === true && process.stdout.isTTY === true
      ? { terminal: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr } }
      : {}),
  };
}

/**
 * Writes `text` to a temporary file next to `path` (same directory, hence the
 * same file system, so the rename is atomic), flushes it, then renames it over
 * `path`. An existing file's permission bits are kept. The temporary file is
 * removed if anything fails.
 */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let mode: number | undefined;
  try {
    mode = (await fs.stat(path)).mode & 0o7777;
  } catch {
    mode = undefined; // a new file: default permissions
  }
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(temp, 'wx', mode ?? 0o666);
    await handle.writeFile(text, 'utf8');
    if (mode !== undefined) await handle.chmod(mode); // umask may have narrowed it
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temp, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await fs.rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** A short, stack-free description of a file system error for `kapspec: cannot read X: …`. */
export function describeIoError(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EEXIST':
      return 'a file of that name is in the way';
    case 'ENOTDIR':
      return 'a parent of the path is not a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on device';
    case 'ENAMETOOLONG':
      return 'file name too long';
    case 'ELOOP':
      return 'too many symbolic links';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default: {
      const message = error instanceof Error ? error.message : String(error);
      return typeof code === 'string' ? `${message} (${code})` : message;
    }
  }
}

/**
 * Colour on a stream: only on a TTY, and never when NO_COLOR is in the
 * environment (any value, even empty: the contract says "never with NO_COLOR",
 * which is stricter than no-color.org's "non-empty").
 */
export function useColor(io: Io, stream: OutputStream): boolean {
  if (io.env['NO_COLOR'] !== undefined) return false;
  return stream.isTTY;
}
