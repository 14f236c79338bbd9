/**
 * The semantics of one individual session, as functions over a plain JSON
 * context (so a persisted snapshot restores exactly). The XState machine in
 * machine.ts calls these from its actions and mirrors `stageIndex`, the
 * paused flag and `outcome` as states.
 *
 * Time: `t` is session minutes. Everything the session waits for is a
 * deadline (`nextDeadline`); `advanceTo(t)` processes every deadline up to
 * `t` in order, each at its own due time, so a clock that jumps far ahead
 * (TOOLCHAIN gotcha 9) still yields the same trace as one stepped to each
 * deadline.
 */
import { staffCompare, staffRequired } from './staffing.js';
import {
  compareValues,
  compileExpr,
  evaluate,
  elapsedThresholds,
  measuresOf,
  mentionsEvent,
  readingAtoms,
  readsOf,
  steadyBetweenSteps,
  type CompiledExpr,
  type EvalEnv,
  type ReadingAtom,
} from './eval.js';
import type { ProtocolEmitted, ProtocolInEvent, SessionOutput } from './events.js';
import type { Action, Administer, CompareOp, Dose, DoseUnit, Expr, IR, Monitor, Outcome, Rule, Session, SourceSpan, Stage } from './ir.js';

/** A participant profile: what population checks and `caution`/`baseline` read. */
export interface ParticipantProfile {
  readonly id?: string;
  readonly age?: number;
  readonly weightKg?: number;
  /** Profile flags: conditions (`pregnancy`) and cautions (`uncontrolled_hypertension`). */
  readonly flags?: readonly string[];
  /** Baseline values by measure name. */
  readonly baseline?: Readonly<Record<string, number>>;
}

interface StageRun {
  enteredAt: number;
  /** Un-paused minutes accumulated before `resumedAt`. */
  active: number;
  /** When the stage last started running; null while paused. */
  resumedAt: number | null;
  /** Rule ids holding the stage paused. */
  pausers: string[];
  /** Last stage: its minimum duration has passed (discharge may now close it). */
  minReached: boolean;
  gates: ('pending' | 'passed')[];
  /** Next due time of each monitor line (wall minutes), null when done. */
  monitorNext: (number | null)[];
  /**
   * Group sessions only: this participant has done the (non-last) stage —
   * its duration passed or a rule stopped it — and waits for the group to
   * move on together (lock-step).
   */
  ready?: boolean;
}

interface Infusion {
  drug: string;
  stage: number;
  line: number;
  target: number;
  baseDelivered: number;
  baseActive: number;
  endActive: number;
  frozen: number | null;
}

export interface Busy {
  role: string;
  until: number;
  rule: string;
  /** Group sessions: the participant attended. */
  participant?: string;
}
export interface PendingAttend {
  role: string;
  participant?: string;
  deadline: number;
  minutes: number | null;
  within: number | null;
  rule: string;
  span: SourceSpan;
}

export interface Violation {
  readonly kind: 'line' | 'attend';
  readonly role: string;
  readonly required: number;
  readonly actual: number;
  readonly stage: string;
  readonly at: number;
  readonly rule?: string;
  /** Group sessions: the participant whose rule asked for the person. */
  readonly participant?: string;
  readonly span: SourceSpan;
}

/**
 * The staff pool and staffing-line state. An individual session holds it in
 * its own context; a group session holds one for the whole group and lends
 * it to each participant's slice while that slice is processed (group.ts).
 */
export interface StaffState {
  /** Session minutes of the last processed instant. */
  t: number;
  stageIndex: number;
  present: Record<string, number>;
  busy: Busy[];
  pending: PendingAttend[];
  lineOk: boolean[];
  violations: Violation[];
}

export interface SessionContext extends StaffState {
  session: string;
  /** Clock reading (ms) at session start. */
  origin: number;
  participant: ParticipantProfile | null;
  /** Group sessions: this participant's id (stamped on busy/pending entries and violations). */
  who?: string;
  outcome: SessionOutput | null;
  stageIndex: number;
  stage: StageRun;
  /** Stages stopped before they were reached: skipped. */
  stopped: string[];
  last: Record<string, { value: number; at: number }>;
  first: Record<string, number>;
  counts: Record<string, number>;
  /** Bolus and `give` doses by drug, in the drug's unit. */
  given: Record<string, number>;
  infusions: Infusion[];
  /**
   * What the session remembers about conditions: `was`, the last value of
   * each rule's condition (a rule fires when it becomes true), by rule id;
   * `since`, for each `for` node whose inner condition holds, since when.
   */
  conditions: { was: Record<string, boolean>; since: Record<string, number> };
}

export interface StartOptions {
  readonly participant?: ParticipantProfile;
  /** Staff present at the start, by role. Default: each role's minimum. */
  readonly staff?: Readonly<Record<string, number>>;
}

type Out = ProtocolEmitted[];

const EPS = 1e-9;

/** Precomputed facts about a session, shared by every call. */
export interface Plan {
  readonly ir: IR;
  readonly session: Session;
  readonly gateMeasures: readonly (readonly (readonly string[])[])[];
  readonly eventRules: ReadonlySet<string>;
  readonly thresholds: readonly number[];
  readonly dosing: boolean;
  /** A group session: stage changes and the staff pool are the group's (group.ts). */
  readonly group: boolean;
  /** Rule conditions, resume conditions (null: none), gates by stage, discharge: prepared for evaluation (`compileExpr`). */
  readonly when: readonly CompiledExpr[];
  readonly resume: readonly (CompiledExpr | null)[];
  readonly gates: readonly (readonly CompiledExpr[])[];
  readonly discharge: CompiledExpr | null;
  /** The rules reading each measure (`readsOf`): see `evaluateAll`. */
  readonly rulesReading: ReadonlyMap<string, readonly number[]>;
  /**
   * Remember, per context object, which rule conditions are up to date
   * (`Memo`), and skip those. Worth it only to a caller that steps one
   * context in place; the XState machine copies its context at every step,
   * so its plan has this off (no memo to build and drop per step).
   */
  readonly incremental: boolean;
  /**
   * For `quietReading`: by measure, every place a rule, resume or discharge
   * condition reads its latest value, when each of them compares it with a
   * value fixed for the session (a measure read another way is absent).
   * Null when the shortcut never applies: a plan that is not incremental, a
   * group session, or a condition whose value can change between steps
   * (`steadyBetweenSteps`).
   */
  readonly quiet: ReadonlyMap<string, QuietMeasure> | null;
  /** By rule, from `readsOf` of its condition: it reads the stage, is volatile, reads events; 1 or 0. */
  readonly readsStage: Uint8Array;
  readonly readsVolatile: Uint8Array;
  readonly readsEvents: Uint8Array;
  /**
   * By rule: for a volatile condition whose value changes with time only in
   * the ways `Timing` lists, those ways (`evaluateAll` skips it while none
   * applies); null for any other condition.
   */
  readonly timing: readonly (Timing | null)[];
  /** By rule, where its `Timing.drugs` start in `Memo.given`. */
  readonly givenSlot: Int32Array;
}

/**
 * How a volatile rule condition (`readsOf`) can change with time when what
 * it reads otherwise stays the same, when that is all it can do:
 * - `forKeys`: its `for` nodes (by `since` key) whose bodies are not
 *   volatile: such a node changes with time only while its body holds;
 * - `thresholds`: `elapsed` only in comparisons with a number: the value
 *   changes only as elapsed time passes one of these;
 * - `drugs`: `dose(d)` of drugs no stage infuses: the dose changes only when
 *   one is given, by a step.
 */
export interface Timing {
  readonly forKeys: readonly string[];
  readonly thresholds: readonly number[];
  readonly drugs: readonly string[];
}

const ORDERING = new Set(['<', '<=', '>', '>=']);

/**
 * Gathers the `Timing` of `e` into `out`, naming `for` nodes as
 * `compileExpr(e, key)` does. False when the expression can change with
 * time in some other way: `elapsed` used otherwise, `present`, `free`, the
 * dose of an infused drug, a `for` over a volatile body.
 */
function timingOf(e: Expr, key: string, infused: ReadonlySet<string>, out: { forKeys: string[]; thresholds: number[]; drugs: string[] }): boolean {
  switch (e.kind) {
    case 'elapsed':
      return false;
    case 'for':
      if (readsOf(e.expr).volatile) return false;
      out.forKeys.push(sinceKey(key, e.minutes));
      return true;
    case 'call': {
      if (e.fn === 'present' || e.fn === 'free') return false;
      if (e.fn === 'dose') {
        const a0 = e.args[0];
        const name = a0 && (a0.kind === 'role' || a0.kind === 'drug' || a0.kind === 'event') ? a0.name : '';
        if (infused.has(name)) return false;
        out.drugs.push(name);
        return true;
      }
      if (e.fn === 'max' || e.fn === 'min') return timingOf(e.args[0]!, `${key}.0`, infused, out) && timingOf(e.args[1]!, `${key}.1`, infused, out);
      return true;
    }
    case 'binary':
      if (ORDERING.has(e.op)) {
        if (e.left.kind === 'elapsed' && e.right.kind === 'number') return out.thresholds.push(e.right.value) > 0;
        if (e.right.kind === 'elapsed' && e.left.kind === 'number') return out.thresholds.push(e.left.value) > 0;
      }
      return timingOf(e.left, `${key}.l`, infused, out) && timingOf(e.right, `${key}.r`, infused, out);
    case 'not':
    case 'neg':
      return timingOf(e.operand, `${key}.n`, infused, out);
    case 'during':
      return timingOf(e.expr, `${key}.d`, infused, out);
    default:
      return true;
  }
}

