/** Reading the files named on the command line, with stack-free I/O errors; showing their diagnostics. */
import { resolve } from 'node:path';
import type { Diagnostic, RenderOptions } from '@kapspec/language';
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

/**
 * Diagnostics shown per file as text; a last line counts the rest. A file
 * that is not a protocol at all (a README, a script) would otherwise print
 * thousands. JSON output and the summary lines always count every one.
 */
export const MAX_SHOWN = 20;

/** The diagnostics of one file as text, at most `MAX_SHOWN` of them, then a line saying how many more there are. */
export function renderShown(
  language: typeof import('@kapspec/language'),
  diagnostics: readonly Diagnostic[],
  text: string,
  options: RenderOptions,
): string {
  const rendered = language.renderDiagnostics(diagnostics.slice(0, MAX_SHOWN), text, options);
  const rest = diagnostics.slice(MAX_SHOWN);
  if (rest.length === 0) return rendered;
  return `${rendered}\n\n… ${rest.length} more not shown (${language.summarize(rest)}); \`kapspec check --format json\` lists them all.`;
}
