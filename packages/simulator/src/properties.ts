/**
 * The property checker: every `assert` of a session and the built-in
 * properties (LANGUAGE.md §5), checked over one joint trace.
 *
 * Semantics (docs/simulator.md repeats them for users)
 * - Sample points: every distinct record time. A property is evaluated on the
 *   state *after* every record at that time (one instant: input, emitted
 *   events, state). Between sample points nothing changes.
 * - In an assert a measure name is the TRUE value (last `truth` sample at or
 *   before t); `observed m` is the last `observe` value; `baseline m` the
 *   profile's baseline (else the first observation, as the runtime does);
 *   `caution f` a profile flag; `elapsed` is t; `count(e)` the events of the
 *   participant so far; `dose(d)` the dose delivered so far; `present(r)`,
 *   `free(r)` the staff pool; a stage name: the session is in that stage (not
 *   once this participant has an outcome); `s paused`; an outcome name: true
 *   from that outcome on; an event name: true at the instant it happens.
 * - Unknown values: a measure never sampled/observed (e.g. `observed sbp`
 *   before the first reading) is undefined; arithmetic on undefined is
 *   undefined and a COMPARISON WITH UNDEFINED IS FALSE. Logic is two-valued
 *   after that (so `not (observed sbp > 180)` is true before the first
 *   reading, and `always P` ≡ `never not P` holds exactly).
 * - `P for T`: P held at every sample point of the last T minutes (since the
 *   first sample of its current run of truth, as in rules); `P during s, …`:
 *   P and the session is in one of the stages.
 * - `always P` fails at the first sample where P is false; `never P` at the
 *   first where P is true. Neither is ever inconclusive.
 * - `eventually P within T`: P at some sample point t <= T. Failed when the
 *   trace reaches T without P; INCONCLUSIVE when the trace ends before T
 *   without P — unless the participant's session is over (an outcome), in
 *   which case the state is final and P is evaluated once more at T on it.
 * - `P implies Q within T`: at every rising edge of P (P true at a sample and
 *   false at the previous one, or at the first sample) at time t, Q must hold
 *   at some sample in [t, t+T]. A window the trace does not cover is judged
 *   like `eventually` (inconclusive, or evaluated on the final state of a
 *   finished session). PASSED needs no failed and no inconclusive window;
 *   otherwise failed (first failing window) or inconclusive.
 * - Group sessions: each participant is its own view (own truth,
 *   observations, events, doses, pause, outcome); the stage and the staff pool
 *   are common. A property holds when it holds for every participant: failed
 *   if it fails for any (the earliest failure is reported, with the
 *   participant), else inconclusive if it is for any, else passed.
 */
import { numericOp, type Assert, type Expr, type IR, type Property, type Session } from '@kapspec/runtime';
import { checkBuiltins, BUILTIN_NAMES, type BuiltinName } from './builtins.js';
import { combine, recordsBetween, type PropertyResult, type PropertyStatus, type Verdict, type Witness } from './verdict.js';
import { views as makeViews, type Snapshot, type View } from './joint.js';
import { showExpr, showMinutes, showProperty, showTime } from './show.js';
import type { Trace } from './trace.js';

export interface CheckOptions {
  /** Check only these properties (assert names or built-in names). */
  readonly only?: readonly string[];
  /** Check the built-in properties (default true). */
  readonly builtins?: boolean;
  /**
   * `builtin.monitoring-gaps`: a gap may exceed the declared interval by this
   * many minutes. Default: the trace header's numeric parameter `resolution`,
   * else 0 (a float epsilon of 1e-6 min is always allowed).
   */
  readonly gapTolerance?: number;
}

export { BUILTIN_NAMES, type BuiltinName, type PropertyResult, type PropertyStatus, type Witness };

const EPS = 1e-6;

/** Checks every assert of `session` and (by default) the built-in properties on `trace`. */
export function checkProperties(ir: IR, session: Session | string, trace: Trace, options: CheckOptions = {}): PropertyResult[] {
  const s = typeof session === 'string' ? ir.sessions.find((x) => x.name === session) : session;
  if (!s) throw new Error(`no session "${String(session)}" in the protocol (sessions: ${ir.sessions.map((x) => x.name).join(', ')})`);
  const vs = makeViews(ir, trace);
  const want = (name: string) => !options.only || options.only.includes(name);
  const out: PropertyResult[] = [];
  for (const a of s.asserts) if (want(a.name)) out.push(checkAssert(a, vs, trace));
  if (options.builtins !== false) {
    for (const r of checkBuiltins(ir, s, trace, vs, options)) if (want(r.name)) out.push(r);
  }
  return out;
}

// ── Expressions on a snapshot ────────────────────────────────────────────

type Value = number | boolean | undefined;

export interface EvalState {
  /** `for` nodes: since when the inner condition has held (by node key). */
  readonly since: Map<string, number>;
}

interface Ctx {
  readonly snap: Snapshot;
  readonly view: View;
  readonly state: EvalState;
}