/** How the conditions read one measure (see `Plan.quiet`). */
export interface QuietMeasure {
  /** The declared range: a reading outside it is not quiet (the full path rejects it). */
  readonly min: number;
  readonly max: number;
  readonly atoms: readonly ReadingAtom[];
  /** Some atom compares with a value read from the context (a baseline). */
  readonly readsEnv: boolean;
}

export function plan(ir: IR, session: Session, incremental = false): Plan {
  const reads = session.rules.map((r) => readsOf(r.when));
  const rulesReading = new Map<string, number[]>();
  reads.forEach((x, i) => {
    for (const m of x.measures) rulesReading.set(m, [...(rulesReading.get(m) ?? []), i]);
  });
  const th = new Set<number>();
  session.rules.forEach((r) => {
    elapsedThresholds(r.when, th);
    if (r.resume) elapsedThresholds(r.resume, th);
  });
  if (session.discharge) elapsedThresholds(session.discharge.expr, th);
  const infused = new Set(session.stages.flatMap((s) => s.administer.filter((a) => a.delivery.kind === 'over').map((a) => a.drug)));
  const timing = session.rules.map((r, i): Timing | null => {
    if (!reads[i]!.volatile) return null;
    const t = { forKeys: [] as string[], thresholds: [] as number[], drugs: [] as string[] };
    return timingOf(r.when, `w:${r.id}`, infused, t) ? t : null;
  });
  const givenSlot = new Int32Array(timing.length);
  let slots = 0;
  timing.forEach((t, i) => {
    givenSlot[i] = slots;
    slots += t?.drugs.length ?? 0;
  });
  session.stages.forEach((s) => s.gates.forEach((g) => elapsedThresholds(g.expr, th)));
  return {
    ir,
    session,
    gateMeasures: session.stages.map((s) => s.gates.map((g) => [...measuresOf(g.expr)])),
    eventRules: new Set(session.rules.filter((r) => mentionsEvent(r.when)).map((r) => r.id)),
    thresholds: [...th].sort((a, b) => a - b),
    dosing: session.stages.some((s) => s.administer.length > 0),
    group: ir.setting.mode === 'group',
    // The keys name each `for` node, as `evaluate` is given them elsewhere.
    when: session.rules.map((r) => compileExpr(r.when, `w:${r.id}`)),
    resume: session.rules.map((r) => (r.resume ? compileExpr(r.resume, `r:${r.id}`) : null)),
    gates: session.stages.map((s, si) => s.gates.map((g, i) => compileExpr(g.expr, `g:${si}:${i}`))),
    discharge: session.discharge ? compileExpr(session.discharge.expr, 'discharge') : null,
    rulesReading,
    incremental,
    quiet: incremental && ir.setting.mode !== 'group' ? quietPlan(ir, session) : null,
    readsStage: Uint8Array.from(reads, (x) => (x.stage ? 1 : 0)),
    readsVolatile: Uint8Array.from(reads, (x) => (x.volatile ? 1 : 0)),
    readsEvents: Uint8Array.from(reads, (x) => (x.events ? 1 : 0)),
    timing,
    givenSlot,
  };
}

function quietPlan(ir: IR, session: Session): Map<string, QuietMeasure> | null {
  const continuous = new Set(session.stages.flatMap((s) => s.administer.filter((a) => a.delivery.kind !== 'once').map((a) => a.drug)));
  const whens = session.rules.map((r) => r.when);
  const others = [...session.rules.flatMap((r) => (r.resume ? [r.resume] : [])), ...(session.discharge ? [session.discharge.expr] : [])];
  if (!whens.every((e) => steadyBetweenSteps(e, continuous, true)) || !others.every((e) => steadyBetweenSteps(e, continuous, false))) return null;
  const quiet = new Map<string, QuietMeasure>();
  for (const m of ir.measures) {
    const atoms: ReadingAtom[] = [];
    if ([...whens, ...others].every((e) => readingAtoms(e, m.name, atoms))) quiet.set(m.name, { min: m.min, max: m.max, atoms, readsEnv: atoms.some((a) => a.readsEnv) });
  }
  return quiet;
}

// ── Entry points ─────────────────────────────────────────────────────────

export function initialContext(p: Plan, origin: number, opts: StartOptions): SessionContext {
  const present: Record<string, number> = {};
  for (const r of p.ir.roles) present[r.name] = opts.staff?.[r.name] ?? r.min;
  return {
    session: p.session.name,
    origin,
    t: 0,
    participant: opts.participant ?? null,
    outcome: null,
    stageIndex: 0,
    stage: emptyStage(0),
    stopped: generic(),
    last: {},
    first: {},
    counts: {},
    given: {},
    infusions: generic(),
    conditions: { was: {}, since: {} },
    present,
    busy: generic(),
    pending: generic(),
    lineOk: genericMap(p.session.staffing, () => true),
    violations: generic(),
  };
}

/**
 * A copy of `c` that the entry points (`start`, `advanceTo`, `apply`) may
 * change without touching `c`: every object and array they change in place
 * is copied, one level deep where they replace entries (`last`, `busy`, …),
 * two where they change entries (`stage`, `infusions`); what they only
 * replace or never change (`participant`, `outcome`, the entries of `busy`,
 * `pending`, `violations`) is shared. Much cheaper than `structuredClone`.
 * Keep in step with the engine: test/clone.test.ts deep-freezes the
 * previous context at every step and fails on any write to a shared part.
 */
export function cloneContext(c: SessionContext): SessionContext {
  // Written out field by field: V8 copies a literal like this about ten times
  // faster than `{ ...c, stage: …, last: …, … }` (a spread whose properties
  // are then overridden one by one). Key order as in `initialContext`.
  const x: SessionContext = {
    session: c.session,
    origin: c.origin,
    t: c.t,
    participant: c.participant,
    outcome: c.outcome,
    stageIndex: c.stageIndex,
    stage: cloneStage(c.stage),
    stopped: c.stopped.slice(),
    last: { ...c.last },
    first: { ...c.first },
    counts: { ...c.counts },
    given: { ...c.given },
    infusions: c.infusions.map(cloneInfusion),
    conditions: { was: { ...c.conditions.was }, since: { ...c.conditions.since } },
    present: { ...c.present },
    busy: c.busy.slice(),
    pending: c.pending.slice(),
    lineOk: c.lineOk.slice(),
    violations: c.violations.slice(),
  };
  if (c.who !== undefined) x.who = c.who;
  return x;
}

/** A group participant's own part of a context (without the shared staff pool), copied as `cloneContext` does. */
export function cloneSlice<T extends Omit<SessionContext, 'present' | 'busy' | 'pending' | 'lineOk' | 'violations' | 'session' | 'origin'> & { who: string }>(c: T): T {
  const x: Omit<SessionContext, 'present' | 'busy' | 'pending' | 'lineOk' | 'violations' | 'session' | 'origin'> & { who: string } = {
    t: c.t,
    participant: c.participant,
    outcome: c.outcome,
    stageIndex: c.stageIndex,
    stage: cloneStage(c.stage),
    stopped: c.stopped.slice(),
    last: { ...c.last },
    first: { ...c.first },
    counts: { ...c.counts },
    given: { ...c.given },
    infusions: c.infusions.map(cloneInfusion),
    conditions: { was: { ...c.conditions.was }, since: { ...c.conditions.since } },
    who: c.who,
  };
  return x as T;
}

function cloneStage(st: StageRun): StageRun {
  const x: StageRun = {
    enteredAt: st.enteredAt,
    active: st.active,
    resumedAt: st.resumedAt,
    pausers: st.pausers.slice(),
    minReached: st.minReached,
    gates: st.gates.slice(),
    monitorNext: st.monitorNext.slice(),
  };
  if (st.ready !== undefined) x.ready = st.ready;
  return x;
}

const cloneInfusion = (x: Infusion): Infusion => ({
  drug: x.drug,
  stage: x.stage,
  line: x.line,
  target: x.target,
  baseDelivered: x.baseDelivered,
  baseActive: x.baseActive,
  endActive: x.endActive,
  frozen: x.frozen,
});

