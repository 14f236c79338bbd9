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
import { evaluate, elapsedThresholds, measuresOf, mentionsEvent, type EvalEnv } from './eval.js';
import type { ProtocolEmitted, ProtocolInEvent, SessionOutput } from './events.js';
import type { Action, Administer, CompareOp, Dose, DoseUnit, IR, Outcome, Rule, Session, SourceSpan, Stage } from './ir.js';

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
  ruleWas: Record<string, boolean>;
  /** `for` nodes: since when the inner condition has held. */
  since: Record<string, number>;
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
}

export function plan(ir: IR, session: Session): Plan {
  const th = new Set<number>();
  session.rules.forEach((r) => {
    elapsedThresholds(r.when, th);
    if (r.resume) elapsedThresholds(r.resume, th);
  });
  if (session.discharge) elapsedThresholds(session.discharge.expr, th);
  session.stages.forEach((s) => s.gates.forEach((g) => elapsedThresholds(g.expr, th)));
  return {
    ir,
    session,
    gateMeasures: session.stages.map((s) => s.gates.map((g) => [...measuresOf(g.expr)])),
    eventRules: new Set(session.rules.filter((r) => mentionsEvent(r.when)).map((r) => r.id)),
    thresholds: [...th].sort((a, b) => a - b),
    dosing: session.stages.some((s) => s.administer.length > 0),
    group: ir.setting.mode === 'group',
  };
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
    stopped: [],
    last: {},
    first: {},
    counts: {},
    given: {},
    infusions: [],
    ruleWas: {},
    since: {},
    present,
    busy: [],
    pending: [],
    lineOk: p.session.staffing.map(() => true),
    violations: [],
  };
}

/** Starts the session at t = 0: population check, first stage. */
export function start(p: Plan, c: SessionContext, out: Out): void {
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
  for (let guard = 0; guard < 100_000 && !c.outcome; guard++) {
    const d = nextDeadline(p, c);
    if (d === null || d > t + EPS) break;
    tick(p, c, Math.max(d, c.t), out);
  }
  if (!c.outcome && t > c.t) c.t = t;
}

