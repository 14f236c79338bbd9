/**
 * `createSessionEngine(ir, options)`: the step functions of one session
 * (individual or group) behind one interface. This is what
 * `createProtocolMachine` wraps in XState (machine.ts): every transition of
 * the machine is one call here on a copy of its context. Simulators that run
 * many sessions in a tight loop (the simulator's Monte Carlo statistics) call
 * these functions directly on a context they own, without an actor; the
 * simulator's tests check that both ways give the same trace, byte for byte.
 *
 * Apps embedding a protocol should use the machine: it adds the timer,
 * persistence, inspection and tags. The engine has no clock: the caller
 * passes session minutes, and must validate input with `check` before
 * `apply`, as the machine does.
 */
import {
  advanceTo,
  apply,
  cloneContext,
  initialContext,
  isPaused,
  nextDeadline,
  plan,
  quietRange,
  quietReading,
  sessionStateOf,
  start,
  type ParticipantProfile,
  type Plan,
  type QuietRange,
  type SessionContext,
  type SessionState,
} from './engine.js';
import { validateEvent, type EventCheck, type GroupOutput, type ProtocolEmitted, type ProtocolInEvent, type SessionOutput } from './events.js';
import {
  cloneGroup,
  groupAdvanceTo,
  groupApply,
  groupInitial,
  groupNextDeadline,
  groupPaused,
  groupStart,
  groupStateOf,
  type GroupContext,
  type GroupParticipant,
  type GroupSessionState,
} from './group.js';
import type { IR, Outcome, Session, Stage } from './ir.js';
import { IRError } from './load.js';

export interface ProtocolMachineOptions {
  /** Session name; may be left out when the protocol has one session. */
  readonly session?: string;
  /** Checked against `population` (an excluded participant is never dosed); read by `caution` and `baseline`. */
  readonly participant?: ParticipantProfile;
  /** Staff present at the start, by role. Default: each role's declared minimum. */
  readonly staff?: Readonly<Record<string, number>>;
  /** Clock reading in ms. Default: the actor clock's `now()` if it has one, else `Date.now()`. */
  readonly now?: () => number;
}

export interface GroupMachineOptions extends Omit<ProtocolMachineOptions, 'participant'> {
  /**
   * The participants of a group session, in a fixed order (the order in
   * which simultaneous things are processed). Their number must be inside
   * the protocol's `setting group n..m`. Ids: non-empty, no `.`, `#`, `/` or
   * whitespace (they name XState states).
   * Staff default: each role's declared minimum, times ceil(n / N) for a
   * role declared `per N participants`.
   */
  readonly participants: readonly GroupParticipant[];
}

export type SessionOptionsErrorCode = 'group-size' | 'participants-required' | 'not-a-group' | 'bad-participant-id' | 'duplicate-participant';