// ── Arrays of one elements kind ──────────────────────────────────────────

const EMPTY_GENERIC: unknown[] = [null];
EMPTY_GENERIC.pop();

/**
 * An empty array of V8's generic elements kind from the start. A `[]`
 * literal (or `map` of an empty array) starts as small integers and changes
 * kind at its first string, object, boolean or null; optimized code that met
 * only one kind deoptimizes when the other comes. Every simulated session
 * makes these arrays, some empty and some not, so a Monte Carlo run would
 * pay for recompiling the engine's hottest functions several times over.
 * A copy of one empty array of that kind, not a literal here: one literal
 * would be a single allocation site for every such array, which V8 soon
 * allocates straight in the old generation, long-lived or not.
 */
function generic<T>(): T[] {
  return EMPTY_GENERIC.slice() as T[];
}

/** `xs.map(f)`, as a `generic` array. */
function genericMap<S, T>(xs: readonly S[], f: (x: S) => T): T[] {
  const out = generic<T>();
  for (let i = 0; i < xs.length; i++) out.push(f(xs[i]!));
  return out;
}

/** `xs.filter(f)`, as a `generic` array. */
function genericFilter<T>(xs: readonly T[], f: (x: T) => boolean): T[] {
  const out = generic<T>();
  for (let i = 0; i < xs.length; i++) if (f(xs[i]!)) out.push(xs[i]!);
  return out;
}

/** Starts the session at t = 0: population check, first stage. */
export function start(p: Plan, c: SessionContext, out: Out): void {
  stepping(p, c);
  const excluded = exclusion(p, c);
  if (excluded) {
    finish(c, { outcome: 'deferred', reason: excluded.reason, span: excluded.span, at: c.t });
    return;
  }
  enterStage(p, c, 0, out);
  settle(p, c, out);
}

/** Processes every deadline up to session minute `t`, in order. */
export function advanceTo(p: Plan, c: SessionContext, t: number, out: Out): void {
  stepping(p, c);
  for (let guard = 0; guard < 100_000 && !c.outcome; guard++) {
    const d = nextDeadline(p, c);
    if (d === null || d > t + EPS) break;
    tick(p, c, Math.max(d, c.t), out);
  }
  if (!c.outcome && t > c.t) c.t = t;
}

/** Applies a validated input event at session minute `t` (after `advanceTo(t)`). */
export function apply(p: Plan, c: SessionContext, e: ProtocolInEvent, out: Out): void {
  stepping(p, c);
  if (c.outcome) return;
  switch (e.type) {
    case 'measure':
      for (const name in e.values) {
        const value = e.values[name]!;
        c.last[name] = { value, at: c.t };
        if (!(name in c.first)) c.first[name] = value;
      }
      readingsChanged(p, c, e.values);
      settle(p, c, out);
      return;
    case 'event':
      c.counts[e.name] = (c.counts[e.name] ?? 0) + 1;
      settle(p, c, out, e.name);
      return;
    case 'staff.arrive':
      c.present[e.role] = (c.present[e.role] ?? 0) + 1;
      assignPending(p, c, out);
      settle(p, c, out);
      return;
    case 'staff.leave':
      c.present[e.role] = Math.max(0, (c.present[e.role] ?? 0) - 1);
      trimBusy(c, e.role);
      settle(p, c, out);
      return;
  }
}

/**
 * Applies a `measure` event at session minute `t` when that
 * changes nothing but the latest observations, and returns true; returns
 * false, changing nothing, when it cannot tell cheaply that this is so (the
 * caller then takes the full path: `advanceTo`, `apply`). Exactly what the
 * full path would do in that case: it holds when no deadline is due by `t`,
 * every rule condition is up to date on this context (incremental plans),
 * no gate of the stage is pending, each measure was read before, and each
 * new reading falls on the same side as the last one of every value a
 * condition compares it with. A pulse oximeter read every minute mostly
 * passes this test. The readings need not have been validated: one that
 * `validateEvent` would reject (not a declared measure, not a finite number,
 * out of range) is never quiet.
 */
export function quietReading(p: Plan, c: SessionContext, values: Readonly<Record<string, number>>, t: number): boolean {
  const quiet = p.quiet;
  if (quiet === null || c.outcome) return false;
  const memo = memoIn(c);
  if (memo === undefined) return false;
  // What does not depend on the reading, found once after each full step: a quiet reading changes none of it.
  if (Number.isNaN(memo.quietBefore)) memo.quietBefore = quietBefore(p, c, memo);
  if (t + EPS >= memo.quietBefore) return false;
  let env: EvalEnv | undefined;
  let n = 0;
  for (const name in values) {
    n++;
    const q = quiet.get(name);
    const last = c.last[name];
    if (q === undefined || last === undefined) return false;
    const value = values[name]!;
    // What `validateEvent` accepts: anything else takes the full path, which rejects it.
    if (typeof value !== 'number' || !Number.isFinite(value) || value < q.min || value > q.max) return false;
    if (value === last.value) continue;
    if (q.readsEnv) env ??= makeEnv(p, c);
    const atoms = q.atoms;
    for (let i = 0; i < atoms.length; i++) {
      const a = atoms[i]!;
      const k = a.other(env!);
      if (compareValues(a.op, last.value, k) !== compareValues(a.op, value, k)) return false;
    }
  }
  if (n === 0) return false; // no reading at all: `check` rejects it
  if (t > c.t) c.t = t;
  for (const name in values) c.last[name] = { value: values[name]!, at: c.t };
  return true;
}

/**
 * `quietReading` of one measure, for many readings in a row (a pulse
 * oximeter every minute): the readings of `measure` it would apply quietly,
 * as a range worked out once (`QuietRange`). Null when no reading of the
 * measure can be quiet now.
 *
 * The range is where every comparison the conditions make of the reading
 * (`ReadingAtom`) comes out as it does for the last reading, inside the
 * declared range; what the reading is compared with is fixed until a full
 * step.
 */
export function quietRange(p: Plan, c: SessionContext, measure: string): QuietRange | null {
  const quiet = p.quiet;
  if (quiet === null || c.outcome) return null;
  const memo = memoIn(c);
  const q = quiet.get(measure);
  const last = c.last[measure];
  if (memo === undefined || q === undefined || last === undefined) return null;
  if (Number.isNaN(memo.quietBefore)) memo.quietBefore = quietBefore(p, c, memo);
  const before = memo.quietBefore;
  if (before === -Infinity) return null;
  // [lo, hi], each end open or closed: narrowed by each comparison to the last reading's side of it.
  const r = new Range(c, measure, memo, before, q.min, q.max);
  const env = q.readsEnv ? makeEnv(p, c) : undefined;
  const v = last.value;
  for (const a of q.atoms) {
    const k = a.other(env!);
    if (typeof k !== 'number' || Number.isNaN(k)) return null;
    switch (a.op) {
      case '<':
        if (v < k) r.below(k, true);
        else r.above(k, false);
        break;
      case '<=':
        if (v <= k) r.below(k, false);
        else r.above(k, true);
        break;
      case '>':
        if (v > k) r.above(k, true);
        else r.below(k, false);
        break;
      case '>=':
        if (v >= k) r.above(k, false);
        else r.below(k, true);
        break;
      default:
        // == and !=: the reading equal to k, or on the last one's side of it.
        if (v === k) {
          r.above(k, false);
          r.below(k, false);
        } else if (v < k) r.below(k, true);
        else r.above(k, true);
    }
  }
  return r;
}

/** A `QuietRange` (a class: `quietRange` makes one after every full step of a session). */
class Range implements QuietRange {
  private loOpen = false;
  private hiOpen = false;
  private readonly steps: number;
  constructor(
    private readonly c: SessionContext,
    private readonly measure: string,
    private readonly memo: Memo,
    private readonly before: number,
    private lo: number,
    private hi: number,
  ) {
    this.steps = memo.steps;
  }
  /** Readings above k (or at it, when not `open`) only. */
  above(k: number, open: boolean): void {
    if (k > this.lo || (k === this.lo && open)) {
      this.lo = k;
      this.loOpen = open;
    }
  }
  /** Readings below k (or at it, when not `open`) only. */
  below(k: number, open: boolean): void {
    if (k < this.hi || (k === this.hi && open)) {
      this.hi = k;
      this.hiOpen = open;
    }
  }
  accepts(value: number, t: number): boolean {
    return (
      this.memo.steps === this.steps &&
      t + EPS < this.before &&
      typeof value === 'number' &&
      (this.loOpen ? value > this.lo : value >= this.lo) &&
      (this.hiOpen ? value < this.hi : value <= this.hi)
    );
  }
  apply(value: number, t: number): void {
    const c = this.c;
    if (t > c.t) c.t = t;
    c.last[this.measure] = { value, at: c.t };
  }
}

