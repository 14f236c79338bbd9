/**
 * Expressions, properties, times, participants and seeds as readable text
 * (messages, vignettes, coverage; the CLI's timeline, `test` and `replay`):
 * one wording and one rounding for every place that shows them.
 */
import { childrenOf, showNumber, type Expr, type IR } from '@kapspec/runtime';
import type { TraceHeader, TraceParticipant } from './trace.js';
export { showExpr, showMinutes, showNumber, showProperty, showTime } from '@kapspec/runtime';

/** Measures an expression reads (true or observed). */
export function measuresIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'measure') out.add(e.name);
  else if (e.kind === 'observed' || e.kind === 'baseline') out.add(e.measure);
  for (const c of childrenOf(e)) measuresIn(c, out);
  return out;
}

/** Event names an expression mentions (as an atom or as `count(event)`). */
export function eventsIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'event') out.add(e.name);
  for (const c of childrenOf(e)) eventsIn(c, out);
  return out;
}

/** A vital sign's value: whole numbers as they are, else one decimal. */
export function showVital(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

/**
 * A participant's profile, after its id: `age 53.03, 77.48 kg; baseline SBP
 * 143.6, DBP 78.4; flags: none.` Baseline values in the protocol's order of measures
 * (any the protocol does not declare after them, by name), so a profile
 * read back from a trace file (whose keys are sorted) reads the same.
 */
export function showProfile(ir: IR, p: TraceParticipant): string {
  const declared = ir.measures.map((m) => m.name);
  const names = [
    ...declared.filter((m) => m in p.baseline),
    ...Object.keys(p.baseline)
      .filter((m) => !declared.includes(m))
      .sort(),
  ];
  const base = names.map((m) => `${m.toUpperCase()} ${showVital(p.baseline[m]!)}`).join(', ');
  const flags = p.flags.length ? p.flags.join(', ') : 'none';
  return `age ${showNumber(p.age)}, ${showNumber(p.weightKg)} kg; baseline ${base || 'not given'}; flags: ${flags}.`;
}

/** Where a counterexample came from in `test`'s search. */
export interface SearchOrigin {
  /** The search's seed (`test --seed`). */
  readonly seed: number;
  /** The run (0-based) that first failed the property. */
  readonly run: number;
  readonly runs: number;
  readonly failures: number;
  readonly shrinkSteps: number;
}

/**
 * The seed of a trace, in the words `test` and `replay` both print:
 * `Seed 4123129410, calibrated model.` With the search it came from (`test`):
 * `Seed 4123129410, calibrated model: run 1 of the search from seed 1 (failed
 * in 3 of 100 runs).` The search's seed is named when it is not the trace's
 * (a calibrated run has a seed of its own; an adversarial run is the
 * search's seed and the run's generated value, kept in the trace header).
 */
export function seedLine(header: Pick<TraceHeader, 'seed' | 'model'>, origin?: SearchOrigin): string {
  const stem = `Seed ${header.seed}, ${header.model} model`;
  if (!origin) return `${stem}.`;
  const from = origin.seed === header.seed ? '' : ` of the search from seed ${origin.seed}`;
  const shrunk = origin.shrinkSteps > 0 ? `, shrunk in ${origin.shrinkSteps} step${origin.shrinkSteps === 1 ? '' : 's'}` : '';
  return `${stem}: run ${origin.run + 1}${from}${shrunk} (failed in ${origin.failures} of ${origin.runs} runs).`;
}
