/**
 * `kapspec replay <trace> <file>`: re-runs a saved trace against the
 * protocol and prints the verdicts `test` gives for it.
 *
 * The trace's inputs — participants, events, staff changes, true vitals and
 * readings — are fed to the protocol's machine again (trace-scenario.ts),
 * the re-run trace is compared with the saved one, and every property is
 * checked on the re-run. A trace made from another protocol is refused: the
 * IR's hash must equal the trace header's.
 */
import { resolve } from 'node:path';
import { Command } from 'commander';
import type { IR } from '@kapspec/runtime';
import type { Scenario, Trace, TraceHeader } from '@kapspec/simulator';
import { EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import { describeIoError, useColor } from '../io.js';

const HELP = `
Examples:
  $ kapspec simulate examples/individual-iv.kap --out session.jsonl
  $ kapspec replay session.jsonl examples/individual-iv.kap
  $ kapspec replay .kapspec/counterexamples/bp-every-20-min/responsive-1.jsonl examples/flawed/bp-every-20-min.kap

The trace's participants, events, staff changes, true vitals and readings are
sent to the protocol's machine again; the re-run is compared with the saved
trace (it is identical unless the trace was edited or kapspec changed
since), and every assert and built-in property is checked on it, printed
as \`kapspec test\` prints them (failures with their minute-by-minute
vignette). A trace cut short (no end record) is re-run up to its last
record; what that part cannot decide is inconclusive.

A trace made from a different protocol (any change to the .kap file, or
another file) is refused: the protocol changed since this trace was made.

Exit codes: 0 every property holds (inconclusive ones do not fail), 1 a
property fails, 2 the protocol has errors, or usage or I/O error (a missing
or malformed trace, a changed protocol).`;

export function replayCommand(context: CommandContext): Command {
  return new Command('replay')
    .description('re-run a saved trace against a protocol and check its properties')
    .argument('<trace>', 'a trace file written by `simulate --out` or `test` (JSON Lines)')
    .argument('<file>', 'the .kap file the trace was made from')
    .addHelpText('after', HELP)
    .action(async (traceFile: string, file: string) => {
      context.exit(await runReplay(context, traceFile, file));
    });
}

export async function runReplay({ io }: CommandContext, traceFile: string, file: string): Promise<number> {
  let text: string;
  try {
    text = await io.readFile(resolve(io.cwd, traceFile));
  } catch (error) {
    io.stderr.write(`kapspec replay: cannot read ${traceFile}: ${describeIoError(error)}\n`);
    return EXIT_USAGE;
  }
  const [sim, models, { loadProtocol, compileAs }, { replayPlan, firstDifference, withoutEnd }, verdicts] = await Promise.all([
    import('@kapspec/simulator'),
    import('../models.js'),
    import('../protocol.js'),
    import('../trace-scenario.js'),
    import('../verdicts.js'),
  ]);
  const parsed = sim.parseTrace(text);
  if ('error' in parsed) {
    io.stderr.write(`kapspec replay: ${traceFile} is not a valid trace: ${parsed.error.message}\n`);
    return EXIT_USAGE;
  }
  const saved = parsed.trace;
  const h = saved.header;

  const p = await loadProtocol(io, 'replay', file);
  if (typeof p === 'number') return p;
  let ir = p.ir;
  if (sim.irHash(ir) !== h.irHash) {
    // The same text under another path (spans name the file): try the path the trace names.
    for (const other of spanFiles(saved)) {
      if (other === p.file) continue;
      const again = await compileAs(p.text, other);
      if (again && sim.irHash(again) === h.irHash) {
        ir = again;
        break;
      }
    }
  }
  if (sim.irHash(ir) !== h.irHash) {
    const was = `protocol "${h.protocol}", session ${h.session}, IR ${h.irHash.slice(0, 12)}`;
    const now = `${ir.protocol.title === h.protocol ? '' : `protocol "${ir.protocol.title}", `}IR ${sim.irHash(ir).slice(0, 12)}`;
    io.stderr.write(`kapspec replay: the protocol changed since this trace was made: ${traceFile} is of ${was}; ${file} now compiles to ${now}\n`);
    io.stderr.write(`Simulate or test the protocol again to get a trace of its current version.\n`);
    return EXIT_USAGE;
  }
  const session = ir.sessions.find((s) => s.name === h.session);
  if (!session) {
    io.stderr.write(`kapspec replay: ${file} has no session \`${h.session}\`, the session of ${traceFile}\n`);
    return EXIT_USAGE;
  }

  // Re-run: from the header when the model can rebuild its scenario from it (adversarial
  // traces record their generated value), else — or if that re-run is not identical — by
  // playing the trace's recorded inputs back.
  const plan = replayPlan(saved);
  const run = (scenario: Scenario) =>
    sim.simulate(ir, {
      session: session.name,
      scenario,
      seed: h.seed,
      model: h.model,
      participantIds: plan.participantIds,
      ...(plan.horizonMinutes !== undefined ? { horizonMinutes: plan.horizonMinutes } : {}),
      ...(plan.resolutionMinutes !== undefined ? { resolutionMinutes: plan.resolutionMinutes } : {}),
    });
  // What of the re-run the saved trace should equal: all of it, or for a trace cut short (no
  // `end` record) the re-run up to the same time without its own `end` record, of which the
  // saved text is then the beginning.
  const incomplete = plan.incomplete;
  const comparable = (rerunText: string) => (incomplete ? withoutEnd(rerunText) : rerunText);
  const agrees = (rerunText: string) => (incomplete ? comparable(rerunText).startsWith(text) : rerunText === text);
  let rerun: Trace | undefined;
  let rerunText = '';
  try {
    const fromHeader = headerScenario(models, ir, h);
    if (fromHeader) {
      rerun = run(fromHeader);
      rerunText = sim.serializeTrace(rerun);
      if (!agrees(rerunText)) rerun = undefined;
    }
    if (!rerun) {
      rerun = run(plan.scenario);
      rerunText = sim.serializeTrace(rerun);
    }
  } catch (error) {
    if (!models.isModelError(error)) throw error;
    io.stderr.write(`kapspec replay: cannot re-run ${traceFile}: ${error.message}\n`);
    return EXIT_USAGE;
  }
  const diff = agrees(rerunText) ? undefined : firstDifference(text, comparable(rerunText));
  const lines = text.split('\n').length - 1;
  // A trace cut short is checked as far as it goes: the re-run without its `end` record.
  const checked: Trace = incomplete ? { ...rerun, records: rerun.records.filter((r) => r.type !== 'end') } : rerun;

  const color = useColor(io, io.stdout);
  const style = { tty: io.stdout.isTTY, color, file: p.file };
  const out: string[] = [];
  const n = h.participants.length;
  out.push(`Replayed ${traceFile} against ${file}: protocol "${h.protocol}", session ${h.session}, seed ${h.seed}, ${h.model} model, ${n} participant${n === 1 ? '' : 's'}.`);
  if (incomplete) {
    out.push(`The saved trace is incomplete: it has no end record and stops at t+${incomplete.t} min (${lines} lines). Verdicts are for the session up to then; what that cannot decide is inconclusive.`);
  }
  out.push(
    diff === undefined
      ? incomplete
        ? 'The re-run agrees with all of the saved trace.'
        : `The re-run is identical to the saved trace (${lines} lines).`
      : `The re-run differs from the saved trace from line ${diff.line} on; the verdicts below are the re-run's.`,
  );
  out.push('');
  // Verdicts name the file given, even when the trace was made under another path (the same
  // text compiled under that path re-ran it): their lines then quote the file they name.
  const shown = p.ir;
  const results = sim.checkProperties(shown, session.name, checked);
  const rows = results.map((r) => ({ name: r.name, status: r.status, runs: 1, span: r.span, note: r.status === 'passed' ? undefined : r.message }));
  out.push(...verdicts.verdictLines(rows, style));
  for (const r of results) {
    if (r.status !== 'failed') continue;
    out.push('');
    out.push(sim.renderVignette(shown, checked, r, { source: p.text, color }).trimEnd());
    out.push('');
    out.push(sim.seedLine(checked.header));
  }
  out.push('');
  out.push(`${verdicts.countLine(rows)} (seed ${h.seed}).`);
  io.stdout.write(`${out.join('\n')}\n`);
  if (diff !== undefined) {
    // The re-run of an unchanged protocol is exact, so either the file was edited or kapspec changed.
    io.stderr.write(
      `kapspec replay: note: the re-run differs from ${traceFile} at line ${diff.line}: the trace was edited since it was made, or kapspec's simulator changed\n` +
        `  saved:  ${clip(diff.saved ?? '(the saved trace ends here)')}\n` +
        `  re-run: ${clip(diff.rerun ?? '(the re-run ends here)')}\n`,
    );
  }
  return results.some((r) => r.status === 'failed') ? EXIT_FINDINGS : EXIT_OK;
}

/** A trace line shortened for a message. */
function clip(line: string): string {
  return line.length <= 160 ? line : `${line.slice(0, 157)}...`;
}

/** The header's own scenario, if its model can rebuild one; a header it cannot read falls back to playback. */
function headerScenario(models: typeof import('../models.js'), ir: IR, header: TraceHeader): Scenario | undefined {
  try {
    return models.scenarioFromHeader(ir, header);
  } catch (error) {
    if (models.isModelError(error)) return undefined;
    throw error;
  }
}

/** The `.kap` paths named by the trace's spans, most frequent first. */
function spanFiles(trace: { readonly records: readonly { readonly type: string; readonly event?: Readonly<Record<string, unknown>> }[] }): string[] {
  const count = new Map<string, number>();
  for (const r of trace.records) {
    if (r.type !== 'emit') continue;
    const f = (r.event?.['span'] as { file?: unknown } | undefined)?.file;
    if (typeof f === 'string') count.set(f, (count.get(f) ?? 0) + 1);
  }
  return [...count.entries()].sort((a, b) => b[1] - a[1]).map(([f]) => f);
}
