/**
 * Events into and out of a protocol machine, and `validateEvent`, the check
 * the machine runs on every event it receives (apps may call it before
 * `send` to get the verdict synchronously).
 */
import type { CompareOp, Delivery, Dose, IR, Outcome, Route, SourceSpan } from './ir.js';

// ── In ───────────────────────────────────────────────────────────────────

/** Readings, one per measure name, in the measure's declared unit. */
export interface MeasureEvent {
  readonly type: 'measure';
  readonly values: Readonly<Record<string, number>>;
  readonly participant?: string;
}
/** A discrete observation: one of the declared events. */
export interface ObservationEvent {
  readonly type: 'event';
  readonly name: string;
  readonly participant?: string;
}
export interface StaffEvent {
  readonly type: 'staff.arrive' | 'staff.leave';
  readonly role: string;
}
export type ProtocolInEvent = MeasureEvent | ObservationEvent | StaffEvent;

/** Sent by the machine's own timer; not for apps. `at` is the clock reading (ms) it was due. */
export interface WakeEvent {
  readonly type: 'kapspec.wake';
  readonly at: number;
}

// ── Out (emitted) ────────────────────────────────────────────────────────

interface OutBase {
  /** Session time in minutes when it happened. */
  readonly at: number;
  readonly participant?: string;
}
/** The rule that caused an emitted event, and where it is written. */
interface ByRule {
  readonly rule: string;
  readonly span: SourceSpan;
}

export interface MeasureRequest extends OutBase {
  readonly type: 'measure.request';
  readonly measures: readonly string[];
  readonly stage: string;
  /** `monitor … continuously`: stream readings for as long as the stage lasts. */
  readonly continuous?: true;
  readonly span: SourceSpan;
}
export interface NotifyOut extends OutBase, ByRule {
  readonly type: 'notify';
  readonly role: string;
}
export interface GiveOut extends OutBase, ByRule {
  readonly type: 'give';
  readonly drug: string;
  readonly dose: Dose;
  readonly route?: Route;
}
export interface ReduceOut extends OutBase, ByRule {
  readonly type: 'reduce';
  readonly drug: string;
  readonly to: Dose;
}
/** A stage's `administer` line: started at stage entry; paused, resumed or stopped with the stage. */
export interface AdministerOut extends OutBase {
  readonly type: 'administer';
  readonly phase: 'start' | 'pause' | 'resume' | 'stop';
  readonly drug: string;
  readonly dose: Dose;
  readonly route: Route;
  readonly delivery: Delivery;
  readonly stage: string;
  /** Dose delivered so far, in the drug's tracking unit. */
  readonly delivered: number;
  readonly rule?: string;
  readonly span: SourceSpan;
}
export interface AttendOut extends OutBase, ByRule {
  readonly type: 'attend';
  readonly role: string;
  /** `assigned`: a free person was taken from the pool; `waiting`: none free yet. */
  readonly status: 'assigned' | 'waiting';
  /**
   * The participant already has someone of this role with them (or being
   * found for them): that person stays on, for the longer time, and no one
   * else is taken from the pool.
   */
  readonly continues?: true;
  readonly minutes?: number;
  readonly within?: number;
}
export interface EscalateOut extends OutBase, ByRule {
  readonly type: 'escalate';
  readonly level: string;
}
export interface StageOut extends OutBase {
  readonly type: 'stage';
  readonly stage: string;
  /** `stop` (group sessions): a rule ended this participant's part of the stage early; the group moves on together. */
  readonly phase: 'enter' | 'exit' | 'pause' | 'resume' | 'skip' | 'stop';
  readonly rule?: string;
  readonly span: SourceSpan;
}
export interface RuleFiredOut extends OutBase, ByRule {
  readonly type: 'rule';
}
export interface StaffingViolationOut extends OutBase {
  readonly type: 'staffing.violation';
  /** `line`: a staffing line does not hold; `attend`: no one was free within the time. */
  readonly kind: 'line' | 'attend';
  readonly role: string;
  readonly op?: CompareOp;
  readonly required: number;
  readonly actual: number;
  readonly stage: string;
  readonly rule?: string;
  readonly span: SourceSpan;
}
export interface InputRejectedOut {
  readonly type: 'input.rejected';
  readonly code: InputErrorCode;
  readonly reason: string;
  readonly event: unknown;
  readonly at: number;
}

export type ProtocolEmitted =
  | MeasureRequest
  | NotifyOut
  | GiveOut
  | ReduceOut
  | AdministerOut
  | AttendOut
  | EscalateOut
  | StageOut
  | RuleFiredOut
  | StaffingViolationOut
  | InputRejectedOut;

/** `actor.getSnapshot().output` once the session is over. */
export interface SessionOutput {
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly rule?: string;
  /** The line that decided the outcome (rule action, gate, discharge, population). */
  readonly span?: SourceSpan;
  /** Session time in minutes. */
  readonly at: number;
}

/**
 * The output of a group session: each participant's own outcome (by id, in
 * the order given), and a summary outcome for the group: `discharged` when
 * every participant was discharged, else the most serious outcome any
 * participant had (escalated > ended > deferred), with that participant's
 * reason, rule and span. `at` is when the last participant left.
 */
export interface GroupOutput extends SessionOutput {
  readonly participants: Readonly<Record<string, SessionOutput>>;
  /** The participant whose outcome the summary names (absent when all were discharged). */
  readonly participant?: string;
}