/** See `quietRange`. */
export interface QuietRange {
  /**
   * Whether `quietReading(c, { [measure]: value }, t)` would apply this
   * reading quietly because it lies in the range and nothing is due by `t`.
   * Changes nothing. False for every reading once a full step (`start`,
   * `advanceTo`, `apply`) has run on the context; false may still be quiet
   * (ask `quietReading`).
   */
  accepts(value: number, t: number): boolean;
  /**
   * Applies an accepted reading as `quietReading` would. Of a row of
   * accepted readings (times not decreasing) applying the last is the same
   * as applying each: a caller may keep the last one back until just before
   * it next reads or steps the context.
   */
  apply(value: number, t: number): void;
}

/**
 * The time before which a reading may be quiet as far as the rest of the
 * context goes (the next deadline), or -Infinity: a rule condition is not
 * up to date on this context, or a gate of the stage is pending.
 */
function quietBefore(p: Plan, c: SessionContext, memo: Memo): number {
  const sig = stageSignature(c);
  const { dirty, event, stage } = memo;
  for (let i = 0; i < dirty.length; i++) {
    if (dirty[i] !== 0 || (p.readsEvents[i] === 1 && event[i] !== 0) || (p.readsStage[i] === 1 && stage[i] !== sig)) return -Infinity;
  }
  if (c.stage.gates.includes('pending')) return -Infinity;
  return nextDeadline(p, c) ?? Infinity;
}

/** The next session minute at which something is due, or null. */
export function nextDeadline(p: Plan, c: SessionContext): number | null {
  if (c.outcome) return null;
  const after = c.t + EPS;
  let best = Infinity;
  const d = stageDue(p, c);
  if (d !== null && d > after) best = d;
  for (const n of c.stage.monitorNext) if (n !== null && n > after && n < best) best = n;
  if (!p.group) {
    for (const b of c.busy) if (b.until > after && b.until < best) best = b.until;
    for (const q of c.pending) if (q.deadline > after && q.deadline < best) best = q.deadline;
  }
  const since = c.conditions.since;
  for (const k in since) {
    const due = since[k]! + forMinutes(k);
    if (due > after && due < best) best = due;
  }
  for (const x of p.thresholds) {
    if (x > after) {
      if (x < best) best = x;
      break;
    }
  }
  return best === Infinity ? null : best;
}

// ── Reading the state ────────────────────────────────────────────────────

/** One participant's part of `sessionState` (the whole of it in an individual session, with the staff). */
export interface ParticipantState {
  /** The stage the participant is in, or was in when the session ended. */
  readonly stage: string;
  /** The rules holding the stage paused, in the order they paused it; empty while it runs. */
  readonly paused: readonly string[];
  /** Dose of each declared drug delivered so far (infusions, boluses, `give`), in the drug's tracking unit. */
  readonly dose: Readonly<Record<string, number>>;
  /** How the session ended; absent while it runs. */
  readonly outcome?: SessionOutput;
}

/** `sessionState(snapshot)` of an individual session. */
export interface SessionState extends ParticipantState {
  /** Session minutes of the last instant the machine processed. */
  readonly at: number;
  /** Staff present, by role (every declared role). */
  readonly present: Readonly<Record<string, number>>;
  /** Staff present and not attending (`attend … for`), by role. */
  readonly free: Readonly<Record<string, number>>;
}

export function participantState(p: Plan, c: SessionContext): ParticipantState {
  const dose: Record<string, number> = {};
  for (const d of p.ir.drugs) dose[d.name] = doseDelivered(p, c, d.name);
  return {
    stage: currentStage(p, c).name,
    paused: isPaused(c) ? c.stage.pausers.slice() : [],
    dose,
    ...(c.outcome ? { outcome: c.outcome } : {}),
  };
}

/** Staff present and free, by declared role. */
export function staffState(p: Plan, c: StaffState): { present: Record<string, number>; free: Record<string, number> } {
  const present: Record<string, number> = {};
  const freeNow: Record<string, number> = {};
  for (const r of p.ir.roles) {
    present[r.name] = c.present[r.name] ?? 0;
    freeNow[r.name] = free(p, c, r.name);
  }
  return { present, free: freeNow };
}

export function sessionStateOf(p: Plan, c: SessionContext): SessionState {
  return { at: c.t, ...participantState(p, c), ...staffState(p, c) };
}

// ── Time steps ───────────────────────────────────────────────────────────

/** Staff at instant `d`: releases first, then waits that can be served, then expired waits. */
export function staffTick(p: Plan, c: StaffState, d: number, out: Out): void {
  if (c.busy.some((b) => b.until <= d + EPS)) c.busy = genericFilter(c.busy, (b) => b.until > d + EPS);
  if (c.pending.length === 0) return;
  assignPending(p, c, out);
  for (const q of c.pending.filter((x) => x.deadline <= d + EPS)) {
    c.pending.splice(c.pending.indexOf(q), 1);
    violate(p, c, out, {
      kind: 'attend',
      role: q.role,
      required: 1,
      actual: free(p, c, q.role),
      rule: q.rule,
      ...(q.participant !== undefined ? { participant: q.participant } : {}),
      span: q.span,
    });
  }
}

/** One participant's (or the individual session's) step at instant `d`. In a group, staff are ticked by the group first. */
export function tick(p: Plan, c: SessionContext, d: number, out: Out): void {
  c.t = d;
  if (!p.group) staffTick(p, c, d, out);
  // Monitoring requests due now (an `every` line does not fire at the very end of its stage).
  const stage = currentStage(p, c);
  const due = stageDue(p, c);
  // The stage ends at this instant (the last stage's minimum is not an end: it waits for discharge).
  const endsNow = due !== null && Math.abs(due - d) <= EPS && (!isLast(p, c) || c.stage.minReached);
  const monitors = stage.monitors;
  for (let i = 0; i < monitors.length; i++) {
    const m = monitors[i]!;
    const n = c.stage.monitorNext[i];
    if (n === null || n === undefined || n > d + EPS) continue;
    if (m.schedule.kind === 'every') {
      if (!endsNow) request(p, c, i, out);
      c.stage.monitorNext[i] = n + m.schedule.minutes;
    } else {
      request(p, c, i, out);
      c.stage.monitorNext[i] = null;
    }
  }
  settle(p, c, out);
}

/** Runs rules, resumes, gates, stage ends and discharge until nothing changes at this instant. */
export function settle(p: Plan, c: SessionContext, out: Out, eventNow?: string): void {
  for (let round = 0; round < 50 && !c.outcome; round++) {
    const before = c.stageIndex;
    evaluateAll(p, c, out, round === 0 ? eventNow : undefined);
    if (c.outcome) break;
    checkStageEnd(p, c, out);
    if (c.outcome) break;
    if (!p.group) checkStaffing(p, c, out, 1);
    if (c.stageIndex === before) break;
  }
}

/**
 * What `evaluateAll` knows about the rule conditions of one context object,
 * to skip evaluating a condition whose value cannot have changed since it
 * was last evaluated on that object: `dirty` (a measure it reads got a new
 * reading, or it was never evaluated here), the stage signature it was
 * evaluated under, and whether an event was happening then. Kept beside the
 * context, not in it, and only for plans made `incremental` (an engine that
 * steps one context in place): the XState machine copies its context at
 * every step and evaluates every condition, so the machine and such an
 * engine compute the same values (the simulator's stepper test compares
 * their traces byte for byte).
 */
interface Memo {
  // Plain arrays, not typed ones: a memo is made for every context (every simulated session), and a
  // typed array of more than 64 bytes gets a backing store of its own, slow to make and to collect.
  readonly dirty: number[];
  readonly stage: number[];
  readonly event: number[];
  /** `c.conditions.was[rule.id]` by rule index, which only `evaluateAll` writes: 0 absent, 1 false, 2 true. */
  readonly was: number[];
  /**
   * `quietBefore` as found by `quietReading` (a quiet reading changes
   * nothing it depends on); NaN once a full step (`start`, `advanceTo`,
   * `apply`) may have changed it.
   */
  quietBefore: number;
  /** Full steps begun on this context (`stepping`): a `quietRange` holds until the next one. */
  steps: number;
  /**
   * For rules with a `Timing`, as of their last evaluation: when (session
   * minutes), whether one of their `for` nodes was holding, and the doses
   * given of their drugs (from `Plan.givenSlot`).
   */
  readonly at: number[];
  readonly holding: number[];
  readonly given: number[];
}
// Kept on the context object itself, under a symbol and not enumerable: a copy of the context
// (`cloneContext`, a spread, JSON, `structuredClone`) never carries it, so a memo always belongs
// to the one object it describes. (A WeakMap would do the same at a cost: a simulator makes one
// context per session and reads the memo at every step.)
const MEMO: unique symbol = Symbol('kapspec.memo');
type Memoized = { [MEMO]?: Memo };
const memoIn = (c: object): Memo | undefined => (c as Memoized)[MEMO];

