/**
 * `kapspec compile <file> [--target ir|mermaid|dot|xstate-json] [--session ID] [--out F]`:
 * the IR JSON (default) or a state diagram. Diagnostics go to stderr; the
 * result goes to stdout, or atomically to `--out`.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { describeIoError } from '../io.js';

export interface CompileCommandOptions {
  readonly target: 'ir' | 'mermaid' | 'dot' | 'xstate-json';
  readonly session?: string;
  readonly out?: string;
}

const HELP = `
Examples:
  $ kapspec compile examples/individual-iv.kap
  $ kapspec compile examples/individual-iv.kap --target mermaid --session dosing
  $ kapspec compile examples/group-im.kap --target dot --out group-im.dot

Targets: ir (the versioned IR JSON an app loads with @kapspec/runtime),
mermaid and dot (state diagrams: stages, rule names on transitions,
outcomes), xstate-json (an XState machine config for Stately's visualizer).
Without --session, diagrams show every session.

Exit codes: 0 compiled (warnings allowed), 1 the protocol has errors, 2 usage
or I/O error (a missing file, an unknown session).`;

export function compileCommand(context: CommandContext): Command {
  return new Command('compile')
    .description('compile a .kap protocol to IR JSON or a state diagram')
    .argument('<file>', 'the .kap file')
    .addOption(new Option('--target <target>', 'what to produce').choices(['ir', 'mermaid', 'dot', 'xstate-json']).default('ir'))
    .option('--session <id>', 'only this session (diagrams)')
    .option('--out <file>', 'write to this file instead of stdout (atomically)')
    .addHelpText('after', HELP)
    .action(async (file: string, options: CompileCommandOptions) => {
      context.exit(await runCompile(context, file, options));
    });
}

export async function runCompile({ io }: CommandContext, file: string, options: CompileCommandOptions): Promise<number> {
  const [{ loadProtocol }, compiler] = await Promise.all([import('../protocol.js'), import('@kapspec/compiler')]);
  const p = await loadProtocol(io, 'compile', file);
  if (typeof p === 'number') return p;
  const sessions = compiler.selectSessions(p.ir, options.session);
  if (!sessions) {
    const names = p.ir.sessions.map((s) => `\`${s.name}\``).join(', ');
    io.stderr.write(`kapspec compile: ${file} has no session \`${options.session}\`; its sessions are ${names}\n`);
    return EXIT_USAGE;
  }
  let text: string;
  switch (options.target) {
    case 'mermaid':
      text = compiler.toMermaid(p.ir, sessions);
      break;
    case 'dot':
      text = compiler.toDot(p.ir, sessions);
      break;
    case 'xstate-json':
      text = compiler.toXStateJson(p.ir, sessions);
      break;
    default: {
      const ir = options.session === undefined ? p.ir : { ...p.ir, sessions };
      text = `${JSON.stringify(ir, null, 2)}\n`;
    }
  }
  if (options.out === undefined) {
    io.stdout.write(text);
    return EXIT_OK;
  }
  try {
    await io.writeFile(resolve(io.cwd, options.out), text);
  } catch (error) {
    io.stderr.write(`kapspec: cannot write ${options.out}: ${describeIoError(error)}\n`);
    return EXIT_USAGE;
  }
  io.stderr.write(`wrote ${options.out}\n`);
  return EXIT_OK;
}
