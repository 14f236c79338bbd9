/**
 * `kapspec test <file> [--runs N] [--seed N] [--property NAME]
 * [--format text|json|junit] [--session ID] [--model adversarial|calibrated]`:
 * property-tests one session (every assert and built-in property) with the
 * simulator's search (`testProtocol`). Each failing property's shrunk
 * counterexample is written atomically to
 * `.kapspec/counterexamples/<protocol>/<property>-<seed>.jsonl` (under the
 * working directory; `<protocol>` is the file's name without `.kap`) and printed with its vignette and the `kapspec replay` command
 * that reproduces it.
 */
import { basename, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { describeIoError, useColor } from '../io.js';
import { parsePositive, parseSeed } from '../protocol.js';

export interface TestCommandOptions {
  readonly runs: number;
  readonly seed: number;
  /** Repeatable: every `--property` given. */
  readonly property?: readonly string[];
  readonly format: 'text' | 'json' | 'junit';
  readonly session?: string;
  readonly model: 'adversarial' | 'calibrated';
  /** `--no-tui` sets this to false. */
  readonly tui?: boolean;
}

export const DEFAULT_RUNS = 100;
export const DEFAULT_TEST_SEED = 1;
/** Where counterexample traces go, relative to the working directory. */
export const COUNTEREXAMPLE_DIR = '.kapspec/counterexamples';

const HELP = `
Examples:
  $ kapspec test examples/individual-iv.kap
  $ kapspec test examples/flawed/bp-every-20-min.kap --runs 200 --seed 7
  $ kapspec test examples/flawed/group-two-panics.kap --property builtin.staffing
  $ kapspec test examples/individual-iv.kap --format junit > kapspec-junit.xml

Every assert of the session and every built-in property (builtin.staffing,
builtin.terminates, builtin.unhandled-events, builtin.monitoring-gaps,
builtin.excluded-never-dosed, builtin.dose-limits) is checked on --runs
simulated sessions (default ${DEFAULT_RUNS}). --model adversarial (default)
searches for worst cases — surges just past the protocol's thresholds,
concurrent events, staff called away — and shrinks a failing one to a small
counterexample; --model calibrated draws sessions from published figures.
The seed defaults to ${DEFAULT_TEST_SEED}; the same file, seed, runs and model give the same
result. Without --session: the protocol's only session, else its first
session that administers a drug, else its first session. --property may be
given more than once.

Text output: one line per property (PASS/FAIL/INCONCLUSIVE, or marks on a
terminal; its name; the runs; its .kap line), then for each failure the
counterexample as a minute-by-minute vignette, the seed and a replay command.
The counterexample trace is written to
${COUNTEREXAMPLE_DIR}/<protocol>/<property>-<seed>.jsonl (<protocol>: the
file's name without .kap).
JSON output: {"properties":[{"name","status","runs","seed","counterexample"?,
"replay"?}]}, status "passed", "failed" or "inconclusive"; a counterexample
is {"trace","message","vignette","shrinkSteps"}. JUnit output: one testsuite
for the session, one testcase per property, a failure holding the vignette.

An inconclusive property (a trace too short to decide it) does not fail the
test; it is reported as such.

Exit codes: 0 every property holds (or is inconclusive), 1 a property fails,
2 the protocol has errors, or usage or I/O error (an unknown property or
session, a bad option value, a trace that cannot be written).`;

export function testCommand(context: CommandContext): Command {
  return new Command('test')
    .description('property-test a protocol: asserts and built-in properties over simulated sessions')
    .argument('<file>', 'the .kap file')
    .addOption(new Option('--runs <n>', 'simulated sessions').argParser(parsePositive).default(DEFAULT_RUNS))
    .addOption(new Option('--seed <n>', 'random seed, an integer 0..4294967295').argParser(parseSeed).default(DEFAULT_TEST_SEED))
    .addOption(new Option('--property <name>', 'only this property (repeatable)').argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'junit']).default('text'))
    .option('--session <id>', 'the session to test (default: the dosing session)')
    .addOption(new Option('--model <model>', 'scenario model').choices(['adversarial', 'calibrated']).default('adversarial'))
    .option('--no-tui', 'print plain text even on a terminal')
    .addHelpText('after', HELP)
    .action(async (file: string, options: TestCommandOptions) => {
      context.exit(await runTest(context, file, options));
    });
}