// ── Validation ───────────────────────────────────────────────────────────

export type InputErrorCode =
  | 'malformed'
  | 'unknown-type'
  | 'unknown-measure'
  | 'not-a-number'
  | 'out-of-range'
  | 'unknown-event'
  | 'unknown-role'
  | 'no-one-to-leave'
  | 'unexpected-participant'
  | 'missing-participant'
  | 'unknown-participant'
  | 'participant-left'
  | 'session-over';

export interface InputError {
  readonly code: InputErrorCode;
  readonly message: string;
}

export type EventCheck = { readonly ok: true } | { readonly ok: false; readonly error: InputError };

const OK: EventCheck = { ok: true };

/**
 * Group sessions: `measure` and `event` name the participant they are about;
 * staff events are about the shared pool and name none. With `participants`
 * (the session's ids), the id must be one of them.
 */
function checkParticipant(e: Record<string, unknown>, participants: readonly string[] | undefined): EventCheck | null {
  const about = e.type === 'measure' || e.type === 'event';
  if (!about) {
    if (e.participant !== undefined && (e.type === 'staff.arrive' || e.type === 'staff.leave')) {
      return bad('unexpected-participant', `a "${e.type}" event is about the shared staff pool: it carries no "participant"`);
    }
    return null;
  }
  if (e.participant === undefined) {
    return bad('missing-participant', `this is a group session: a "${e.type}" event needs "participant", the id of the participant it is about`);
  }
  if (typeof e.participant !== 'string') {
    return bad('malformed', `"participant" must be a participant id (a string), got ${JSON.stringify(e.participant) ?? String(e.participant)}`);
  }
  if (participants && !participants.includes(e.participant)) {
    return bad('unknown-participant', `"${e.participant}" is not a participant of this session (participants: ${participants.join(', ')})`);
  }
  return null;
}
const bad = (code: InputErrorCode, message: string): EventCheck => ({ ok: false, error: { code, message } });

/** The declared measures by name (built once per IR: every event is checked). */
const measureMaps = new WeakMap<IR, ReadonlyMap<string, IR['measures'][number]>>();
function measuresOf(ir: IR): ReadonlyMap<string, IR['measures'][number]> {
  let m = measureMaps.get(ir);
  if (!m) measureMaps.set(ir, (m = new Map(ir.measures.map((x) => [x.name, x]))));
  return m;
}

/**
 * Checks an incoming event against the IR: known type, declared measure,
 * event and role names, finite readings inside the declared range. The
 * machine runs the same check and, on failure, emits `input.rejected` and
 * leaves its state unchanged.
 */
export function validateEvent(ir: IR, event: unknown, participants?: readonly string[]): EventCheck {
  if (typeof event !== 'object' || event === null) return bad('malformed', 'an event must be an object with a "type"');
  const e = event as Record<string, unknown>;
  if (e.participant !== undefined && ir.setting.mode === 'individual') {
    return bad('unexpected-participant', 'this is an individual session: events carry no "participant"');
  }
  if (ir.setting.mode === 'group') {
    const bad2 = checkParticipant(e, participants);
    if (bad2) return bad2;
  }
  switch (e.type) {
    case 'measure': {
      const values = e.values;
      if (typeof values !== 'object' || values === null || Array.isArray(values)) {
        return bad('malformed', 'a "measure" event needs "values": an object of readings such as { "sbp": 152 }');
      }
      const byName = measuresOf(ir);
      let n = 0;
      for (const name in values as Record<string, unknown>) {
        if (!Object.hasOwn(values, name)) continue;
        n++;
        const v = (values as Record<string, unknown>)[name];
        const m = byName.get(name);
        if (!m) {
          return bad('unknown-measure', `"${name}" is not a declared measure (declared: ${ir.measures.map((x) => x.name).join(', ') || 'none'})`);
        }
        if (typeof v !== 'number' || Number.isNaN(v)) {
          return bad('not-a-number', `the reading for "${name}" is not a number: ${JSON.stringify(v) ?? String(v)}`);
        }
        if (!Number.isFinite(v) || v < m.min || v > m.max) {
          return bad('out-of-range', `${name} ${v} ${m.unit} is outside the possible range ${m.min}..${m.max} ${m.unit}`);
        }
      }
      if (n === 0) return bad('malformed', 'a "measure" event needs at least one reading');
      return OK;
    }
    case 'event': {
      if (typeof e.name !== 'string') return bad('malformed', 'an "event" event needs a "name"');
      if (!ir.events.some((x) => x.name === e.name)) {
        return bad('unknown-event', `"${e.name}" is not a declared event (declared: ${ir.events.map((x) => x.name).join(', ') || 'none'})`);
      }
      return OK;
    }
    case 'staff.arrive':
    case 'staff.leave': {
      if (typeof e.role !== 'string') return bad('malformed', `a "${e.type}" event needs a "role"`);
      if (!ir.roles.some((x) => x.name === e.role)) {
        return bad('unknown-role', `"${e.role}" is not a declared role (declared: ${ir.roles.map((x) => x.name).join(', ') || 'none'})`);
      }
      return OK;
    }
    default:
      return bad('unknown-type', `unknown event type ${JSON.stringify(e.type)}: expected "measure", "event", "staff.arrive" or "staff.leave"`);
  }
}
