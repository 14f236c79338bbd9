/**
 * `createProtocolMachine(ir, { session })`: a real XState v5 machine for one
 * individual session. The semantics live in engine.ts (plain functions over
 * a JSON context); this file wires them into XState:
 *
 * - Every input event and every timer wake-up is one transition with one
 *   action: copy the context (only the parts the engine changes, see
 *   `cloneContext`), run the engine on the copy, assign it, emit what it
 *   emitted.
 * - `session` is a parallel state with two regions: `stage` mirrors the
 *   current stage (`stage.infusion.running` / `stage.infusion.paused`), and
 *   `clock` holds the single timer. The mirror moves only when a step
 *   changed the stage, the pause or the outcome: the step then raises
 *   `kapspec.sync`, whose guarded transitions pick the state matching the
 *   context (no eventless transitions are evaluated on other steps).
 * - Outcomes are the final states `discharged`, `deferred`, `ended`,
 *   `escalated`; the machine's output is `{ outcome, reason?, rule?, span?, at }`.
 * - The timer is one invoked child actor (`timerLogic`), armed for the next
 *   deadline (an absolute clock time) and re-armed only when a step changes
 *   that deadline. An invoked actor, unlike an `after` transition, is
 *   restored and restarted by `createActor(machine, { snapshot })` in XState
 *   5.33, and its snapshot holds the deadline, so a persisted session keeps
 *   its timer. `nextDeadline(snapshot)` reads the same deadline.
 * - Time is read from the actor's clock: `clock.now()` when it has one
 *   (`SimulatedClock` does), else `Date.now()`; `options.now` overrides both.
 * - Tags: each stage state has `stage:<name>`; its sub-states `running` and
 *   `paused` have the tags `running` / `paused`; outcome states have
 *   `outcome:<name>`. Apps can use `snapshot.hasTag('stage:infusion')`, or
 *   `sessionState(snapshot)` for stage, pause, staff and doses at once.
 *
 * Group sessions (`setting group n..m`, `options.participants`): the same
 * machine shape over a group context (group.ts, which explains why
 * participants are context slices rather than child actors), plus a
 * `participants` region with one sub-state per participant.
 */
import { enqueueActions, setup, type ActorLogic, type AnyActorRef, type ActorSystem, type Snapshot, type SnapshotFrom } from 'xstate';
import {
  advanceTo,
  apply,
  cloneContext,
  initialContext,
  isPaused,
  nextDeadline as engineNextDeadline,
  plan,
  sessionStateOf,
  start,
  type ParticipantProfile,
  type Plan,
  type SessionContext,
  type SessionState,
} from './engine.js';
import { validateEvent, type EventCheck, type GroupOutput, type ProtocolEmitted, type ProtocolInEvent, type SessionOutput, type WakeEvent } from './events.js';
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
import { OUTCOMES, type IR, type Outcome, type Stage } from './ir.js';
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

type MachineEvent = ProtocolInEvent | WakeEvent;

const MINUTE = 60_000;
/** The id of the timer child actor. */
const TIMER = 'timer';

/** What the generic machine needs from a session engine (individual or group). */
interface Engine<C extends { origin: number; t: number }> {
  readonly id: string;
  readonly stages: readonly Stage[];
  init(origin: number): C;
  /** A copy the other functions may change (they change their argument in place). */
  clone(c: C): C;
  start(c: C, out: ProtocolEmitted[]): void;
  advanceTo(c: C, t: number, out: ProtocolEmitted[]): void;
  apply(c: C, e: ProtocolInEvent, out: ProtocolEmitted[]): void;
  nextDeadline(c: C): number | null;
  stageIndex(c: C): number;
  paused(c: C): boolean;
  outcome(c: C): Outcome | null;
  check(c: C, event: unknown): EventCheck;
  state(c: C): SessionState | GroupSessionState;
  /** Group sessions: per-participant outcome, for the `participants` region. */
  readonly participants?: readonly string[];
  participantOutcome?(c: C, id: string): Outcome | null;
}

