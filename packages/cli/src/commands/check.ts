/**
 * `kapspec check <files...> [--format text|json]`: parse and check protocols.
 *
 * text (default): each file's diagnostics (file:line:col, source excerpt,
 * code, hint), then `file: N errors, M warnings`; with several files a final
 * `checked N files: …` line. json: exactly `{"diagnostics":[…]}` on one line
 * (DESIGN.md shape, every file's diagnostics in one array), nothing else on
 * stdout. I/O errors go to stderr; the other files are still checked.
 */
import { Command, Option } from 'commander';
import type { Diagnostic, JsonDiagnostic } from '@kapspec/language';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { useColor } from '../io.js';
import { plural, readSources, renderShown } from './sources.js';

export interface CheckOptions {
  readonly format: 'text' | 'json';
}

const HELP = `
Examples:
  $ kapspec check examples/individual-iv.kap
  $ kapspec check examples/*.kap
  $ kapspec check --format json protocol.kap > diagnostics.json

Text output: each diagnostic with file:line:col, the source line, a code and a
hint (at most 20 per file, then a line counting the rest), then one summary
line per file ("protocol.kap: 1 error, 0 warnings") and, for several files, a
total ("checked 3 files: 1 error, 2 warnings").
JSON output: {"diagnostics":[{"severity","code","message","file","range":
{"start":{"line","column"},"end":{...}},"hint"?}]} with 1-based lines and
columns, all files in one array.

Exit codes: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O
error (a file that cannot be read is reported; the other files are still
checked).`;

export function checkCommand(context: CommandContext): Command {
  return new Command('check')
    .description('parse and check .kap protocols; print diagnostics')
    .argument('<files...>', '.kap files to check')
    .addOption(
      new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'),
    )
    .addHelpText('after', HELP)
    .action(async (files: string[], options: CheckOptions) => {
      context.exit(await runCheck(context, files, options));
    });
}

export async function runCheck(
  { io }: CommandContext,
  files: readonly string[],
  options: CheckOptions,
): Promise<number> {
  // Loaded here, not at start-up: `kapspec --help` need not load the parser.
  const [language, compiler] = await Promise.all([import('@kapspec/language'), import('@kapspec/compiler')]);
  const sources = await readSources(io, files);
  const color = useColor(io, io.stdout);
  const json: JsonDiagnostic[] = [];
  const all: Diagnostic[] = [];
  let ioErrors = 0;
  let checked = 0;
  let wrote = false; // text output so far, to separate blocks with a blank line

  for (const source of sources) {
    if ('error' in source) {
      io.stderr.write(`${source.error}\n`);
      ioErrors++;
      continue;
    }
    // Checked as far as `compile` goes: what only lowering finds (a drug dosed in mass and
    // weight units, a monitor time after its stage ends, a stage longer than a day) is part of it.
    const { diagnostics } = compiler.compile(source.text);
    checked++;
    all.push(...diagnostics);
    if (options.format === 'json') {
      json.push(...language.diagnosticsToJson(diagnostics, source.text, source.file));
      continue;
    }
    if (diagnostics.length > 0) {
      const rendered = renderShown(language, diagnostics, source.text, { file: source.file, color });
      io.stdout.write(`${wrote ? '\n' : ''}${rendered}\n\n`);
    }
    io.stdout.write(`${source.file}: ${language.summarize(diagnostics)}\n`);
    wrote = true;
  }

  if (options.format === 'json') {
    io.stdout.write(`${JSON.stringify({ diagnostics: json })}\n`);
  } else if (files.length > 1) {
    const of = ioErrors > 0 ? `${checked} of ${plural(files.length, 'file')}` : plural(checked, 'file');
    const unread = ioErrors > 0 ? ` (${ioErrors} could not be read)` : '';
    io.stdout.write(`checked ${of}: ${language.summarize(all)}${unread}\n`);
  }

  if (ioErrors > 0) return EXIT_USAGE;
  return language.hasErrors(all) ? EXIT_FINDINGS : EXIT_OK;
}