/** Stage, pause and outcome as one number (what `in`, `paused`, `outcome` and `during` read). */
const stageSignature = (c: SessionContext): number => (c.outcome ? -1 - OUTCOME_INDEX[c.outcome.outcome] : c.stageIndex * 2 + (isPaused(c) ? 1 : 0));
const OUTCOME_INDEX: Record<Outcome, number> = { discharged: 0, deferred: 1, ended: 2, escalated: 3 };

/** New readings: the rules reading those measures must be evaluated again. */
function readingsChanged(p: Plan, c: SessionContext, values: Readonly<Record<string, number>>): void {
  if (!p.incremental) return;
  const memo = memoIn(c);
  if (memo === undefined) return;
  for (const name in values) {
    const rules = p.rulesReading.get(name);
    if (rules !== undefined) for (const i of rules) memo.dirty[i] = 1;
  }
}

/** A full step begins: the deadline `quietReading` remembered may move. */
function stepping(p: Plan, c: SessionContext): void {
  if (p.quiet === null) return;
  const memo = memoIn(c);
  if (memo !== undefined) {
    memo.quietBefore = Number.NaN;
    memo.steps++;
  }
}

/** `n` copies of `x` (a loop: `new Array(n).fill(x)` makes a holey array, filled by a runtime call, for every session). */
function filled(n: number, x: number): number[] {
  const a: number[] = [];
  for (let i = 0; i < n; i++) a.push(x);
  return a;
}

function memoOf(p: Plan, c: SessionContext): Memo {
  let memo = memoIn(c);
  if (memo === undefined) {
    const n = p.session.rules.length;
    const slots = n === 0 ? 0 : p.givenSlot[n - 1]! + (p.timing[n - 1]?.drugs.length ?? 0);
    const was = c.conditions.was;
    memo = {
      dirty: filled(n, 1),
      stage: filled(n, 0),
      event: filled(n, 0),
      was: p.session.rules.map((r) => (was[r.id] === undefined ? 0 : was[r.id] ? 2 : 1)),
      quietBefore: Number.NaN,
      steps: 0,
      at: filled(n, 0),
      holding: filled(n, 0),
      given: filled(slots, 0),
    };
    Object.defineProperty(c, MEMO, { value: memo, enumerable: false, writable: false, configurable: false });
  }
  return memo;
}

/**
 * A volatile rule condition with a `Timing`, its other inputs unchanged
 * since its last evaluation, has the same value now: none of its `for`
 * nodes was holding then (each body was false, and its inputs are the
 * same), elapsed time has not reached any of its thresholds since, and no
 * dose of its drugs was given since.
 */
function steady(p: Plan, c: SessionContext, memo: Memo, i: number): boolean {
  const timing = p.timing[i];
  if (timing === null || timing === undefined || memo.holding[i] !== 0) return false;
  const at = memo.at[i]!;
  const th = timing.thresholds;
  for (let k = 0; k < th.length; k++) if (th[k]! >= at - EPS && th[k]! <= c.t + EPS) return false;
  const drugs = timing.drugs;
  const slot = p.givenSlot[i]!;
  for (let k = 0; k < drugs.length; k++) if ((c.given[drugs[k]!] ?? 0) !== memo.given[slot + k]) return false;
  return true;
}

/** After evaluating rule `i` (with a `Timing`): what `steady` compares with. */
function timed(p: Plan, c: SessionContext, memo: Memo, i: number): void {
  const timing = p.timing[i]!;
  memo.at[i] = c.t;
  let holding = 0;
  for (const k of timing.forKeys) if (c.conditions.since[k] !== undefined) holding = 1;
  memo.holding[i] = holding;
  const slot = p.givenSlot[i]!;
  for (let k = 0; k < timing.drugs.length; k++) memo.given[slot + k] = c.given[timing.drugs[k]!] ?? 0;
}

function evaluateAll(p: Plan, c: SessionContext, out: Out, eventNow?: string): void {
  // Made when first needed (often no condition needs evaluating): nothing changes the context before
  // that, so it reads what it would have read made here.
  let env: EvalEnv | undefined;
  let stops: { stage: string; rule: Rule }[] | undefined;
  const rules = p.session.rules;
  const memo = p.incremental ? memoOf(p, c) : undefined;
  const was = c.conditions.was;
  // The stage signature as of now; only a fired rule can change it.
  let sig = memo !== undefined ? stageSignature(c) : 0;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (memo !== undefined) {
      // Unchanged inputs, unchanged value (and `was` already holds it): nothing to do.
      if (
        memo.dirty[i] === 0 &&
        (p.readsEvents[i] === 0 || (eventNow === undefined && memo.event[i] === 0)) &&
        (p.readsStage[i] === 0 || memo.stage[i] === sig) &&
        (p.readsVolatile[i] === 0 || steady(p, c, memo, i))
      ) {
        continue;
      }
      memo.dirty[i] = 0;
      memo.event[i] = eventNow === undefined ? 0 : 1;
      memo.stage[i] = sig;
    }
    const w = p.when[i]!((env ??= makeEnv(p, c, eventNow))) === true;
    if (memo !== undefined && p.timing[i] !== null) timed(p, c, memo, i);
    let before: boolean | undefined;
    if (memo !== undefined) {
      const m = memo.was[i]!;
      before = m === 0 ? undefined : m === 2;
    } else before = was[r.id];
    const fire = w && (!before || (eventNow !== undefined && p.eventRules.has(r.id)));
    if (before !== w) {
      was[r.id] = w;
      if (memo !== undefined) memo.was[i] = w ? 2 : 1;
    }
    if (fire) {
      fireRule(p, c, r, out, (stops ??= []));
      if (c.outcome) return;
      if (memo !== undefined) sig = stageSignature(c);
    }
  }
  // Resumes: a rule holding a pause lets go when its resume condition holds.
  if (c.stage.pausers.length > 0) {
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      const resume = p.resume[i];
      if (!resume || !c.stage.pausers.includes(r.id)) continue;
      if (resume((env ??= makeEnv(p, c, eventNow))) === true) {
        c.stage.pausers = genericFilter(c.stage.pausers, (x) => x !== r.id);
        if (c.stage.pausers.length === 0) resumeStage(p, c, r, out);
      }
    }
  }
  if (stops !== undefined) for (const s of stops) stopStage(p, c, s.stage, s.rule, out);
  if (c.outcome) return;
  // Gates: evaluated once every measure they read was observed in this stage.
  const gates = currentStage(p, c).gates;
  for (let i = 0; i < gates.length; i++) {
    const g = gates[i]!;
    if (c.outcome || c.stage.gates[i] !== 'pending') continue;
    const needs = p.gateMeasures[c.stageIndex]![i]!;
    if (!needs.every((m) => (c.last[m]?.at ?? -1) >= c.stage.enteredAt - EPS)) continue;
    const v = p.gates[c.stageIndex]![i]!(makeEnv(p, c));
    if (v === true) c.stage.gates[i] = 'passed';
    else if (v === false) gateFails(p, c, out, g.otherwise.kind, g.otherwise.reason, g.span);
  }
  if (c.outcome) return;
  if (isLast(p, c) && c.stage.minReached) {
    const d = p.session.discharge;
    if (!d || p.discharge!(makeEnv(p, c)) === true) {
      const pend = firstPendingGate(p, c);
      if (pend) return;
      exitStage(p, c, out);
      finish(c, { outcome: 'discharged', ...(d ? { span: d.span } : {}), at: c.t });
    }
  }
}

function firstPendingGate(p: Plan, c: SessionContext) {
  const i = c.stage.gates.indexOf('pending');
  return i < 0 ? undefined : currentStage(p, c).gates[i];
}

function gateFails(p: Plan, c: SessionContext, out: Out, kind: 'defer' | 'endSession', reason: string, span: SourceSpan, note = ''): void {
  conclude(p, c, out, { outcome: kind === 'defer' ? 'deferred' : 'ended', reason: reason + note, span, at: c.t });
}

function checkStageEnd(p: Plan, c: SessionContext, out: Out): void {
  const stage = currentStage(p, c);
  const active = activeMinutes(c);
  const dur = stage.duration;
  if (isLast(p, c)) {
    const min = dur.exact ?? dur.atLeast ?? 0;
    if (!c.stage.minReached && active >= min - EPS) {
      if (!resolveGatesAtEnd(p, c, out)) return;
      c.stage.minReached = true;
      evaluateAll(p, c, out);
      if (c.outcome) return;
    }
    if (dur.atMost !== undefined && active >= dur.atMost - EPS) {
      exitStage(p, c, out);
      finish(c, {
        outcome: 'ended',
        reason: `${stage.name} reached its maximum of ${dur.atMost} min without meeting the discharge criteria`,
        span: dur.span ?? stage.span,
        at: c.t,
      });
    }
    return;
  }
  if (c.stage.ready) return;
  const target = dur.exact ?? dur.atLeast ?? dur.atMost;
  if (target === undefined || active < target - EPS) return;
  if (!resolveGatesAtEnd(p, c, out)) return;
  if (p.group) c.stage.ready = true;
  else moveOn(p, c, out);
}

