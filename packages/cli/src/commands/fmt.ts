/**
 * `kapspec fmt <files...> [--check] [--write]`: canonical formatting.
 *
 * - default: print the formatted text on stdout. One file: exactly the
 *   formatted text. Several files: each preceded by a `// ==> file <==`
 *   header line (a .kap line comment), separated by a blank line.
 * - `--write`: rewrite the files that change (atomically) and list them on
 *   stdout, one path a line; unchanged files are left untouched.
 * - `--check`: list the files that would change on stdout, one a line; exit 1
 *   if any would. Nothing is written.
 * - `--check --write`: rewrite and list as `--write`, exit 1 as `--check`.
 *
 * A file with syntax errors is never formatted: its diagnostics go to stderr
 * and the exit code is 1. I/O errors go to stderr and give exit code 2; the
 * other files are still processed.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { describeIoError, useColor } from '../io.js';
import { plural, readSources, renderShown } from './sources.js';

export interface FmtOptions {
  readonly check?: boolean;
  readonly write?: boolean;
}

const HELP = `
Examples:
  $ kapspec fmt examples/individual-iv.kap   print the file formatted
  $ kapspec fmt --write examples/*.kap       rewrite the files in place
  $ kapspec fmt --check examples/*.kap       in CI: fail if any file is unformatted

Output: without --write or --check the formatted text goes to stdout; with
several files each one is preceded by a header line "// ==> file <==" and
separated by a blank line. --write and --check list the files that (would)
change, one per line. --write replaces files atomically and leaves unchanged
files alone. Formatting formatted text changes nothing.

A file with syntax errors is not formatted: its diagnostics are printed on
stderr.

Exit codes: 0 ok, 1 a file has syntax errors or (with --check) needs
formatting, 2 usage or I/O error.`;

export function fmtCommand(context: CommandContext): Command {
  return new Command('fmt')
    .description('format .kap protocols in the canonical layout')
    .argument('<files...>', '.kap files to format')
    .option('--check', 'list files that are not formatted; exit 1 if any')
    .option('--write', 'rewrite files in place (atomically) and list the changed ones')
    .addHelpText('after', HELP)
    .action(async (files: string[], options: FmtOptions) => {
      context.exit(await runFmt(context, files, options));
    });
}

export async function runFmt(
  { io }: CommandContext,
  files: readonly string[],
  options: FmtOptions,
): Promise<number> {
  const language = await import('@kapspec/language');
  const sources = await readSources(io, files);
  const errColor = useColor(io, io.stderr);
  const print = !options.write && !options.check;
  const headers = print && files.length > 1;
  let code = EXIT_OK;
  let changed = 0;
  let printed = 0;

  for (const source of sources) {
    if ('error' in source) {
      io.stderr.write(`${source.error}\n`);
      code = Math.max(code, EXIT_USAGE);
      continue;
    }
    const result = language.format(source.text);
    if (result.text === undefined) {
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      const shown = errors.length > 0 ? errors : result.diagnostics;
      const rendered = renderShown(language, shown, source.text, { file: source.file, color: errColor });
      io.stderr.write(`${rendered}${rendered ? '\n\n' : ''}kapspec: ${source.file} has syntax errors; not formatted\n`);
      code = Math.max(code, EXIT_FINDINGS);
      continue;
    }
    const formatted = result.text;
    if (print) {
      if (headers) io.stdout.write(`${printed > 0 ? '\n' : ''}// ==> ${source.file} <==\n`);
      io.stdout.write(headers && !formatted.endsWith('\n') ? `${formatted}\n` : formatted);
      printed++;
      continue;
    }
    if (formatted === source.text) continue;
    changed++;
    if (options.write) {
      try {
        await io.writeFile(resolve(io.cwd, source.file), formatted);
      } catch (error) {
        io.stderr.write(`kapspec: cannot write ${source.file}: ${describeIoError(error)}\n`);
        code = Math.max(code, EXIT_USAGE);
        continue;
      }
    }
    io.stdout.write(`${source.file}\n`);
  }

  if (options.check && changed > 0) {
    const one = changed === 1;
    const verb = options.write
      ? `${one ? 'was' : 'were'} reformatted`
      : `${one ? 'needs' : 'need'} formatting; run \`kapspec fmt --write\` to fix`;
    io.stderr.write(`${plural(changed, 'file')} ${verb}\n`);
    code = Math.max(code, EXIT_FINDINGS);
  }
  return code;
}
