/**
 * `createProtocolMachine(ir, { session })`: a real XState v5 machine for one
 * session. The semantics live in engine.ts and group.ts (plain functions
 * over a JSON context), behind `createSessionEngine` (session-engine.ts);
 * this file wires that engine into XState:
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
import type { SessionContext, SessionState } from './engine.js';
import type { GroupOutput, ProtocolEmitted, ProtocolInEvent, SessionOutput, WakeEvent } from './events.js';
import type { GroupContext, GroupSessionState } from './group.js';
import { OUTCOMES, type IR } from './ir.js';
import { sessionEngine, type GroupMachineOptions, type ProtocolMachineOptions, type SessionEngine } from './session-engine.js';

export { SessionOptionsError, type GroupMachineOptions, type ProtocolMachineOptions, type SessionOptionsErrorCode } from './session-engine.js';

type MachineEvent = ProtocolInEvent | WakeEvent;

const MINUTE = 60_000;
/** The id of the timer child actor. */
const TIMER = 'timer';

export function createProtocolMachine(ir: IR, options: GroupMachineOptions): GroupProtocolMachine;
export function createProtocolMachine(ir: IR, options?: ProtocolMachineOptions): ProtocolMachine;
export function createProtocolMachine(ir: IR, options: ProtocolMachineOptions | GroupMachineOptions = {}): ProtocolMachine | GroupProtocolMachine {
  // The machine copies its context at every step: no per-context memo of rule conditions.
  const engine = sessionEngine(ir, options, false);
  return engine.participants ? build(engine as SessionEngine<GroupContext, GroupOutput>, options.now) : build(engine as SessionEngine<SessionContext, SessionOutput>, options.now);
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

function build<C extends { origin: number; t: number }, O>(engine: SessionEngine<C, O>, now: (() => number) | undefined) {
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
    output: ({ context }) => engine.output(context),
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

export type ProtocolMachine = ReturnType<typeof build<SessionContext, SessionOutput>>;
export type GroupProtocolMachine = ReturnType<typeof build<GroupContext, GroupOutput>>;

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
