/** Verdicts and results: the types the checker returns, and how per-participant verdicts combine. */
import type { SourceSpan } from '@kapspec/runtime';
import type { Trace } from './trace.js';

const EPS = 1e-6;

export type PropertyStatus = 'passed' | 'failed' | 'inconclusive';

export interface Witness {
  /** Session minutes of the window that shows the verdict. */
  readonly from: number;
  readonly to: number;
  /** Indexes (into `trace.records`) of the records in the window. */
  readonly records: readonly number[];
  /** `implies … within`: when the awaited condition finally held, if it did (after `to`). */
  readonly resolvedAt?: number;
}

export interface PropertyResult {
  /** The assert's name, or a built-in's stable name (`builtin.staffing`, …). */
  readonly name: string;
  readonly kind: 'assert' | 'builtin';
  readonly status: PropertyStatus;
  /** The `.kap` line: the assert, or the line a built-in checks (staffing line, monitor line, drug, …). */
  readonly span?: SourceSpan;
  readonly message: string;
  /** Failed and inconclusive verdicts: the window of the trace that shows it. */
  readonly witness?: Witness;
  /** Group sessions: the participant the verdict is about. */
  readonly participant?: string;
  /**
   * Asserts: whether the property was ever put to the test in this trace —
   * `implies … within`: its cause became true; `eventually`: P held; an
   * `always`/`never` of an implication or a `during` scope: the antecedent
   * (scope) held; otherwise: the trace had a sample point.
   */
  readonly triggered?: boolean;
  /** The property text (asserts) or a one-line description (built-ins). */
  readonly text: string;
}

/** One participant's verdict on one property (`span`: the line it is about, when more precise than the property's). */
export interface Verdict {
  readonly status: PropertyStatus;
  readonly message: string;
  readonly witness?: Witness;
  readonly triggered: boolean;
  readonly span?: SourceSpan;
}

export function recordsBetween(trace: Trace, from: number, to: number): number[] {
  const out: number[] = [];
  trace.records.forEach((r, i) => {
    if (r.t >= from - EPS && r.t <= to + EPS) out.push(i);
  });
  return out;
}

/** Combines per-participant verdicts: any failure (earliest) → failed; else any inconclusive → inconclusive; else passed. */
export function combine(
  name: string,
  kind: 'assert' | 'builtin',
  text: string,
  span: SourceSpan | undefined,
  verdicts: readonly { participant: string | undefined; verdict: Verdict }[],
  group: boolean,
): PropertyResult {
  const pick = (status: PropertyStatus) =>
    verdicts
      .filter((v) => v.verdict.status === status)
      .sort((a, b) => (a.verdict.witness?.from ?? 0) - (b.verdict.witness?.from ?? 0))[0];
  const chosen = pick('failed') ?? pick('inconclusive') ?? verdicts[0];
  const triggered = verdicts.some((v) => v.verdict.triggered);
  if (!chosen) return { name, kind, status: 'passed', ...(span ? { span } : {}), message: 'no participant', text, triggered };
  const v = chosen.verdict;
  const at = v.span ?? span;
  const who = group && chosen.participant !== undefined && v.status !== 'passed' ? chosen.participant : undefined;
  return {
    name,
    kind,
    status: v.status,
    ...(at ? { span: at } : {}),
    message: who !== undefined ? `participant ${who}: ${v.message}` : v.status === 'passed' && group && verdicts.length > 1 ? `every participant: ${v.message}` : v.message,
    ...(v.witness ? { witness: v.witness } : {}),
    ...(who !== undefined ? { participant: who } : {}),
    ...(kind === 'assert' ? { triggered } : {}),
    text,
  };
}

