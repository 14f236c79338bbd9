/**
 * The `kapspec` program: commander wiring, exit codes and the handling of
 * usage errors. `main()` never throws and never exits the process; it returns
 * the exit code, and every byte it prints goes through the `Io` it is given.
 *
 * Exit codes (DESIGN.md "Command line contract"):
 *   0  ok (warnings allowed)
 *   1  findings: errors in a protocol, `fmt --check` found changes
 *   2  usage or I/O error: a wrong flag, an unknown command, a missing file
 */
import { createRequire } from 'node:module';
import { Command, type CommanderError } from 'commander';
import { checkCommand } from './commands/check.js';
import { compileCommand } from './commands/compile.js';
import { fmtCommand } from './commands/fmt.js';
import { replayCommand } from './commands/replay.js';
import { simulateCommand } from './commands/simulate.js';
import { statsCommand } from './commands/stats.js';
import { testCommand } from './commands/test.js';
import { EXIT_OK, EXIT_USAGE, type CommandContext } from './context.js';
import type { Io } from './io.js';

/** A commander exit (error, help, version) tagged with the command it came from. */
class CommanderExit extends Error {
  constructor(
    readonly inner: CommanderError,
    readonly commandPath: string,
  ) {
    super(inner.message);
  }
}

// src/main.ts and dist/main.js both sit one level below the package manifest.
function readVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../package.json') as { version: string }).version;
}

const PROGRAM_EXAMPLES = `
Examples:
  $ kapspec check examples/individual-iv.kap
  $ kapspec check --format json examples/*.kap
  $ kapspec fmt --check examples/*.kap
  $ kapspec simulate examples/individual-iv.kap --seed 7
  $ kapspec test examples/flawed/bp-every-20-min.kap --runs 100

Exit codes: 0 ok, 1 findings (errors in a protocol, files that need
formatting, a property that fails), 2 usage or I/O error.
Colour is used only on a terminal and never when NO_COLOR is set.
Run \`kapspec <command> --help\` for a command's options and examples.`;

/**
 * Sends commander's output to `io` and turns its exits into exceptions
 * (`exitOverride`), so that `main()` decides the exit code and the wording.
 * Commander's own error text is not printed: main() prints one line instead.
 */
function configure(cmd: Command, path: string, io: Io): Command {
  return cmd
    .exitOverride((error) => {
      throw new CommanderExit(error, path);
    })
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
      getOutHelpWidth: () => io.stdout.columns ?? 80,
      getErrHelpWidth: () => io.stderr.columns ?? 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
}

export function createProgram(context: CommandContext): Command {
  const { io } = context;
  const program = configure(new Command('kapspec'), 'kapspec', io)
    .description('Author, check, format, compile, simulate and test KAP session protocols (.kap files).')
    .version(readVersion(), '-V, --version', 'print the kapspec version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .addHelpText('after', PROGRAM_EXAMPLES);
  for (const make of [checkCommand, fmtCommand, compileCommand, simulateCommand, testCommand, replayCommand, statsCommand]) {
    const cmd = make(context);
    configure(cmd, `kapspec ${cmd.name()}`, io).helpOption('-h, --help', 'show help');
    program.addCommand(cmd);
  }
  return program;
}

/** "error: unknown option '--frmat'\n(Did you mean --format?)" → "unknown option '--frmat' (did you mean --format?)" */
function oneLine(message: string): string {
  return message
    .replace(/^error:\s*/, '')
    .replace(/\s*\n\s*\(Did you mean/g, ' (did you mean')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
}

/**
 * Runs kapspec with `argv` (the arguments after the program name) and returns
 * the exit code. Never throws; never calls process.exit.
 */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = EXIT_OK;
  const context: CommandContext = {
    io,
    exit(code) {
      exitCode = Math.max(exitCode, code);
    },
  };
  try {
    const program = createProgram(context);
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderExit) return commanderExit(error, io);
    return internalError(error, io);
  }
}

function commanderExit(error: CommanderExit, io: Io): number {
  const { code, exitCode } = error.inner;
  // --help, --version, `help <command>`: already printed to stdout.
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return EXIT_OK;
  // `help` printed on request (stdout, 0) or because nothing was asked for
  // (`kapspec` alone: the help went to stderr, a usage error).
  if (code === 'commander.help') return exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  io.stderr.write(`${error.commandPath}: ${oneLine(error.inner.message)}\n`);
  io.stderr.write(`Run \`${error.commandPath} --help\` for usage.\n`);
  return EXIT_USAGE;
}

/** A bug in kapspec, not a user mistake: say so briefly; the stack only on request. */
function internalError(error: unknown, io: Io): number {
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`kapspec: internal error: ${message}\n`);
  if (io.env['KAPSPEC_DEBUG'] && error instanceof Error && error.stack) {
    io.stderr.write(`${error.stack}\n`);
  } else {
    io.stderr.write('This is a bug in kapspec; please report it (set KAPSPEC_DEBUG=1 to see the stack trace).\n');
  }
  return EXIT_USAGE;
}