const asNum = (v: Value): number | undefined => (typeof v === 'number' ? v : undefined);
const truthy = (v: Value): boolean => v === true;

/** Evaluates an assert expression at one sample point (in order: `for` nodes keep state in `state`). */
export function evalAssertExpr(e: Expr, ctx: Ctx, key = 'e'): Value {
  const s = ctx.snap;
  switch (e.kind) {
    case 'measure':
      return s.truth[e.name]?.value;
    case 'observed':
      return s.observed[e.measure]?.value;
    case 'baseline':
      return ctx.view.profile?.baseline[e.measure] ?? s.first[e.measure];
    case 'caution':
      return ctx.view.profile?.flags.includes(e.flag) ?? false;
    case 'event':
      return s.events.includes(e.name);
    case 'inStage':
      return s.stage === e.stage;
    case 'paused':
      return s.stage === e.stage && s.paused.has(e.stage);
    case 'outcome':
      return s.outcome === e.name;
    case 'elapsed':
      return s.t;
    case 'number':
      return e.value;
    case 'role':
    case 'drug':
      return undefined;
    case 'call': {
      const a0 = e.args[0];
      const name = a0 && (a0.kind === 'role' || a0.kind === 'drug' || a0.kind === 'event') ? a0.name : '';
      switch (e.fn) {
        case 'present':
          return s.present[name] ?? 0;
        case 'free':
          return s.free[name] ?? 0;
        case 'dose':
          return s.dose[name] ?? 0;
        case 'count':
          return s.counts[name] ?? 0;
        case 'max':
        case 'min': {
          const a = asNum(evalAssertExpr(e.args[0]!, ctx, `${key}.0`));
          const b = asNum(evalAssertExpr(e.args[1]!, ctx, `${key}.1`));
          if (a === undefined || b === undefined) return undefined;
          return e.fn === 'max' ? Math.max(a, b) : Math.min(a, b);
        }
      }
      return undefined;
    }
    case 'not':
      return !truthy(evalAssertExpr(e.operand, ctx, `${key}.n`));
    case 'neg': {
      const v = asNum(evalAssertExpr(e.operand, ctx, `${key}.n`));
      return v === undefined ? undefined : -v;
    }
    case 'binary': {
      // Both sides always evaluated: every `for` node sees every sample.
      const l = evalAssertExpr(e.left, ctx, `${key}.l`);
      const r = evalAssertExpr(e.right, ctx, `${key}.r`);
      switch (e.op) {
        case 'and':
          return truthy(l) && truthy(r);
        case 'or':
          return truthy(l) || truthy(r);
        case 'implies':
          return !truthy(l) || truthy(r);
        case '==':
          return l !== undefined && r !== undefined && l === r;
        case '!=':
          return l !== undefined && r !== undefined && l !== r;
        default: {
          const a = asNum(l);
          const b = asNum(r);
          if (a === undefined || b === undefined) {
            return e.op === '+' || e.op === '-' || e.op === '*' || e.op === '/' ? undefined : false;
          }
          return numericOp(e.op)(a, b) ?? undefined;
        }
      }
    }
    case 'for': {
      const holds = truthy(evalAssertExpr(e.expr, ctx, `${key}.f`));
      const k = `${key}#${e.minutes}`;
      if (!holds) {
        ctx.state.since.delete(k);
        return false;
      }
      let since = ctx.state.since.get(k);
      if (since === undefined) {
        since = s.t;
        ctx.state.since.set(k, since);
      }
      return s.t - since >= e.minutes - 1e-9;
    }
    case 'during': {
      const v = truthy(evalAssertExpr(e.expr, ctx, `${key}.d`));
      return v && s.stage !== undefined && e.stages.includes(s.stage);
    }
  }
}

/** The boolean series of `e` over a view's sample points, and the `for` state after the last one. */
export function series(e: Expr, view: View): { values: boolean[]; state: EvalState } {
  const state: EvalState = { since: new Map() };
  const values = view.snapshots.map((snap) => truthy(evalAssertExpr(e, { snap, view, state })));
  return { values, state };
}

/** Evaluates `e` at time `t` after the end of a finished session: the last state, with `elapsed` = t, no event. */
function atFinal(e: Expr, view: View, after: EvalState, t: number): boolean {
  const last = view.snapshots[view.snapshots.length - 1];
  if (!last) return false;
  const snap: Snapshot = { ...last, t, events: [] };
  return truthy(evalAssertExpr(e, { snap, view, state: { since: new Map(after.since) } }));
}

// ── Temporal forms ───────────────────────────────────────────────────────

/** `always`/`never`: the antecedent of a top-level implication, or the scope of a top-level `during`, ever held. */
function triggeredBy(e: Expr, view: View): boolean {
  if (e.kind === 'during') return view.snapshots.some((s) => s.stage !== undefined && e.stages.includes(s.stage));
  if (e.kind === 'binary' && e.op === 'implies') return series(e.left, view).values.some((v) => v);
  return view.snapshots.length > 0;
}