/** A gate still pending when its stage ends is decided with what is known; unknown fails it. */
function resolveGatesAtEnd(p: Plan, c: SessionContext, out: Out): boolean {
  const stage = currentStage(p, c);
  for (let i = 0; i < stage.gates.length; i++) {
    if (c.stage.gates[i] !== 'pending') continue;
    const g = stage.gates[i]!;
    const v = p.gates[c.stageIndex]![i]!(makeEnv(p, c));
    if (v === true) {
      c.stage.gates[i] = 'passed';
      continue;
    }
    const missing = p.gateMeasures[c.stageIndex]![i]!.filter((m) => (c.last[m]?.at ?? -1) < c.stage.enteredAt - EPS);
    const note = v === null || missing.length ? ` (not measured in ${stage.name}: ${missing.join(', ') || 'unknown value'})` : '';
    gateFails(p, c, out, g.otherwise.kind, g.otherwise.reason, g.span, note);
    return false;
  }
  return true;
}

// ── Stages ───────────────────────────────────────────────────────────────

function emptyStage(t: number): StageRun {
  return { enteredAt: t, active: 0, resumedAt: t, pausers: generic(), minReached: false, gates: generic(), monitorNext: generic() };
}

const currentStage = (p: Plan, c: { stageIndex: number }): Stage => p.session.stages[c.stageIndex]!;
const isLast = (p: Plan, c: SessionContext) => c.stageIndex === p.session.stages.length - 1;

/** The participant holds the running stage paused (a rule paused it and has not let go). */
export const isPaused = (c: SessionContext): boolean => c.stage.resumedAt === null && c.stage.pausers.length > 0;

function activeMinutes(c: SessionContext): number {
  return c.stage.active + (c.stage.resumedAt === null ? 0 : c.t - c.stage.resumedAt);
}

/** Wall minute at which the running stage reaches its next duration mark. */
function stageDue(p: Plan, c: SessionContext): number | null {
  if (c.stage.resumedAt === null || c.stage.ready) return null;
  const dur = currentStage(p, c).duration;
  let target: number | undefined;
  if (isLast(p, c)) target = !c.stage.minReached ? (dur.exact ?? dur.atLeast ?? 0) : dur.atMost;
  else target = dur.exact ?? dur.atLeast ?? dur.atMost;
  if (target === undefined) return null;
  return c.stage.resumedAt + (target - c.stage.active);
}

export function enterStage(p: Plan, c: SessionContext, index: number, out: Out): void {
  let i = index;
  if (p.group && i < p.session.stages.length - 1 && c.stopped.includes(p.session.stages[i]!.name)) {
    // Lock-step: a participant whose rule stopped a later stage is in it with
    // the group, but does nothing there (no dose, no monitoring) and is ready at once.
    const s = p.session.stages[i]!;
    c.stageIndex = i;
    c.stage = emptyStage(c.t);
    c.stage.gates = genericMap(s.gates, () => 'passed');
    c.stage.resumedAt = null;
    c.stage.ready = true;
    out.push({ type: 'stage', stage: s.name, phase: 'skip', span: s.span, at: c.t });
    return;
  }
  while (i < p.session.stages.length && c.stopped.includes(p.session.stages[i]!.name)) {
    const s = p.session.stages[i]!;
    out.push({ type: 'stage', stage: s.name, phase: 'skip', span: s.span, at: c.t });
    i++;
  }
  if (i >= p.session.stages.length) {
    // Every remaining stage was stopped: the session closes now.
    const d = p.session.discharge;
    if (!d || p.discharge!(makeEnv(p, c)) === true) {
      finish(c, { outcome: 'discharged', ...(d ? { span: d.span } : {}), at: c.t });
    } else {
      finish(c, { outcome: 'ended', reason: 'the last stage was stopped before the discharge criteria were met', span: d.span, at: c.t });
    }
    return;
  }
  c.stageIndex = i;
  const s = p.session.stages[i]!;
  c.stage = emptyStage(c.t);
  c.stage.gates = genericMap(s.gates, () => 'pending');
  c.stage.monitorNext = genericMap<Monitor, number | null>(s.monitors, (m) => {
    switch (m.schedule.kind) {
      case 'every':
        return c.t;
      case 'at':
        return c.t + m.schedule.minutes;
      default:
        return c.t;
    }
  });
  // Drop `for` tracking of the stage-scoped past? No: `for` spans observations, not stages.
  out.push({ type: 'stage', stage: s.name, phase: 'enter', span: s.span, at: c.t });
  s.administer.forEach((a, line) => startAdminister(p, c, a, line, out));
  s.monitors.forEach((m, k) => {
    if (c.stage.monitorNext[k] !== null && (c.stage.monitorNext[k] as number) <= c.t + EPS) {
      request(p, c, k, out);
      c.stage.monitorNext[k] = m.schedule.kind === 'every' ? c.t + m.schedule.minutes : null;
    }
  });
}

function exitStage(p: Plan, c: SessionContext, out: Out, rule?: Rule): void {
  const s = currentStage(p, c);
  const active = activeMinutes(c);
  stopDelivery(p, c, out, rule);
  if (c.stage.resumedAt !== null) c.stage.active = active;
  c.stage.resumedAt = null;
  c.stage.monitorNext = generic();
  out.push({ type: 'stage', stage: s.name, phase: 'exit', span: s.span, at: c.t, ...(rule ? { rule: rule.id } : {}) });
}

/** Freezes the running stage's infusions; one not yet complete is reported stopped. */
function stopDelivery(p: Plan, c: SessionContext, out: Out, rule?: Rule): void {
  const s = currentStage(p, c);
  const active = activeMinutes(c);
  for (const inf of c.infusions) {
    if (inf.stage !== c.stageIndex || inf.frozen !== null) continue;
    const delivered = infusionDelivered(inf, active);
    const done = delivered >= inf.target - EPS;
    inf.frozen = delivered;
    if (!done) {
      const a = s.administer[inf.line]!;
      out.push(administerOut(p, c, a, 'stop', delivered, rule));
    }
  }
}

export function moveOn(p: Plan, c: SessionContext, out: Out, rule?: Rule): void {
  exitStage(p, c, out, rule);
  enterStage(p, c, c.stageIndex + 1, out);
}

function pauseStage(p: Plan, c: SessionContext, rule: Rule, out: Out): void {
  const s = currentStage(p, c);
  if (!c.stage.pausers.includes(rule.id)) c.stage.pausers.push(rule.id);
  const since = c.conditions.since;
  for (const k of Object.keys(since)) if (k.startsWith(`r:${rule.id}.`) || k.startsWith(`r:${rule.id}#`)) delete since[k];
  if (c.stage.resumedAt === null) return;
  c.stage.active = activeMinutes(c);
  c.stage.resumedAt = null;
  out.push({ type: 'stage', stage: s.name, phase: 'pause', rule: rule.id, span: rule.span, at: c.t });
  for (const inf of c.infusions) {
    if (inf.stage === c.stageIndex && inf.frozen === null) {
      const delivered = infusionDelivered(inf, c.stage.active);
      if (delivered < inf.target - EPS) out.push(administerOut(p, c, s.administer[inf.line]!, 'pause', delivered, rule));
    }
  }
}

function resumeStage(p: Plan, c: SessionContext, rule: Rule, out: Out): void {
  const s = currentStage(p, c);
  c.stage.resumedAt = c.t;
  out.push({ type: 'stage', stage: s.name, phase: 'resume', rule: rule.id, span: rule.span, at: c.t });
  for (const inf of c.infusions) {
    if (inf.stage === c.stageIndex && inf.frozen === null) {
      const delivered = infusionDelivered(inf, c.stage.active);
      if (delivered < inf.target - EPS) out.push(administerOut(p, c, s.administer[inf.line]!, 'resume', delivered, rule));
    }
  }
}

function stopStage(p: Plan, c: SessionContext, name: string, rule: Rule, out: Out): void {
  if (c.outcome) return;
  const idx = p.session.stages.findIndex((s) => s.name === name);
  if (idx === c.stageIndex) {
    if (isLast(p, c)) {
      exitStage(p, c, out, rule);
      enterStage(p, c, p.session.stages.length, out);
    } else if (p.group) {
      // Lock-step: this participant's part of the stage ends (delivery stops,
      // monitoring goes on); the group moves on together when everyone is ready.
      if (c.stage.ready) return;
      stopDelivery(p, c, out, rule);
      if (c.stage.resumedAt !== null) c.stage.active = activeMinutes(c);
      c.stage.resumedAt = null;
      c.stage.pausers = generic();
      c.stage.gates = genericMap(c.stage.gates, () => 'passed');
      c.stage.ready = true;
      const s = currentStage(p, c);
      out.push({ type: 'stage', stage: s.name, phase: 'stop', rule: rule.id, span: rule.span, at: c.t });
    } else moveOn(p, c, out, rule);
  } else if (idx > c.stageIndex && !c.stopped.includes(name)) {
    c.stopped.push(name);
  }
}