const fileSafe = (name: string) => name.replace(/[^A-Za-z0-9._-]/g, '-');

/** `.kapspec/counterexamples/<protocol>`: the protocol file's name without `.kap`, made file-safe (two protocols do not share traces). */
export function counterexampleDir(file: string): string {
  const stem = basename(file).replace(/\.kap$/i, '');
  return `${COUNTEREXAMPLE_DIR}/${fileSafe(stem === '' || stem === '.' || stem === '..' ? 'protocol' : stem)}`;
}

/** `.kapspec/counterexamples/<protocol>/<property>-<seed>.jsonl`, names made file-safe. */
export function counterexamplePath(file: string, property: string, seed: number): string {
  return `${counterexampleDir(file)}/${fileSafe(property)}-${seed}.jsonl`;
}

export async function runTest({ io }: CommandContext, file: string, options: TestCommandOptions): Promise<number> {
  const [sim, models, { loadProtocol, chooseSession }, verdicts, { junitReport }] = await Promise.all([
    import('@kapspec/simulator'),
    import('../models.js'),
    import('../protocol.js'),
    import('../verdicts.js'),
    import('../junit.js'),
  ]);
  const p = await loadProtocol(io, 'test', file);
  if (typeof p === 'number') return p;
  const session = chooseSession(io, 'test', p, options.session);
  if (typeof session === 'number') return session;
  const names = [...session.asserts.map((a) => a.name), ...sim.BUILTIN_NAMES];
  const unknown = (options.property ?? []).filter((n) => !names.includes(n));
  if (unknown.length > 0) {
    const which = unknown.map((n) => `\`${n}\``).join(', ');
    io.stderr.write(`kapspec test: no property ${which} in session ${session.name} of ${file}; its properties are ${names.join(', ')}\n`);
    return EXIT_USAGE;
  }

  const base = {
    session: session.name,
    runs: options.runs,
    seed: options.seed,
    model: options.model,
    file: p.file,
    source: p.text,
    ...(options.property !== undefined ? { property: options.property } : {}),
  };
  // On a terminal: a live view, progress per property while the search runs in a worker thread, then
  // each counterexample with its `.kap` lines marked (ink, loaded only here).
  const live = options.format === 'text' && io.terminal !== undefined && options.tui !== false;
  const tui = live ? await import('../tui/index.js') : undefined;
  const selected = names.filter((n) => options.property === undefined || options.property.includes(n));
  const kindOf = (name: string) => ((sim.BUILTIN_NAMES as readonly string[]).includes(name) ? ('builtin' as const) : ('assert' as const));
  let shown: import('../tui/test-view.js').PropertyProgress[] = selected.map((name) => ({ name, kind: kindOf(name), runs: 0, total: options.runs, status: 'pending' }));
  const ui = tui?.showTest({
    ...io.terminal,
    title: `kapspec test ${p.file}`,
    properties: shown,
    source: p.text,
    file: p.file,
  });

  let report;
  try {
    report = ui
      ? await sim.testProtocolInWorker(p.ir, {
          ...base,
          tracePrefix: `${counterexampleDir(file)}/`,
          onProgress: (progress) => {
            shown = progress.results.map((r) => ({ name: r.name, kind: kindOf(r.name), runs: r.runs, total: progress.runs, failures: r.failures, status: r.status }));
            ui.update(shown);
          },
        })
      : sim.testProtocol(p.ir, { ...base, tracePath: (property, seed) => counterexamplePath(file, property, seed) });
  } catch (error) {
    await ui?.finish({ properties: shown });
    if (!(error instanceof sim.TestError || models.isModelError(error))) throw error;
    io.stderr.write(`kapspec test: cannot test ${file}: ${error.message}\n`);
    return EXIT_USAGE;
  }

  // Counterexample traces, atomically, before anything names them.
  const failed = report.results.filter((r) => r.counterexample !== undefined);
  if (failed.length > 0) {
    try {
      await io.makeDirectory(resolve(io.cwd, counterexampleDir(file)));
      for (const r of failed) await io.writeFile(resolve(io.cwd, r.counterexample!.tracePath), sim.serializeTrace(r.counterexample!.trace));
    } catch (error) {
      await ui?.finish({ properties: tui!.progressOf(report.results) });
      io.stderr.write(`kapspec test: cannot write the counterexample under ${counterexampleDir(file)}: ${describeIoError(error)}\n`);
      return EXIT_USAGE;
    }
  }
  const code = report.results.some((r) => r.status === 'failed') ? EXIT_FINDINGS : EXIT_OK;

  if (options.format === 'json') {
    const properties = report.results.map((r) => ({
      name: r.name,
      status: r.status,
      runs: r.runs,
      seed: r.seed,
      ...(r.counterexample
        ? {
            counterexample: {
              trace: r.counterexample.tracePath,
              message: r.counterexample.result.message,
              vignette: r.counterexample.vignette,
              shrinkSteps: r.counterexample.shrinkSteps,
            },
          }
        : {}),
      ...(r.replay !== undefined ? { replay: r.replay } : {}),
    }));
    io.stdout.write(`${JSON.stringify({ properties })}\n`);
    return code;
  }
  if (options.format === 'junit') {
    io.stdout.write(junitReport(p.ir, report, p.file));
    return code;
  }

  const color = useColor(io, io.stdout);
  const style = { tty: io.stdout.isTTY, color, file: p.file };
  if (ui) {
    const rows = report.results.map((r) => ({ name: r.name, status: r.status, runs: r.runs, span: r.span, note: undefined }));
    await ui.finish({
      properties: tui!.progressOf(report.results),
      failures: tui!.failuresOf(report.results),
      summary: `${verdicts.countLine(rows)} (${report.runs} run${report.runs === 1 ? '' : 's'}, seed ${report.seed}).`,
    });
    return code;
  }
  const out: string[] = [];
  out.push(`Testing "${p.ir.protocol.title}", session ${report.session}: ${report.runs} ${report.model} run${report.runs === 1 ? '' : 's'}, seed ${report.seed}.`);
  out.push('');
  const rows = report.results.map((r) => ({
    name: r.name,
    status: r.status,
    runs: r.runs,
    span: r.span,
    note: r.status === 'inconclusive' ? `inconclusive in ${r.inconclusive} of ${r.runs} runs: ${r.message}` : undefined,
  }));
  out.push(...verdicts.verdictLines(rows, style));
  for (const r of failed) {
    const cx = r.counterexample!;
    out.push('');
    out.push(color ? sim.renderVignette(p.ir, cx.trace, cx.result, { source: p.text, color }).trimEnd() : cx.vignette.trimEnd());
    out.push('');
    out.push(sim.counterexampleSeedLine(r)!);
    out.push(`Trace: ${cx.tracePath}`);
    out.push(`Replay: ${r.replay ?? ''}`);
  }
  out.push('');
  const never = sim.neverExercised(p.ir, session, report.coverage);
  const notExercised = [...never.rules.map((n) => `rule ${n}`), ...never.stages.map((n) => `stage ${n}`), ...never.asserts.map((n) => `assert ${n}`)];
  if (notExercised.length > 0) out.push(`Never exercised in these runs: ${notExercised.join(', ')}.`);
  out.push(`${verdicts.countLine(rows)} (${report.runs} run${report.runs === 1 ? '' : 's'}, seed ${report.seed}).`);
  io.stdout.write(`${out.join('\n')}\n`);
  return code;
}