export function checkPropertyOnView(p: Property, view: View, trace: Trace): Verdict {
  const snaps = view.snapshots;
  switch (p.kind) {
    case 'always':
    case 'never': {
      const { values } = series(p.expr, view);
      const bad = p.kind === 'always' ? values.indexOf(false) : values.indexOf(true);
      const triggered = triggeredBy(p.expr, view);
      if (bad < 0) {
        return { status: 'passed', triggered, message: `${p.kind === 'always' ? 'held' : 'never held'} at every sample point (${snaps.length})` };
      }
      const s = snaps[bad]!;
      return {
        status: 'failed',
        triggered,
        message: `"${showExpr(p.expr)}" ${p.kind === 'always' ? 'does not hold' : 'holds'} at ${showTime(s.t)}`,
        witness: { from: s.t, to: s.t, records: range(s.from, s.to) },
      };
    }
    case 'eventually': {
      const { values, state } = series(p.expr, view);
      const hit = values.findIndex((v, i) => v && snaps[i]!.t <= p.within + EPS);
      if (hit >= 0) return { status: 'passed', triggered: true, message: `"${showExpr(p.expr)}" held at ${showTime(snaps[hit]!.t)}` };
      if (view.end >= p.within - EPS) {
        return {
          status: 'failed',
          triggered: false,
          message: `"${showExpr(p.expr)}" did not hold within ${showMinutes(p.within)}`,
          witness: { from: 0, to: p.within, records: recordsBetween(trace, 0, p.within) },
        };
      }
      if (view.complete) {
        if (atFinal(p.expr, view, state, p.within)) {
          return { status: 'passed', triggered: true, message: `"${showExpr(p.expr)}" holds on the final state by ${showTime(p.within)}` };
        }
        return {
          status: 'failed',
          triggered: false,
          message: `the session was over at ${showTime(view.end)} and "${showExpr(p.expr)}" did not hold within ${showMinutes(p.within)}`,
          witness: { from: 0, to: view.end, records: recordsBetween(trace, 0, view.end) },
        };
      }
      return {
        status: 'inconclusive',
        triggered: false,
        message: `the trace ends at ${showTime(view.end)}, before ${showMinutes(p.within)}, and "${showExpr(p.expr)}" has not held yet`,
        witness: { from: 0, to: view.end, records: recordsBetween(trace, 0, view.end) },
      };
    }
    case 'leadsTo': {
      const cause = series(p.cause, view).values;
      const eff = series(p.effect, view);
      const effect = eff.values;
      let edges = 0;
      let undecided: Verdict | null = null;
      for (let i = 0; i < snaps.length; i++) {
        if (!cause[i] || (i > 0 && cause[i - 1])) continue;
        edges++;
        const t0 = snaps[i]!.t;
        const deadline = t0 + p.within;
        let ok = false;
        let firstAfter: number | undefined;
        for (let j = i; j < snaps.length; j++) {
          const t = snaps[j]!.t;
          if (!effect[j]) continue;
          if (t <= deadline + EPS) ok = true;
          else firstAfter = t;
          break;
        }
        if (ok) continue;
        const c = `"${showExpr(p.cause)}" became true at ${showTime(t0)}`;
        const q = `"${showExpr(p.effect)}"`;
        if (view.end >= deadline - EPS || (view.complete && !atFinal(p.effect, view, eff.state, deadline))) {
          const late = firstAfter !== undefined ? `it first held at ${showTime(firstAfter)}, ${showMinutes(firstAfter - t0)} after` : 'it never held';
          const to = Math.min(deadline, Math.max(view.end, t0));
          return {
            status: 'failed',
            triggered: true,
            message: `${c}, and ${q} did not hold within ${showMinutes(p.within)}, by ${showTime(deadline)} (${late})`,
            witness: { from: t0, to, records: recordsBetween(trace, t0, to), ...(firstAfter !== undefined ? { resolvedAt: firstAfter } : {}) },
          };
        }
        if (view.complete) continue; // the final state satisfies Q at the deadline
        undecided ??= {
          status: 'inconclusive',
          triggered: true,
          message: `${c}; the trace ends at ${showTime(view.end)}, before the ${showMinutes(p.within)} are up, and ${q} has not held yet`,
          witness: { from: t0, to: view.end, records: recordsBetween(trace, t0, view.end) },
        };
      }
      if (undecided) return undecided;
      if (edges === 0) return { status: 'passed', triggered: false, message: `"${showExpr(p.cause)}" never became true (vacuously passed)` };
      return {
        status: 'passed',
        triggered: true,
        message: `"${showExpr(p.cause)}" became true ${edges === 1 ? 'once' : `${edges} times`}; "${showExpr(p.effect)}" followed within ${showMinutes(p.within)} each time`,
      };
    }
  }
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}

function checkAssert(a: Assert, vs: readonly View[], trace: Trace): PropertyResult {
  const verdicts = vs.map((view) => ({ participant: view.participant, verdict: checkPropertyOnView(a.property, view, trace) }));
  return combine(a.name, 'assert', showProperty(a.property), a.span, verdicts, vs.length > 1);
}