// ── Rules and actions ────────────────────────────────────────────────────

function fireRule(p: Plan, c: SessionContext, r: Rule, out: Out, stops: { stage: string; rule: Rule }[]): void {
  out.push({ type: 'rule', rule: r.id, span: r.span, at: c.t });
  // A rule's `stop`s are carried out after the rules of this instant have
  // fired (below, in evaluateAll), or, when an action of the same instant ends
  // the session, by the ending itself (`conclude`): collect them first, so that
  // `escalate emergency, stop infusion` stops the infusion too.
  for (const a of r.actions) if (a.kind === 'stop') stops.push({ stage: a.stage, rule: r });
  for (const a of r.actions) act(p, c, r, a, out, stops);
}

function act(p: Plan, c: SessionContext, r: Rule, a: Action, out: Out, stops: { stage: string; rule: Rule }[]): void {
  const by = { rule: r.id, span: a.span, at: c.t };
  switch (a.kind) {
    case 'pause':
      if (currentStage(p, c).name === a.stage) pauseStage(p, c, r, out);
      return;
    case 'stop':
      return; // collected by fireRule
    case 'endSession':
      conclude(p, c, out, { outcome: 'ended', reason: a.reason, rule: r.id, span: a.span, at: c.t }, stopperOf(p, c, stops) ?? r);
      return;
    case 'defer':
      conclude(p, c, out, { outcome: 'deferred', reason: a.reason, rule: r.id, span: a.span, at: c.t }, stopperOf(p, c, stops) ?? r);
      return;
    case 'escalate':
      out.push({ type: 'escalate', level: a.level, ...by });
      conclude(p, c, out, { outcome: 'escalated', reason: a.level, rule: r.id, span: a.span, at: c.t }, stopperOf(p, c, stops) ?? r);
      return;
    case 'notify':
      out.push({ type: 'notify', role: a.role, ...by });
      return;
    case 'give': {
      const v = convertDose(a.dose, unitOf(p, a.drug), c.participant?.weightKg);
      if (v !== null) c.given[a.drug] = (c.given[a.drug] ?? 0) + v;
      out.push({ type: 'give', drug: a.drug, dose: a.dose, ...(a.route ? { route: a.route } : {}), ...by });
      return;
    }
    case 'reduce': {
      const to = convertDose(a.to, unitOf(p, a.drug), c.participant?.weightKg);
      const active = activeMinutes(c);
      for (const inf of c.infusions) {
        if (inf.drug !== a.drug || inf.frozen !== null || inf.stage !== c.stageIndex || to === null) continue;
        const delivered = infusionDelivered(inf, active);
        inf.baseDelivered = delivered;
        inf.baseActive = active;
        inf.target = Math.max(delivered, to);
      }
      out.push({ type: 'reduce', drug: a.drug, to: a.to, ...by });
      return;
    }
    case 'attend': {
      const minutes = a.minutes ?? null;
      const within = a.within ?? null;
      // One person of a role attends a participant at a time: a new call for
      // the same participant while someone of that role is already with them
      // (or already being found) keeps that person on, for the longer of the
      // two times, instead of taking a second one from the pool.
      const participant = who(c).participant;
      const at = c.busy.findIndex((b) => b.role === a.role && b.participant === participant && b.until > c.t);
      if (at >= 0) {
        // Entries are replaced, never changed in place: earlier snapshots share them.
        const b = c.busy[at]!;
        if (minutes !== null && minutes > 0) c.busy[at] = { ...b, until: Math.max(b.until, c.t + minutes) };
        out.push({ type: 'attend', role: a.role, status: 'assigned', continues: true, ...(minutes !== null ? { minutes } : {}), ...(within !== null ? { within } : {}), ...by });
        return;
      }
      const qi = c.pending.findIndex((q) => q.role === a.role && q.participant === participant);
      if (qi >= 0) {
        const q = c.pending[qi]!;
        if (minutes !== null && (q.minutes === null || minutes > q.minutes)) c.pending[qi] = { ...q, minutes };
        out.push({ type: 'attend', role: a.role, status: 'waiting', continues: true, ...(minutes !== null ? { minutes } : {}), ...(within !== null ? { within } : {}), ...by });
        return;
      }
      if (free(p, c, a.role) > 0) {
        if (minutes !== null && minutes > 0) c.busy.push(busyEntry(a.role, c.t + minutes, r.id, c.who));
        out.push({ type: 'attend', role: a.role, status: 'assigned', ...(minutes !== null ? { minutes } : {}), ...(within !== null ? { within } : {}), ...by });
      } else if (within !== null && within > 0) {
        c.pending.push({ role: a.role, ...who(c), deadline: c.t + within, minutes, within, rule: r.id, span: a.span });
        out.push({ type: 'attend', role: a.role, status: 'waiting', ...(minutes !== null ? { minutes } : {}), within, ...by });
      } else {
        out.push({ type: 'attend', role: a.role, status: 'waiting', ...(minutes !== null ? { minutes } : {}), ...by });
        violate(p, c, out, { kind: 'attend', role: a.role, required: 1, actual: 0, rule: r.id, ...who(c), span: a.span });
      }
      return;
    }
  }
}

const who = (c: SessionContext): { participant?: string } => (c.who !== undefined ? { participant: c.who } : {});

/** A `busy` entry, always one of two literal shapes (a spread in the literal would give it a map of its own). */
const busyEntry = (role: string, until: number, rule: string, participant: string | undefined): Busy =>
  participant !== undefined ? { role, until, rule, participant } : { role, until, rule };

function finish(c: SessionContext, o: SessionOutput): void {
  if (!c.outcome) c.outcome = o;
}

/**
 * Ends the session in the stage it is in (a rule's ending action, a failed
 * gate): the stage is exited first, as any stage is left: its delivery stops
 * (`administer stop` for an infusion not yet complete, the delivered dose
 * frozen) and `stage exit` is emitted, naming `rule` when one caused it.
 */
function conclude(p: Plan, c: SessionContext, out: Out, o: SessionOutput, rule?: Rule): void {
  if (c.outcome) return;
  exitStage(p, c, out, rule);
  finish(c, o);
}

/** The rule whose `stop` (fired at this instant) names the current stage, if any. */
function stopperOf(p: Plan, c: SessionContext, stops: readonly { stage: string; rule: Rule }[]): Rule | undefined {
  const here = currentStage(p, c).name;
  return stops.find((s) => s.stage === here)?.rule;
}

// ── Doses ────────────────────────────────────────────────────────────────

function unitOf(p: Plan, drug: string): DoseUnit {
  return p.ir.drugs.find((d) => d.name === drug)?.unit ?? 'mg';
}

function convertDose(d: Dose, to: DoseUnit, weightKg: number | undefined): number | null {
  if (d.unit === to) return d.value;
  if (weightKg === undefined || !(weightKg > 0)) return null;
  return to === 'mg' ? d.value * weightKg : d.value / weightKg;
}

function startAdminister(p: Plan, c: SessionContext, a: Administer, line: number, out: Out): void {
  const amount = convertDose(a.dose, unitOf(p, a.drug), c.participant?.weightKg) ?? 0;
  if (a.delivery.kind === 'once') {
    c.given[a.drug] = (c.given[a.drug] ?? 0) + amount;
  } else {
    c.infusions.push({
      drug: a.drug,
      stage: c.stageIndex,
      line,
      target: amount,
      baseDelivered: 0,
      baseActive: 0,
      endActive: a.delivery.minutes,
      frozen: null,
    });
  }
  out.push(administerOut(p, c, a, 'start', a.delivery.kind === 'once' ? amount : 0));
}

function administerOut(p: Plan, c: SessionContext, a: Administer, phase: 'start' | 'pause' | 'resume' | 'stop', delivered: number, rule?: Rule) {
  return {
    type: 'administer' as const,
    phase,
    drug: a.drug,
    dose: a.dose,
    route: a.route,
    delivery: a.delivery,
    stage: currentStage(p, c).name,
    delivered,
    span: a.span,
    at: c.t,
    ...(rule ? { rule: rule.id } : {}),
  };
}

function infusionDelivered(inf: Infusion, active: number): number {
  if (inf.frozen !== null) return inf.frozen;
  const span = inf.endActive - inf.baseActive;
  const f = span <= 0 ? 1 : Math.min(1, Math.max(0, (active - inf.baseActive) / span));
  return inf.baseDelivered + (inf.target - inf.baseDelivered) * f;
}

