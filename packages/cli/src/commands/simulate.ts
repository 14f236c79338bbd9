/**
 * `kapspec simulate <file> [--session ID] [--seed N] [--participants N]
 * [--model calibrated|adversarial] [--out trace.jsonl] [--no-tui]`: one
 * synthetic session. The timeline goes to stdout (timeline.ts), the trace
 * atomically to `--out`; diagnostics and errors to stderr.
 */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { describeIoError, useColor } from '../io.js';
import { parseNonNegative, parsePositive, parsePositiveNumber, parseSeed, staffOption } from '../protocol.js';

export interface SimulateOptions {
  readonly session?: string;
  readonly seed: number;
  readonly participants?: number;
  readonly model: 'calibrated' | 'adversarial';
  /** Calibrated model: the IV blood-pressure response profile (as `stats --profile`). */
  readonly profile?: 'yale' | 'cohort741';
  readonly out?: string;
  /** Calibrated model: staff called away (times per person per hour) and their mean absence (minutes). */
  readonly staffLeaveRate?: number;
  readonly staffAbsence?: number;
  /** `--no-tui` sets this to false. */
  readonly tui: boolean;
}

/** The seed when `--seed` is not given. */
export const DEFAULT_SEED = 1;

const HELP = `
Examples:
  $ kapspec simulate examples/individual-iv.kap
  $ kapspec simulate examples/individual-iv.kap --seed 42 --out session.jsonl
  $ kapspec simulate examples/group-im.kap --participants 6 --model adversarial
  $ kapspec simulate examples/individual-iv.kap --seed 3 --staff-leave-rate 1

Without --session the protocol's only session is simulated, else its first
session that administers a drug, else its first session. The seed defaults to
${DEFAULT_SEED}: the same protocol, seed, model and participants give the same
session, byte for byte. --model calibrated (default) draws participants and
adverse events from published figures; --model adversarial draws one sample
of the worst-case search's generator (surges, concurrent events, staff called
away) for that seed. Group protocols default to their smallest group.
--profile cohort741 gives the calibrated model the 741-infusion cohort's
smaller blood pressure rises (default yale, as \`kapspec stats --profile\`).

Output: a header (protocol, seed, model, participants, staff), then one line
per happening: time (t+minutes), stage (PAUSED when paused), in a group the
participant, and what happened (true and observed vitals, events, rules
firing and their actions, staff changes, the outcome); last, a one-line
summary with the outcome, its reason, the rule and its .kap line. Readings of
continuous monitors are shown when something else happens in that minute.
--out writes the trace (JSON Lines) atomically; \`kapspec replay\` re-runs it.
On a terminal the session plays live: the stage timeline, true and observed
vitals as sparklines against the protocol's thresholds, the event and action
log and the staff board. Keys: space pause/resume, → step one event, + / −
speed, q quit. Off a terminal (a pipe, a CI log), or with --no-tui, the plain
timeline is printed instead.

Exit codes: 0 simulated, 2 the protocol has errors, or usage or I/O error (a
missing file, an unknown session, a bad option value).`;

export function simulateCommand(context: CommandContext): Command {
  return new Command('simulate')
    .description('simulate one session with synthetic participants and print its timeline')
    .argument('<file>', 'the .kap file')
    .option('--session <id>', 'the session to simulate (default: the dosing session)')
    .addOption(new Option('--seed <n>', 'random seed, an integer 0..4294967295').argParser(parseSeed).default(DEFAULT_SEED))
    .addOption(new Option('--participants <n>', 'participants (group protocols; default: the smallest group)').argParser(parsePositive))
    .addOption(new Option('--model <model>', 'participant model').choices(['calibrated', 'adversarial']).default('calibrated'))
    .addOption(new Option('--profile <profile>', 'calibrated model: IV response profile (default yale)').choices(['yale', 'cohort741']))
    .option('--out <file>', 'write the trace (JSON Lines) to this file, atomically')
    .addOption(new Option('--staff-leave-rate <n>', 'calibrated model: each person on duty is called away n times an hour on average (default 0: never)').argParser(parseNonNegative))
    .addOption(new Option('--staff-absence <min>', 'calibrated model: mean minutes a person called away stays away (default 10)').argParser(parsePositiveNumber))
    .option('--no-tui', 'print the plain timeline even on a terminal')
    .addHelpText('after', HELP)
    .action(async (file: string, options: SimulateOptions) => {
      context.exit(await runSimulate(context, file, options));
    });
}

export async function runSimulate(context: CommandContext, file: string, options: SimulateOptions): Promise<number> {
  const { io } = context;
  const { loadProtocol, chooseSession } = await import('../protocol.js');
  const p = await loadProtocol(io, 'simulate', file);
  if (typeof p === 'number') return p;
  const session = chooseSession(io, 'simulate', p, options.session);
  if (typeof session === 'number') return session;

  const { ir } = p;
  const staff = staffOption(options);
  if (staff !== undefined && options.model !== 'calibrated') {
    io.stderr.write('kapspec simulate: --staff-leave-rate and --staff-absence are options of the calibrated model (the adversarial model draws its own staff absences)\n');
    return EXIT_USAGE;
  }
  if (options.profile !== undefined && options.model !== 'calibrated') {
    io.stderr.write('kapspec simulate: --profile is an option of the calibrated model (the adversarial model draws its own blood pressure surges)\n');
    return EXIT_USAGE;
  }
  const setting = ir.setting;
  if (options.participants !== undefined) {
    if (setting.mode === 'individual' && options.participants !== 1) {
      io.stderr.write(`kapspec simulate: ${file} is an individual protocol: --participants must be 1, got ${options.participants}\n`);
      return EXIT_USAGE;
    }
    if (setting.mode === 'group' && (options.participants < setting.min || options.participants > setting.max)) {
      io.stderr.write(`kapspec simulate: ${file} is for groups of ${setting.min} to ${setting.max}: --participants ${options.participants} is outside that range\n`);
      return EXIT_USAGE;
    }
  }

  const [sim, models, { renderTimeline }] = await Promise.all([import('@kapspec/simulator'), import('../models.js'), import('../timeline.js')]);
  let trace;
  try {
    const scenario = models.buildScenario(ir, {
      session: session.name,
      seed: options.seed,
      model: options.model,
      ...(options.profile !== undefined ? { profile: options.profile } : {}),
      ...(options.participants !== undefined ? { participants: options.participants } : {}),
      ...(staff !== undefined ? { staff } : {}),
    });
    trace = sim.simulate(ir, { session: session.name, scenario, seed: options.seed, model: options.model });
  } catch (error) {
    if (!models.isModelError(error)) throw error;
    io.stderr.write(`kapspec simulate: cannot simulate ${file}: ${error.message}\n`);
    return EXIT_USAGE;
  }

  if (options.out !== undefined) {
    try {
      await io.writeFile(resolve(io.cwd, options.out), sim.serializeTrace(trace));
    } catch (error) {
      io.stderr.write(`kapspec simulate: cannot write ${options.out}: ${describeIoError(error)}\n`);
      return EXIT_USAGE;
    }
  }

  const color = useColor(io, io.stdout);
  if (io.terminal && options.tui) {
    // On a terminal: the live session view (ink, loaded only here).
    const tui = await import('../tui/index.js');
    await tui.showSimulation({ ir, trace, ...io.terminal });
  } else {
    io.stdout.write(renderTimeline(ir, trace, { file, color }));
  }
  if (options.out !== undefined) io.stderr.write(`wrote ${options.out}\n`);
  return EXIT_OK;
}
