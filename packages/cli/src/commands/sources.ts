/** Reading the files named on the command line, with stack-free I/O errors. */
import { resolve } from 'node:path';
import { describeIoError, type Io } from '../io.js';

export type Source =
  | { readonly file: string; readonly text: string }
  | { readonly file: string; readonly error: string };

/**
 * Reads every file (paths as given, relative to `io.cwd`), in command-line
 * order. A file that cannot be read yields `error`, a line ready for stderr:
 * `kapspec: cannot read examples/nope.kap: no such file`.
 */
export async function readSources(io: Io, files: readonly string[]): Promise<Source[]> {
  return Promise.all(
    files.map(async (file): Promise<Source> => {
      try {
        return { file, text: await io.readFile(resolve(io.cwd, file)) };
      } catch (error) {
        return { file, error: `kapspec: cannot read ${file}: ${describeIoError(error)}` };
      }
    }),
  );
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