/** Dose of a drug delivered so far, in the drug's tracking unit. */
export function doseDelivered(p: Plan, c: SessionContext, drug: string): number {
  let total = c.given[drug] ?? 0;
  const active = activeMinutes(c);
  for (const inf of c.infusions) if (inf.drug === drug) total += infusionDelivered(inf, inf.stage === c.stageIndex ? active : inf.baseActive);
  return total;
}

// ── Staff ────────────────────────────────────────────────────────────────

function free(_p: Plan, c: StaffState, role: string): number {
  return Math.max(0, (c.present[role] ?? 0) - c.busy.filter((b) => b.role === role).length);
}

export function trimBusy(c: StaffState, role: string): void {
  // Someone attending who leaves stops attending: keep busy <= present.
  let over = c.busy.filter((b) => b.role === role).length - (c.present[role] ?? 0);
  for (let i = c.busy.length - 1; i >= 0 && over > 0; i--) {
    if (c.busy[i]!.role === role) {
      c.busy.splice(i, 1);
      over--;
    }
  }
}

export function assignPending(p: Plan, c: StaffState, out: Out): void {
  for (const q of [...c.pending]) {
    if (free(p, c, q.role) <= 0) continue;
    c.pending.splice(c.pending.indexOf(q), 1);
    const pt = q.participant !== undefined ? { participant: q.participant } : {};
    if (q.minutes !== null && q.minutes > 0) c.busy.push(busyEntry(q.role, c.t + q.minutes, q.rule, q.participant));
    out.push({
      type: 'attend',
      ...pt,
      role: q.role,
      status: 'assigned',
      ...(q.minutes !== null ? { minutes: q.minutes } : {}),
      ...(q.within !== null ? { within: q.within } : {}),
      rule: q.rule,
      span: q.span,
      at: c.t,
    });
  }
}

/**
 * Staffing lines. An individual session counts the staff present; a group
 * session counts the free pool (LANGUAGE.md §7). A violation is emitted when
 * a line stops holding, and recorded.
 */
export function checkStaffing(p: Plan, c: StaffState, out: Out, participants: number, lineLow?: (number | null)[]): void {
  const lines = p.session.staffing;
  if (lines.length === 0) return;
  const stage = currentStage(p, c).name;
  lines.forEach((l, i) => {
    const applies = l.during.length === 0 || l.during.includes(stage);
    const required = staffRequired(l, participants);
    const actual = p.group ? free(p, c, l.role) : (c.present[l.role] ?? 0);
    const ok = !applies || staffCompare(actual, l.op, required);
    // Group sessions (`lineLow` given): a line that is already violated is
    // reported again each time the free pool shrinks further, so that every
    // person taken while the group is short shows in the trace.
    const worse = !ok && lineLow !== undefined && lineLow[i] !== null && lineLow[i] !== undefined && actual < lineLow[i]!;
    if ((c.lineOk[i] && !ok) || worse) {
      violate(p, c, out, { kind: 'line', role: l.role, op: l.op, required, actual, span: l.span });
    }
    c.lineOk[i] = ok;
    if (lineLow) lineLow[i] = ok ? null : Math.min(actual, lineLow[i] ?? actual);
  });
}


function violate(
  p: Plan,
  c: StaffState,
  out: Out,
  v: { kind: 'line' | 'attend'; role: string; op?: CompareOp; required: number; actual: number; rule?: string; participant?: string; span: SourceSpan },
): void {
  const stage = currentStage(p, c).name;
  const { op, ...rest } = v;
  c.violations.push({ ...rest, stage, at: c.t });
  out.push({ type: 'staffing.violation', ...rest, ...(op ? { op } : {}), stage, at: c.t });
}

// ── Monitoring ───────────────────────────────────────────────────────────

function request(p: Plan, c: SessionContext, line: number, out: Out): void {
  const s = currentStage(p, c);
  const m = s.monitors[line]!;
  out.push(
    m.schedule.kind === 'continuously'
      ? { type: 'measure.request', measures: m.measures.slice(), stage: s.name, continuous: true, span: m.span, at: c.t }
      : { type: 'measure.request', measures: m.measures.slice(), stage: s.name, span: m.span, at: c.t },
  );
}

// ── Environment for expressions ──────────────────────────────────────────

const forMinutesCache = new Map<string, number>();
/** `since` keys end with `#<minutes>`: the node's window, so deadlines need no lookup. */
function forMinutes(key: string): number {
  let m = forMinutesCache.get(key);
  if (m === undefined) {
    m = Number(key.slice(key.lastIndexOf('#') + 1));
    forMinutesCache.set(key, m);
  }
  return m;
}

function makeEnv(p: Plan, c: SessionContext, eventNow?: string): EvalEnv {
  return new Env(p, c, eventNow);
}

/** What expressions read, over one context at one instant (methods on the prototype: one small object per evaluation round). */
class Env implements EvalEnv {
  private readonly stageName: string;
  constructor(
    private readonly p: Plan,
    private readonly c: SessionContext,
    private readonly now: string | undefined,
  ) {
    this.stageName = currentStage(p, c).name;
  }
  measure(n: string): number | null {
    return this.c.last[n]?.value ?? null;
  }
  baseline(n: string): number | null {
    return this.c.participant?.baseline?.[n] ?? this.c.first[n] ?? null;
  }
  caution(f: string): boolean {
    return this.c.participant?.flags?.includes(f) ?? false;
  }
  eventNow(n: string): boolean {
    return n === this.now;
  }
  inStage(s: string): boolean {
    return !this.c.outcome && s === this.stageName;
  }
  paused(s: string): boolean {
    return s === this.stageName && this.c.stage.resumedAt === null && this.c.stage.pausers.length > 0;
  }
  outcome(o: string): boolean {
    return this.c.outcome?.outcome === (o as Outcome);
  }
  elapsed(): number {
    return this.c.t;
  }
  present(r: string): number {
    return this.c.present[r] ?? 0;
  }
  free(r: string): number {
    return free(this.p, this.c, r);
  }
  dose(d: string): number {
    return doseDelivered(this.p, this.c, d);
  }
  count(e: string): number {
    return this.c.counts[e] ?? 0;
  }
  sustained(key: string, holds: boolean, minutes: number): boolean {
    const c = this.c;
    const k = sinceKey(key, minutes);
    if (!holds) {
      if (k in c.conditions.since) delete c.conditions.since[k];
      return false;
    }
    const since = c.conditions.since;
    const s = since[k] ?? (since[k] = c.t);
    return c.t - s >= minutes - EPS;
  }
}

const sinceKeys = new Map<string, Map<number, string>>();
/** `${key}#${minutes}`, built once per `for` node. */
function sinceKey(key: string, minutes: number): string {
  let byMinutes = sinceKeys.get(key);
  if (!byMinutes) sinceKeys.set(key, (byMinutes = new Map()));
  let k = byMinutes.get(minutes);
  if (k === undefined) byMinutes.set(minutes, (k = `${key}#${minutes}`));
  return k;
}

// ── Population ───────────────────────────────────────────────────────────

function exclusion(p: Plan, c: SessionContext): { reason: string; span: SourceSpan } | null {
  if (!c.participant || !p.dosing) return null;
  return populationExclusion(p.ir, c.participant, makeEnv(p, c));
}

/**
 * The first `population` line that excludes this participant profile, or
 * null: age outside the range, an `exclude` flag, an `exclude when`
 * condition (evaluated with `env`; by default on the profile alone:
 * `baseline` reads the profile's baselines, anything unknown is unknown and
 * does not exclude).
 */
export function populationExclusion(ir: IR, who: ParticipantProfile, env?: EvalEnv): { reason: string; span: SourceSpan } | null {
  const pop = ir.population;
  if (!pop) return null;
  if (pop.age && who.age !== undefined && (who.age < pop.age.min || who.age > pop.age.max)) {
    return { reason: `participant excluded: age ${who.age} is outside ${pop.age.min}..${pop.age.max}`, span: pop.age.span };
  }
  for (const f of pop.exclude) {
    if (who.flags?.includes(f.flag)) return { reason: `participant excluded: ${f.flag}`, span: f.span };
  }
  const e = env ?? profileEnv(who);
  for (const w of pop.excludeWhen) {
    if (evaluate(w.expr, e, 'x') === true) return { reason: 'participant excluded by a population condition', span: w.span };
  }
  return null;
}

function profileEnv(who: ParticipantProfile): EvalEnv {
  return {
    measure: () => null,
    baseline: (n) => who.baseline?.[n] ?? null,
    caution: (f) => who.flags?.includes(f) ?? false,
    eventNow: () => false,
    inStage: () => false,
    paused: () => false,
    outcome: () => false,
    elapsed: () => 0,
    present: () => 0,
    free: () => 0,
    dose: () => 0,
    count: () => 0,
    sustained: () => false,
  };
}