export function createProtocolMachine(ir: IR, options: GroupMachineOptions): GroupProtocolMachine;
export function createProtocolMachine(ir: IR, options?: ProtocolMachineOptions): ProtocolMachine;
export function createProtocolMachine(ir: IR, options: ProtocolMachineOptions | GroupMachineOptions = {}): ProtocolMachine | GroupProtocolMachine {
  const session = pickSession(ir, options.session);
  const p = plan(ir, session);
  const group = 'participants' in options && options.participants !== undefined ? options.participants : null;
  if (ir.setting.mode === 'group') {
    if (!group) {
      throw new SessionOptionsError(
        'participants-required',
        `"${ir.protocol.title}" is a group protocol (setting group ${ir.setting.min}..${ir.setting.max}): pass participants: [{ id, profile? }, …]`,
      );
    }
    checkParticipants(ir.setting.min, ir.setting.max, group);
    return groupMachine(p, group, options as GroupMachineOptions);
  }
  if (group) throw new SessionOptionsError('not-a-group', `"${ir.protocol.title}" is an individual protocol: pass participant, not participants`);
  return individualMachine(p, options as ProtocolMachineOptions);
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

function individualMachine(p: Plan, options: ProtocolMachineOptions) {
  const ir = p.ir;
  const engine: Engine<SessionContext> = {
    id: `kapspec-${p.session.name}`,
    stages: p.session.stages,
    init: (origin) => initialContext(p, origin, { ...(options.participant ? { participant: options.participant } : {}), ...(options.staff ? { staff: options.staff } : {}) }),
    clone: cloneContext,
    start: (c, out) => start(p, c, out),
    advanceTo: (c, t, out) => advanceTo(p, c, t, out),
    apply: (c, e, out) => apply(p, c, e, out),
    nextDeadline: (c) => engineNextDeadline(p, c),
    stageIndex: (c) => c.stageIndex,
    paused: (c) => isPaused(c),
    outcome: (c) => c.outcome?.outcome ?? null,
    check: (c, event) => checkIn(ir, c.present, event),
    state: (c) => sessionStateOf(p, c),
  };
  return build<SessionContext, SessionOutput>(engine, options.now, (c) => c.outcome as SessionOutput);
}

function groupMachine(p: Plan, participants: readonly GroupParticipant[], options: GroupMachineOptions) {
  const ir = p.ir;
  const ids = participants.map((x) => x.id);
  const engine: Engine<GroupContext> = {
    id: `kapspec-${p.session.name}`,
    stages: p.session.stages,
    init: (origin) => groupInitial(p, origin, participants, options.staff),
    clone: cloneGroup,
    start: (c, out) => groupStart(p, c, out),
    advanceTo: (c, t, out) => groupAdvanceTo(p, c, t, out),
    apply: (c, e, out) => groupApply(p, c, e, out),
    nextDeadline: (c) => groupNextDeadline(p, c),
    stageIndex: (c) => c.stageIndex,
    paused: (c) => groupPaused(c),
    outcome: (c) => c.outcome?.outcome ?? null,
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
  return build<GroupContext, GroupOutput>(engine, options.now, (c) => c.outcome as GroupOutput);
}

/** The timer child's snapshot: `input.due` is the clock reading (ms) it is armed for, null when disarmed. */
export type TimerSnapshot = Snapshot<undefined> & { readonly input: TimerInput };
export interface TimerInput {
  readonly due: number | null;
}
export type TimerEvent = { type: 'kapspec.arm'; due: number | null } | { type: 'xstate.stop' };
type TimerClock = { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void };

/**
 * The session's one timer: a long-lived child actor armed for the next
 * deadline. The machine re-arms it (`kapspec.arm`) only when the deadline
 * changes, which keeps a reading that changes nothing cheap; it sends
 * `kapspec.wake` when due. Its snapshot holds the deadline it is armed for,
 * so `createActor(machine, { snapshot })` restores and re-arms it.
 */
function timerLogic(readNow: (self: unknown) => number): ActorLogic<TimerSnapshot, TimerEvent, TimerInput, ActorSystem<any>> {
  const pending = new WeakMap<object, unknown>();
  const clockOf = (self: unknown) => (self as { clock: TimerClock }).clock;
  const disarm = (self: object) => {
    if (!pending.has(self)) return;
    clockOf(self).clearTimeout(pending.get(self));
    pending.delete(self);
  };
  const arm = (self: AnyActorRef, due: number | null) => {
    disarm(self);
    if (due === null) return;
    const id = clockOf(self).setTimeout(() => {
      pending.delete(self);
      if (self.getSnapshot().status !== 'active') return;
      (self as unknown as { _parent?: AnyActorRef })._parent?.send({ type: 'kapspec.wake', at: due });
    }, Math.max(0, due - readNow(self)));
    pending.set(self, id);
  };
  return {
    config: 'kapspec.timer',
    start: (snapshot, scope) => arm(scope.self, snapshot.input.due),
    transition: (snapshot, event, scope) => {
      if (event.type === 'xstate.stop') {
        disarm(scope.self);
        return { ...snapshot, status: 'stopped', output: undefined, error: undefined };
      }
      if (event.type !== 'kapspec.arm' || snapshot.status !== 'active') return snapshot;
      arm(scope.self, event.due);
      return { ...snapshot, input: { due: event.due } };
    },
    getInitialSnapshot: (_scope, input) => ({ status: 'active', output: undefined, error: undefined, input: { due: input?.due ?? null } }),
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as TimerSnapshot,
  };
}

/** What `nextDeadline` and `sessionState` need to read a snapshot of a machine built here, by the machine's config. */
interface Reader {
  deadline(context: unknown): number | undefined;
  state(context: unknown): SessionState | GroupSessionState;
}
const readers = new WeakMap<object, Reader>();

/** The part of `enqueueActions`' `enqueue` that `commit` uses. */
interface Enqueue<C> {
  assign(assigner: () => C): void;
  emit(event: ProtocolEmitted): void;
  sendTo(to: string, event: { type: 'kapspec.arm'; due: number | null }): void;
  raise(event: { type: 'kapspec.sync' }): void;
}

function build<C extends { origin: number; t: number }, O>(engine: Engine<C>, now: (() => number) | undefined, output: (c: C) => O) {
  const readNow = (self: unknown): number => {
    if (now) return now();
    const clock = (self as { clock?: { now?: unknown } } | undefined)?.clock;
    return typeof clock?.now === 'function' ? (clock.now as () => number)() : Date.now();
  };
  const minutesAt = (c: C, self: unknown) => (readNow(self) - c.origin) / MINUTE;
  /** The clock reading (ms) the timer is armed for in a session with context `c`. */
  const dueOf = (c: C): number | null => {
    const d = engine.nextDeadline(c);
    return d === null ? null : c.origin + d * MINUTE;
  };

  /** Whether the states that mirror the context (stage, running/paused, outcome, participants) must move. */
  const moved = (a: C, b: C): boolean => {
    if (engine.outcome(a) !== engine.outcome(b) || engine.stageIndex(a) !== engine.stageIndex(b) || engine.paused(a) !== engine.paused(b)) return true;
    if (engine.participants && engine.participantOutcome) {
      for (const id of engine.participants) if (engine.participantOutcome(a, id) !== engine.participantOutcome(b, id)) return true;
    }
    return false;
  };

  const stages = engine.stages;
  const machineId = engine.id;
  const stagePath = (name: string, phase: 'running' | 'paused') => `#${machineId}.session.stage.${name}.${phase}`;
  // `kapspec.sync` (raised by the machine when the context moved on to
  // another stage, pause state or outcome) moves the mirroring states: the
  // first transition whose guard matches the context is taken. Nothing is
  // evaluated on events that leave the stage as it was.
  const syncFrom = (i: number, phase: 'running' | 'paused') => [
    ...OUTCOMES.map((o) => ({ guard: { type: 'outcomeIs' as const, params: { outcome: o } }, target: `#${machineId}.${o}` })),
    ...stages.flatMap((other, j) =>
      (['running', 'paused'] as const)
        .filter((ph) => j !== i || ph !== phase)
        .map((ph) => ({ guard: { type: 'at' as const, params: { index: j, paused: ph === 'paused' } }, target: stagePath(other.name, ph) })),
    ),
  ];
  const stageStates: Record<string, object> = {};
  stages.forEach((s, i) => {
    stageStates[s.name] = {
      initial: 'running',
      tags: [`stage:${s.name}`],
      states: {
        running: { tags: ['running'], on: { 'kapspec.sync': syncFrom(i, 'running') } },
        paused: { tags: ['paused'], on: { 'kapspec.sync': syncFrom(i, 'paused') } },
      },
    };
  });
  const outcomeStates = Object.fromEntries(OUTCOMES.map((o) => [o, { type: 'final' as const, tags: [`outcome:${o}`] }]));
  const participantRegion = engine.participants
    ? {
        participants: {
          type: 'parallel' as const,
          states: Object.fromEntries(
            engine.participants.map((id) => [
              id,
              {
                initial: 'active',
                states: {
                  active: { on: { 'kapspec.sync': OUTCOMES.map((o) => ({ guard: { type: 'participantOutcomeIs' as const, params: { id, outcome: o } }, target: o })) } },
                  ...Object.fromEntries(OUTCOMES.map((o) => [o, {}])),
                },
              },
            ]),
          ),
        },
      }
    : {};

  const external = () =>
    [
      { guard: 'invalid', actions: 'reject' },
      { actions: 'input' },
    ] as const;

  /** Commits a step from `before` to `after`: the new context, what it emitted, the timer, the mirroring states. */
  const commit = (enqueue: Enqueue<C>, before: C, after: C, out: readonly ProtocolEmitted[], rearm: boolean) => {
    enqueue.assign(() => after);
    for (let i = 0; i < out.length; i++) enqueue.emit(out[i]!);
    if (engine.outcome(after) === null) {
      // The timer is armed for `dueOf(before)` (it is re-armed whenever that changes).
      const due = dueOf(after);
      if (rearm || due !== dueOf(before)) enqueue.sendTo(TIMER, { type: 'kapspec.arm', due });
    }
    if (moved(before, after)) enqueue.raise({ type: 'kapspec.sync' });
  };

  const machine = setup({
    types: {
      context: {} as C,
      events: {} as MachineEvent,
      emitted: {} as ProtocolEmitted,
      output: {} as O,
    },
    actors: {
      timer: timerLogic(readNow),
    },
    guards: {
      at: ({ context }, params: { index: number; paused: boolean }) =>
        engine.outcome(context) === null && engine.stageIndex(context) === params.index && engine.paused(context) === params.paused,
      outcomeIs: ({ context }, params: { outcome: string }) => engine.outcome(context) === params.outcome,
      participantOutcomeIs: ({ context }, params: { id: string; outcome: string }) => engine.participantOutcome?.(context, params.id) === params.outcome,
      invalid: ({ context, event }) => !engine.check(context, event).ok,
    },
    actions: {
      start: enqueueActions(({ context, enqueue }) => {
        const c = engine.clone(context);
        const out: ProtocolEmitted[] = [];
        engine.start(c, out);
        // The timer is armed when `clock.armed` is entered, just after this.
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
        if (moved(context, c)) enqueue.raise({ type: 'kapspec.sync' } as never);
      }),
      wake: enqueueActions(({ context, enqueue, self }) => {
        const c = engine.clone(context);
        const out: ProtocolEmitted[] = [];
        engine.advanceTo(c, minutesAt(c, self), out);
        // The timer has fired: always re-arm it.
        commit(enqueue as unknown as Enqueue<C>, context, c, out, true);
      }),
      input: enqueueActions(({ context, event, enqueue, self }) => {
        const c = engine.clone(context);
        const out: ProtocolEmitted[] = [];
        engine.advanceTo(c, minutesAt(c, self), out);
        engine.apply(c, event as ProtocolInEvent, out);
        commit(enqueue as unknown as Enqueue<C>, context, c, out, false);
      }),
      reject: enqueueActions(({ context, event, enqueue, self }) => {
        const check = engine.check(context, event);
        if (check.ok) return;
        enqueue.emit({
          type: 'input.rejected',
          code: check.error.code,
          reason: check.error.message,
          event,
          at: Math.max(context.t, minutesAt(context, self)),
        });
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ self }) => engine.init(readNow(self)),
    initial: 'session',
    output: ({ context }) => output(context),
    states: {
      session: {
        type: 'parallel',
        entry: 'start',
        states: {
          stage: { initial: stages[0]!.name, states: stageStates as never },
          ...(participantRegion as object),
          clock: {
            initial: 'armed',
            states: {
              armed: {
                invoke: {
                  id: TIMER,
                  src: 'timer',
                  input: ({ context }) => ({ due: dueOf(context) }),
                },
                on: {
                  'kapspec.wake': { actions: 'wake' },
                  measure: external(),
                  event: external(),
                  'staff.arrive': external(),
                  'staff.leave': external(),
                },
              },
            },
          },
        },
      },
      ...outcomeStates,
    },
  });
  readers.set(machine.config, {
    deadline: (c) => dueOf(c as C) ?? undefined,
    state: (c) => engine.state(c as C),
  });
  return machine;
}

export type ProtocolMachine = ReturnType<typeof individualMachine>;
export type GroupProtocolMachine = ReturnType<typeof groupMachine>;

type AnyProtocolSnapshot = SnapshotFrom<ProtocolMachine> | SnapshotFrom<GroupProtocolMachine>;

function readerOf(snapshot: AnyProtocolSnapshot): Reader {
  const r = readers.get((snapshot as { machine?: { config?: object } }).machine?.config ?? {});
  if (!r) throw new TypeError('not a snapshot of a machine made by createProtocolMachine (a persisted snapshot must be restored into an actor first)');
  return r;
}

/**
 * The clock reading (ms) at which the session's timer is next due, or
 * `undefined` when nothing is pending (the session is over, or waits only
 * for input). A discrete-event driver on a `SimulatedClock` sets the clock
 * to exactly this value to fire the timer (TOOLCHAIN gotcha 9: never jump
 * past it), without reading the clock's private fields:
 *
 * ```ts
 * const due = nextDeadline(actor.getSnapshot());
 * if (due !== undefined) clock.set(Math.max(due, clock.now()));
 * ```
 *
 * It is read from the context (the same value the timer was armed with), so
 * it is cheap and also works on snapshots from `machine.transition()`. A
 * value earlier than the clock's current reading means the timer is overdue
 * (for instance just after restoring a persisted session): it fires on the
 * next clock step.
 */
export function nextDeadline(snapshot: AnyProtocolSnapshot): number | undefined {
  if (snapshot.status !== 'active') return undefined;
  return readerOf(snapshot).deadline(snapshot.context);
}

/**
 * What an app or the simulator usually wants to know about a running (or
 * finished) session, derived from the snapshot's context: the stage, the
 * rules holding it paused, staff present and free by role, the dose of each
 * declared drug delivered so far, and the outcome once there is one. Group
 * sessions give the stage, pause and staff of the group and each
 * participant's own stage, pause, doses and outcome (`participants`).
 * Cheap enough to call after every event; a new object each call.
 */
export function sessionState(snapshot: SnapshotFrom<ProtocolMachine>): SessionState;
export function sessionState(snapshot: SnapshotFrom<GroupProtocolMachine>): GroupSessionState;
export function sessionState(snapshot: AnyProtocolSnapshot): SessionState | GroupSessionState;
export function sessionState(snapshot: AnyProtocolSnapshot): SessionState | GroupSessionState {
  return readerOf(snapshot).state(snapshot.context);
}

function pickSession(ir: IR, name: string | undefined) {
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