/** Options that do not fit the protocol (group size outside `n..m`, a participant list for an individual session, …). */
export class SessionOptionsError extends Error {
  override readonly name = 'SessionOptionsError';
  constructor(
    readonly code: SessionOptionsErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

/**
 * One session's semantics as methods over a context `C` that they change
 * in place (`clone` first to keep the previous one); call them on the
 * engine, not detached from it. Times are session minutes; `origin` is the
 * clock reading (ms) of minute 0.
 */
export interface SessionEngine<C extends { origin: number; t: number } = SessionContext | GroupContext, O = SessionOutput | GroupOutput> {
  readonly id: string;
  readonly session: Session;
  readonly stages: readonly Stage[];
  /** Group sessions: the participant ids, in processing order. */
  readonly participants?: readonly string[];
  init(origin: number): C;
  /** A copy the other functions may change without touching `c`. */
  clone(c: C): C;
  /** Enters the first stage (or defers an excluded participant). */
  start(c: C, out: ProtocolEmitted[]): void;
  /** Processes every deadline up to session minute `t`. */
  advanceTo(c: C, t: number, out: ProtocolEmitted[]): void;
  /** Applies an input event that `check` accepted, at the context's minute (call `advanceTo` first). */
  apply(c: C, e: ProtocolInEvent, out: ProtocolEmitted[]): void;
  /** The next session minute at which something is due, or null. */
  nextDeadline(c: C): number | null;
  /**
   * Applies the readings of a `measure` event at session minute `t` when
   * the engine can tell that they change nothing but the latest
   * observations (no rule, resume or discharge condition changes, nothing
   * is due) and that `check` would accept them: returns true, and the
   * context is exactly what `advanceTo` and `apply` would have made it, with
   * nothing emitted. Otherwise returns false and changes nothing (then
   * `check`, `advanceTo` and `apply` as usual). Only engines from
   * `createSessionEngine` of an individual session can tell; others always
   * return false.
   */
  quietReading(c: C, values: Readonly<Record<string, number>>, t: number): boolean;
  /**
   * For a caller offering many readings of one measure in a row (a pulse
   * oximeter every minute): `quietReading` of that measure as a range worked
   * out once, `accepts(value, t)` and `apply(value, t)` (engine.ts
   * `QuietRange`). Null when no reading of `measure` can be quiet now; group
   * sessions: always null.
   */
  quietRange(c: C, measure: string): QuietRange | null;
  stageIndex(c: C): number;
  paused(c: C): boolean;
  outcome(c: C): Outcome | null;
  /** The session's output once it has an outcome. */
  output(c: C): O;
  /** Whether `event` is acceptable now (shape, names, ranges, someone present to leave, participant still there). */
  check(c: C, event: unknown): EventCheck;
  state(c: C): SessionState | GroupSessionState;
  /** Group sessions: one participant's outcome. */
  participantOutcome?(c: C, id: string): Outcome | null;
}

export type IndividualEngine = SessionEngine<SessionContext, SessionOutput>;
export type GroupEngine = SessionEngine<GroupContext, GroupOutput>;

/**
 * The engine of one session of `ir`. Throws `IRError` for an unknown session
 * and `SessionOptionsError` for options that do not fit the protocol, exactly
 * as `createProtocolMachine` does.
 */
export function createSessionEngine(ir: IR, options: GroupMachineOptions): GroupEngine;
export function createSessionEngine(ir: IR, options?: ProtocolMachineOptions): IndividualEngine;
export function createSessionEngine(ir: IR, options?: ProtocolMachineOptions | GroupMachineOptions): IndividualEngine | GroupEngine;
export function createSessionEngine(ir: IR, options: ProtocolMachineOptions | GroupMachineOptions = {}): IndividualEngine | GroupEngine {
  return sessionEngine(ir, options, true);
}

/**
 * `createSessionEngine` for a caller that copies the context before every
 * step (`incremental: false`, the XState machine) or changes one context in
 * place (`true`: conditions whose inputs did not change are not evaluated
 * again; engine.ts `evaluateAll`).
 */
export function sessionEngine(ir: IR, options: ProtocolMachineOptions | GroupMachineOptions, incremental: boolean): IndividualEngine | GroupEngine {
  const session = pickSession(ir, options.session);
  const group = 'participants' in options && options.participants !== undefined ? options.participants : null;
  if (ir.setting.mode === 'group') {
    if (!group) {
      throw new SessionOptionsError(
        'participants-required',
        `"${ir.protocol.title}" is a group protocol (setting group ${ir.setting.min}..${ir.setting.max}): pass participants: [{ id, profile? }, …]`,
      );
    }
    checkParticipants(ir.setting.min, ir.setting.max, group);
    return groupEngine(planOf(ir, session, incremental), ir, session, group, options.staff);
  }
  if (group) throw new SessionOptionsError('not-a-group', `"${ir.protocol.title}" is an individual protocol: pass participant, not participants`);
  return individualEngine(planOf(ir, session, incremental), ir, session, options as ProtocolMachineOptions);
}

// Plans by IR document, session and incrementality: a plan is immutable (its compiled expressions
// are pure), and a simulator builds an engine per session, thousands of times over the same IR.
const plans = new WeakMap<IR, Map<Session, { incremental?: Plan; copying?: Plan }>>();
function planOf(ir: IR, session: Session, incremental: boolean): Plan {
  let bySession = plans.get(ir);
  if (bySession === undefined) plans.set(ir, (bySession = new Map()));
  let both = bySession.get(session);
  if (both === undefined) bySession.set(session, (both = {}));
  const key = incremental ? 'incremental' : 'copying';
  return (both[key] ??= plan(ir, session, incremental));
}

function individualEngine(p: Plan, ir: IR, session: Session, options: ProtocolMachineOptions): IndividualEngine {
  return new Individual(p, ir, session, options);
}

/**
 * An individual session's engine: methods on the prototype, not closures,
 * as a simulator makes one engine per simulated session.
 */
class Individual implements IndividualEngine {
  readonly id: string;
  readonly stages: readonly Stage[];
  private readonly opts: { participant?: ParticipantProfile; staff?: Readonly<Record<string, number>> };
  constructor(
    private readonly p: Plan,
    private readonly ir: IR,
    readonly session: Session,
    options: ProtocolMachineOptions,
  ) {
    this.id = `kapspec-${session.name}`;
    this.stages = session.stages;
    this.opts = options.participant ? (options.staff ? { participant: options.participant, staff: options.staff } : { participant: options.participant }) : options.staff ? { staff: options.staff } : {};
  }
  init(origin: number): SessionContext {
    return initialContext(this.p, origin, this.opts);
  }
  clone(c: SessionContext): SessionContext {
    return cloneContext(c);
  }
  start(c: SessionContext, out: ProtocolEmitted[]): void {
    start(this.p, c, out);
  }
  advanceTo(c: SessionContext, t: number, out: ProtocolEmitted[]): void {
    advanceTo(this.p, c, t, out);
  }
  apply(c: SessionContext, e: ProtocolInEvent, out: ProtocolEmitted[]): void {
    apply(this.p, c, e, out);
  }
  nextDeadline(c: SessionContext): number | null {
    return nextDeadline(this.p, c);
  }
  quietReading(c: SessionContext, values: Readonly<Record<string, number>>, t: number): boolean {
    return quietReading(this.p, c, values, t);
  }
  quietRange(c: SessionContext, measure: string): QuietRange | null {
    return quietRange(this.p, c, measure);
  }
  stageIndex(c: SessionContext): number {
    return c.stageIndex;
  }
  paused(c: SessionContext): boolean {
    return isPaused(c);
  }
  outcome(c: SessionContext): Outcome | null {
    return c.outcome?.outcome ?? null;
  }
  output(c: SessionContext): SessionOutput {
    return c.outcome as SessionOutput;
  }
  check(c: SessionContext, event: unknown): EventCheck {
    return checkIn(this.ir, c.present, event);
  }
  state(c: SessionContext): SessionState {
    return sessionStateOf(this.p, c);
  }
}

function groupEngine(p: Plan, ir: IR, session: Session, participants: readonly GroupParticipant[], staff: Readonly<Record<string, number>> | undefined): GroupEngine {
  const ids = participants.map((x) => x.id);
  return {
    id: `kapspec-${session.name}`,
    session,
    stages: session.stages,
    init: (origin) => groupInitial(p, origin, participants, staff),
    clone: cloneGroup,
    start: (c, out) => groupStart(p, c, out),
    advanceTo: (c, t, out) => groupAdvanceTo(p, c, t, out),
    apply: (c, e, out) => groupApply(p, c, e, out),
    nextDeadline: (c) => groupNextDeadline(p, c),
    quietReading: () => false,
    quietRange: () => null,
    stageIndex: (c) => c.stageIndex,
    paused: (c) => groupPaused(c),
    outcome: (c) => c.outcome?.outcome ?? null,
    output: (c) => c.outcome as GroupOutput,
    check: (c, event) => {
      const check = checkIn(ir, c.present, event, ids);
      if (!check.ok) return check;
      const who = (event as { participant?: string }).participant;
      const m = who === undefined ? undefined : c.members.find((x) => x.who === who);
      if (m?.outcome) {
        return { ok: false, error: { code: 'participant-left', message: `participant "${who}" has left the session (${m.outcome.outcome} at ${m.outcome.at} min)` } };
      }
      return check;
    },
    state: (c) => groupStateOf(p, c),
    participants: ids,
    participantOutcome: (c, id) => c.members.find((x) => x.who === id)?.outcome?.outcome ?? null,
  };
}

function checkParticipants(min: number, max: number, list: readonly GroupParticipant[]): void {
  if (!Array.isArray(list)) throw new SessionOptionsError('participants-required', 'participants must be an array of { id, profile? }');
  if (list.length < min || list.length > max) {
    throw new SessionOptionsError('group-size', `the protocol runs groups of ${min}..${max} participants; ${list.length} were given`);
  }
  const seen = new Set<string>();
  list.forEach((pt, i) => {
    const id = (pt as { id?: unknown } | null)?.id;
    if (typeof id !== 'string' || !/^[^.#/\s]+$/.test(id)) {
      throw new SessionOptionsError('bad-participant-id', `participants[${i}].id must be a non-empty string without ".", "#", "/" or spaces, got ${JSON.stringify(id) ?? String(id)}`);
    }
    if (seen.has(id)) throw new SessionOptionsError('duplicate-participant', `participant id "${id}" is given twice`);
    seen.add(id);
  });
}

function pickSession(ir: IR, name: string | undefined): Session {
  if (name === undefined) {
    if (ir.sessions.length === 1) return ir.sessions[0]!;
    throw new IRError('unknown-name', '$.sessions', `the protocol has ${ir.sessions.length} sessions: name one (${ir.sessions.map((s) => s.name).join(', ')})`);
  }
  const s = ir.sessions.find((x) => x.name === name);
  if (!s) throw new IRError('unknown-name', '$.sessions', `no session "${name}" (sessions: ${ir.sessions.map((x) => x.name).join(', ')})`);
  return s;
}

/** `validateEvent`, plus what only the running session knows: someone must be present to leave. */
function checkIn(ir: IR, present: Readonly<Record<string, number>>, event: unknown, participants?: readonly string[]): EventCheck {
  const check = validateEvent(ir, event, participants);
  if (!check.ok) return check;
  const e = event as ProtocolInEvent;
  if (e.type === 'staff.leave' && (present[e.role] ?? 0) <= 0) {
    return { ok: false, error: { code: 'no-one-to-leave', message: `no ${e.role} is present to leave` } };
  }
  return check;
}