/** Applies a validated input event at session minute `t` (after `advanceTo(t)`). */
export function apply(p: Plan, c: SessionContext, e: ProtocolInEvent, out: Out): void {
  if (c.outcome) return;
  switch (e.type) {
    case 'measure':
      for (const [name, value] of Object.entries(e.values)) {
        c.last[name] = { value, at: c.t };
        if (!(name in c.first)) c.first[name] = value;
      }
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

/** The next session minute at which something is due, or null. */
export function nextDeadline(p: Plan, c: SessionContext): number | null {
  if (c.outcome) return null;
  let best: number | null = null;
  const consider = (d: number | null | undefined) => {
    if (d === null || d === undefined || d <= c.t + EPS) return;
    if (best === null || d < best) best = d;
  };
  consider(stageDue(p, c));
  for (const n of c.stage.monitorNext) consider(n);
  if (!p.group) {
    for (const b of c.busy) consider(b.until);
    for (const q of c.pending) consider(q.deadline);
  }
  for (const [k, s] of Object.entries(c.since)) consider(s + forMinutes(k));
  consider(p.thresholds.find((x) => x > c.t + EPS));
  return best;
}

// ── Time steps ───────────────────────────────────────────────────────────

/** Staff at instant `d`: releases first, then waits that can be served, then expired waits. */
export function staffTick(p: Plan, c: StaffState, d: number, out: Out): void {
  const released = c.busy.filter((b) => b.until <= d + EPS);
  if (released.length) c.busy = c.busy.filter((b) => b.until > d + EPS);
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
  stage.monitors.forEach((m, i) => {
    const n = c.stage.monitorNext[i];
    if (n === null || n === undefined || n > d + EPS) return;
    if (m.schedule.kind === 'every') {
      if (!endsNow) request(p, c, i, out);
      c.stage.monitorNext[i] = n + m.schedule.minutes;
    } else {
      request(p, c, i, out);
      c.stage.monitorNext[i] = null;
    }
  });
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

function evaluateAll(p: Plan, c: SessionContext, out: Out, eventNow?: string): void {
  const env = makeEnv(p, c, eventNow);
  const stops: { stage: string; rule: Rule }[] = [];
  for (const r of p.session.rules) {
    const w = evaluate(r.when, env, `w:${r.id}`) === true;
    const fire = w && (!c.ruleWas[r.id] || (eventNow !== undefined && p.eventRules.has(r.id)));
    c.ruleWas[r.id] = w;
    if (fire) {
      fireRule(p, c, r, out, stops);
      if (c.outcome) return;
    }
  }
  // Resumes: a rule holding a pause lets go when its resume condition holds.
  for (const r of p.session.rules) {
    if (!r.resume || !c.stage.pausers.includes(r.id)) continue;
    if (evaluate(r.resume, env, `r:${r.id}`) === true) {
      c.stage.pausers = c.stage.pausers.filter((x) => x !== r.id);
      if (c.stage.pausers.length === 0) resumeStage(p, c, r, out);
    }
  }
  for (const s of stops) stopStage(p, c, s.stage, s.rule, out);
  if (c.outcome) return;
  // Gates: evaluated once every measure they read was observed in this stage.
  const stage = currentStage(p, c);
  stage.gates.forEach((g, i) => {
    if (c.outcome || c.stage.gates[i] !== 'pending') return;
    const needs = p.gateMeasures[c.stageIndex]![i]!;
    if (!needs.every((m) => (c.last[m]?.at ?? -1) >= c.stage.enteredAt - EPS)) return;
    const v = evaluate(g.expr, makeEnv(p, c), `g:${c.stageIndex}:${i}`);
    if (v === true) c.stage.gates[i] = 'passed';
    else if (v === false) gateFails(c, g.otherwise.kind, g.otherwise.reason, g.span);
  });
  if (c.outcome) return;
  if (isLast(p, c) && c.stage.minReached) {
    const d = p.session.discharge;
    if (!d || evaluate(d.expr, makeEnv(p, c), 'discharge') === true) {
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

function gateFails(c: SessionContext, kind: 'defer' | 'endSession', reason: string, span: SourceSpan, note = ''): void {
  finish(c, { outcome: kind === 'defer' ? 'deferred' : 'ended', reason: reason + note, span, at: c.t });
}

function checkStageEnd(p: Plan, c: SessionContext, out: Out): void {
  const stage = currentStage(p, c);
  const active = activeMinutes(c);
  const dur = stage.duration;
  if (isLast(p, c)) {
    const min = dur.exact ?? dur.atLeast ?? 0;
    if (!c.stage.minReached && active >= min - EPS) {
      if (!resolveGatesAtEnd(p, c)) return;
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
  if (!resolveGatesAtEnd(p, c)) return;
  if (p.group) c.stage.ready = true;
  else moveOn(p, c, out);
}

/** A gate still pending when its stage ends is decided with what is known; unknown fails it. */
function resolveGatesAtEnd(p: Plan, c: SessionContext): boolean {
  const stage = currentStage(p, c);
  for (let i = 0; i < stage.gates.length; i++) {
    if (c.stage.gates[i] !== 'pending') continue;
    const g = stage.gates[i]!;
    const v = evaluate(g.expr, makeEnv(p, c), `g:${c.stageIndex}:${i}`);
    if (v === true) {
      c.stage.gates[i] = 'passed';
      continue;
    }
    const missing = p.gateMeasures[c.stageIndex]![i]!.filter((m) => (c.last[m]?.at ?? -1) < c.stage.enteredAt - EPS);
    const note = v === null || missing.length ? ` (not measured in ${stage.name}: ${missing.join(', ') || 'unknown value'})` : '';
    gateFails(c, g.otherwise.kind, g.otherwise.reason, g.span, note);
    return false;
  }
  return true;
}

// ── Stages ───────────────────────────────────────────────────────────────

function emptyStage(t: number): StageRun {
  return { enteredAt: t, active: 0, resumedAt: t, pausers: [], minReached: false, gates: [], monitorNext: [] };
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
    c.stage.gates = s.gates.map(() => 'passed');
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
    if (!d || evaluate(d.expr, makeEnv(p, c), 'discharge') === true) {
      finish(c, { outcome: 'discharged', ...(d ? { span: d.span } : {}), at: c.t });
    } else {
      finish(c, { outcome: 'ended', reason: 'the last stage was stopped before the discharge criteria were met', span: d.span, at: c.t });
    }
    return;
  }
  c.stageIndex = i;
  const s = p.session.stages[i]!;
  c.stage = emptyStage(c.t);
  c.stage.gates = s.gates.map(() => 'pending');
  c.stage.monitorNext = s.monitors.map((m) => {
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
  c.stage.monitorNext = [];
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
  for (const k of Object.keys(c.since)) if (k.startsWith(`r:${rule.id}.`) || k.startsWith(`r:${rule.id}#`)) delete c.since[k];
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
      c.stage.pausers = [];
      c.stage.gates = c.stage.gates.map(() => 'passed');
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
  for (const a of r.actions) act(p, c, r, a, out, stops);
}

function act(p: Plan, c: SessionContext, r: Rule, a: Action, out: Out, stops: { stage: string; rule: Rule }[]): void {
  const by = { rule: r.id, span: a.span, at: c.t };
  switch (a.kind) {
    case 'pause':
      if (currentStage(p, c).name === a.stage) pauseStage(p, c, r, out);
      return;
    case 'stop':
      stops.push({ stage: a.stage, rule: r });
      return;
    case 'endSession':
      finish(c, { outcome: 'ended', reason: a.reason, rule: r.id, span: a.span, at: c.t });
      return;
    case 'defer':
      finish(c, { outcome: 'deferred', reason: a.reason, rule: r.id, span: a.span, at: c.t });
      return;
    case 'escalate':
      out.push({ type: 'escalate', level: a.level, ...by });
      finish(c, { outcome: 'escalated', reason: a.level, rule: r.id, span: a.span, at: c.t });
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
      if (free(p, c, a.role) > 0) {
        if (minutes !== null && minutes > 0) c.busy.push({ role: a.role, until: c.t + minutes, rule: r.id, ...who(c) });
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

function finish(c: SessionContext, o: SessionOutput): void {
  if (!c.outcome) c.outcome = o;
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
    if (q.minutes !== null && q.minutes > 0) c.busy.push({ role: q.role, until: c.t + q.minutes, rule: q.rule, ...pt });
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
  const stage = currentStage(p, c).name;
  p.session.staffing.forEach((l, i) => {
    const applies = l.during.length === 0 || l.during.includes(stage);
    const required = l.count * (l.perParticipants ? Math.ceil(participants / l.perParticipants) : 1);
    const actual = p.group ? free(p, c, l.role) : (c.present[l.role] ?? 0);
    const ok = !applies || compare(actual, l.op, required);
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

function compare(a: number, op: string, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    default:
      return a !== b;
  }
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
  out.push({
    type: 'measure.request',
    measures: [...m.measures],
    stage: s.name,
    ...(m.schedule.kind === 'continuously' ? { continuous: true as const } : {}),
    span: m.span,
    at: c.t,
  });
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
  const stageName = currentStage(p, c).name;
  return {
    measure: (n) => c.last[n]?.value ?? null,
    baseline: (n) => c.participant?.baseline?.[n] ?? c.first[n] ?? null,
    caution: (f) => c.participant?.flags?.includes(f) ?? false,
    eventNow: (n) => n === eventNow,
    inStage: (s) => !c.outcome && s === stageName,
    paused: (s) => s === stageName && c.stage.resumedAt === null && c.stage.pausers.length > 0,
    outcome: (o) => c.outcome?.outcome === (o as Outcome),
    elapsed: () => c.t,
    present: (r) => c.present[r] ?? 0,
    free: (r) => free(p, c, r),
    dose: (d) => doseDelivered(p, c, d),
    count: (e) => c.counts[e] ?? 0,
    sustained: (key, holds, minutes) => {
      const k = `${key}#${minutes}`;
      if (!holds) {
        delete c.since[k];
        return false;
      }
      const s = c.since[k] ?? (c.since[k] = c.t);
      return c.t - s >= minutes - EPS;
    },
  };
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
