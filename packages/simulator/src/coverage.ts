/**
 * Coverage across runs: which rules fired, which stages were entered, which
 * outcomes were reached and which asserts were put to the test — and what
 * never was. Counts are numbers of runs (traces), except outcomes, which
 * count participants (a group run reaches one outcome per participant).
 *
 * A rule "fired" in a run if the trace has a `rule` emit naming it; a stage
 * was "entered" on a `stage` enter emit (or a `state` record in it); an
 * assert was "triggered" as `PropertyResult.triggered` says (`implies …
 * within`: its cause became true; `eventually`: P held; `always`/`never` of
 * an implication or a `during`: the antecedent or scope held).
 *
 * Coverage values are plain JSON, merge associatively and commutatively
 * (`mergeCoverage`), so worker threads can each accumulate and merge at the
 * end with the same result as one thread.
 */
import { OUTCOMES, type IR, type Session } from '@kapspec/runtime';
import { checkProperties, type PropertyResult } from './properties.js';
import type { Trace } from './trace.js';

export interface Coverage {
  readonly runs: number;
  /** Runs in which each rule fired, by rule id. */
  readonly rules: Readonly<Record<string, number>>;
  /** Runs in which each stage was entered. */
  readonly stages: Readonly<Record<string, number>>;
  /** Participants who reached each outcome. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Runs in which each assert was triggered. */
  readonly asserts: Readonly<Record<string, number>>;
}

export interface NeverExercised {
  readonly rules: readonly string[];
  readonly stages: readonly string[];
  readonly outcomes: readonly string[];
  readonly asserts: readonly string[];
}

const sessionOf = (ir: IR, session: Session | string): Session => {
  const s = typeof session === 'string' ? ir.sessions.find((x) => x.name === session) : session;
  if (!s) throw new Error(`no session "${String(session)}" in the protocol`);
  return s;
};

/** Coverage with every rule, stage, outcome and assert of the session at zero. */
export function emptyCoverage(ir: IR, session: Session | string): Coverage {
  const s = sessionOf(ir, session);
  const zero = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, 0]));
  return {
    runs: 0,
    rules: zero(s.rules.map((r) => r.id)),
    stages: zero(s.stages.map((x) => x.name)),
    outcomes: zero(OUTCOMES),
    asserts: zero(s.asserts.map((a) => a.name)),
  };
}

/**
 * The coverage of one trace. `results` are the trace's property results
 * (from `checkProperties`); when not given, the asserts are checked here.
 */
export function traceCoverage(ir: IR, session: Session | string, trace: Trace, results?: readonly PropertyResult[]): Coverage {
  const s = sessionOf(ir, session);
  const base = emptyCoverage(ir, s);
  const rules = new Set<string>();
  const stages = new Set<string>();
  const outcomes: Record<string, number> = {};
  for (const r of trace.records) {
    if (r.type === 'emit') {
      if (r.event.type === 'rule' && typeof r.event['rule'] === 'string') rules.add(r.event['rule']);
      if (r.event.type === 'stage' && r.event['phase'] === 'enter' && typeof r.event['stage'] === 'string') stages.add(r.event['stage']);
    } else if (r.type === 'state' && r.stage !== undefined) stages.add(r.stage);
    else if (r.type === 'outcome') outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  }
  const res = results ?? checkProperties(ir, s, trace, { builtins: false });
  const asserts = new Set(res.filter((x) => x.kind === 'assert' && x.triggered).map((x) => x.name));
  const bump = (into: Readonly<Record<string, number>>, names: Iterable<string>) => {
    const o: Record<string, number> = { ...into };
    for (const n of names) o[n] = (o[n] ?? 0) + 1;
    return o;
  };
  const out: Record<string, number> = { ...base.outcomes };
  for (const [k, v] of Object.entries(outcomes)) out[k] = (out[k] ?? 0) + v;
  return {
    runs: 1,
    rules: bump(base.rules, rules),
    stages: bump(base.stages, stages),
    outcomes: out,
    asserts: bump(base.asserts, asserts),
  };
}

function add(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): Record<string, number> {
  const o: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) o[k] = (o[k] ?? 0) + v;
  return o;
}

export function mergeCoverage(a: Coverage, b: Coverage): Coverage {
  return {
    runs: a.runs + b.runs,
    rules: add(a.rules, b.rules),
    stages: add(a.stages, b.stages),
    outcomes: add(a.outcomes, b.outcomes),
    asserts: add(a.asserts, b.asserts),
  };
}

/** Everything the session declares that no run exercised (in declaration order). */
export function neverExercised(ir: IR, session: Session | string, c: Coverage): NeverExercised {
  const s = sessionOf(ir, session);
  const zero = (names: readonly string[], counts: Readonly<Record<string, number>>) => names.filter((n) => !(counts[n]! > 0));
  return {
    rules: zero(
      s.rules.map((r) => r.id),
      c.rules,
    ),
    stages: zero(
      s.stages.map((x) => x.name),
      c.stages,
    ),
    outcomes: zero(OUTCOMES, c.outcomes),
    asserts: zero(
      s.asserts.map((a) => a.name),
      c.asserts,
    ),
  };
}

/** A plain-text coverage report: counts per item in declaration order, then what was never exercised. */
export function renderCoverage(ir: IR, session: Session | string, c: Coverage): string {
  const s = sessionOf(ir, session);
  const lines: string[] = [];
  const participants = OUTCOMES.reduce((a, o) => a + (c.outcomes[o] ?? 0), 0);
  const section = (title: string, names: readonly string[], counts: Readonly<Record<string, number>>, of: number, unit: string) => {
    lines.push(`${title}:`);
    if (!names.length) lines.push('  (none declared)');
    const width = Math.max(0, ...names.map((n) => n.length));
    for (const n of names) {
      const k = counts[n] ?? 0;
      const share = of > 0 ? `${((100 * k) / of).toFixed(1)}%` : '-';
      lines.push(`  ${n.padEnd(width)}  ${String(k).padStart(String(of).length)} ${unit}  ${share.padStart(6)}${k === 0 ? '  never' : ''}`);
    }
  };
  lines.push(`Coverage of session ${s.name} over ${c.runs} run${c.runs === 1 ? '' : 's'}`);
  section(
    'Rules fired',
    s.rules.map((r) => r.id),
    c.rules,
    c.runs,
    'runs',
  );
  section(
    'Stages entered',
    s.stages.map((x) => x.name),
    c.stages,
    c.runs,
    'runs',
  );
  section('Outcomes reached', OUTCOMES, c.outcomes, participants, 'participants');
  section(
    'Asserts triggered',
    s.asserts.map((a) => a.name),
    c.asserts,
    c.runs,
    'runs',
  );
  const never = neverExercised(ir, s, c);
  const all = [
    ...never.rules.map((n) => `rule ${n}`),
    ...never.stages.map((n) => `stage ${n}`),
    ...never.outcomes.map((n) => `outcome ${n}`),
    ...never.asserts.map((n) => `assert ${n}`),
  ];
  lines.push(all.length ? `Never exercised: ${all.join(', ')}.` : 'Everything was exercised at least once.');
  return lines.join('\n') + '\n';
}
