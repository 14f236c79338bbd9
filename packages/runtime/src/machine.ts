/**
 * `createProtocolMachine(ir, { session })`: a real XState v5 machine for one
 * individual session. The semantics live in engine.ts (plain functions over
 * a JSON context); this file wires them into XState:
 *
 * - `session` is a parallel state with two regions: `stage` mirrors the
 *   current stage (`stage.infusion.running` / `stage.infusion.paused`) by
 *   eventless transitions on the context, and `clock` holds the single timer.
 * - Outcomes are the final states `discharged`, `deferred`, `ended`,
 *   `escalated`; the machine's output is `{ outcome, reason?, rule?, span?, at }`.
 * - The timer is an invoked callback actor armed for the next deadline
 *   (an absolute clock time), re-armed after every event. An invoked actor,
 *   unlike an `after` transition, is restored and restarted by
 *   `createActor(machine, { snapshot })` in XState 5.33, so a persisted
 *   session keeps its timers.
 * - Time is read from the actor's clock: `clock.now()` when it has one
 *   (`SimulatedClock` does), else `Date.now()`; `options.now` overrides both.
 * - Tags: each stage state has `stage:<name>`; its sub-states `running` and
 *   `paused` have the tags `running` / `paused`; outcome states have
 *   `outcome:<name>`. Apps can use `snapshot.hasTag('stage:infusion')`.
 *
 * Group sessions (`setting group n..m`, `options.participants`): the same
 * machine shape over a group context (group.ts, which explains why
 * participants are context slices rather than child actors), plus a
 * `participants` region with one sub-state per participant.
 */
import { enqueueActions, fromCallback, setup } from 'xstate';
import { advanceTo, apply, initialContext, isPaused, nextDeadline, plan, start, type ParticipantProfile, type Plan, type SessionContext } from './engine.js';
import { validateEvent, type EventCheck, type GroupOutput, type ProtocolEmitted, type ProtocolInEvent, type SessionOutput, type WakeEvent } from './events.js';
import { groupAdvanceTo, groupApply, groupInitial, groupNextDeadline, groupPaused, groupStart, type GroupContext, type GroupParticipant } from './group.js';
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

/** What the generic machine needs from a session engine (individual or group). */
interface Engine<C extends { origin: number; t: number }> {
  readonly id: string;
  readonly stages: readonly Stage[];
  init(origin: number): C;
  start(c: C, out: ProtocolEmitted[]): void;
  advanceTo(c: C, t: number, out: ProtocolEmitted[]): void;
  apply(c: C, e: ProtocolInEvent, out: ProtocolEmitted[]): void;
  nextDeadline(c: C): number | null;
  stageIndex(c: C): number;
  paused(c: C): boolean;
  outcome(c: C): Outcome | null;
  check(c: C, event: unknown): EventCheck;
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
    start: (c, out) => start(p, c, out),
    advanceTo: (c, t, out) => advanceTo(p, c, t, out),
    apply: (c, e, out) => apply(p, c, e, out),
    nextDeadline: (c) => nextDeadline(p, c),
    stageIndex: (c) => c.stageIndex,
    paused: (c) => isPaused(c),
    outcome: (c) => c.outcome?.outcome ?? null,
    check: (c, event) => checkIn(ir, c.present, event),
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
    participants: ids,
    participantOutcome: (c, id) => c.members.find((x) => x.who === id)?.outcome?.outcome ?? null,
  };
  return build<GroupContext, GroupOutput>(engine, options.now, (c) => c.outcome as GroupOutput);
}

function build<C extends { origin: number; t: number }, O>(engine: Engine<C>, now: (() => number) | undefined, output: (c: C) => O) {
  const readNow = (self: unknown): number => {
    if (now) return now();
    const clock = (self as { clock?: { now?: unknown } } | undefined)?.clock;
    return typeof clock?.now === 'function' ? (clock.now as () => number)() : Date.now();
  };
  const minutesAt = (c: C, self: unknown) => (readNow(self) - c.origin) / MINUTE;

  const stages = engine.stages;
  const stageStates: Record<string, object> = {};
  stages.forEach((s, i) => {
    stageStates[s.name] = {
      initial: 'running',
      tags: [`stage:${s.name}`],
      always: stages.flatMap((other, j) => (j === i ? [] : [{ guard: { type: 'stageIs', params: { index: j } }, target: other.name }])),
      states: {
        running: { tags: ['running'], always: { guard: 'paused', target: 'paused' } },
        paused: { tags: ['paused'], always: { guard: 'running', target: 'running' } },
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
                  active: { always: OUTCOMES.map((o) => ({ guard: { type: 'participantOutcomeIs' as const, params: { id, outcome: o } }, target: o })) },
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
      { target: 'armed', reenter: true, actions: 'input' },
    ] as const;

  return setup({
    types: {
      context: {} as C,
      events: {} as MachineEvent,
      emitted: {} as ProtocolEmitted,
      output: {} as O,
    },
    actors: {
      timer: fromCallback<{ type: 'kapspec.wake'; at: number }, { due: number | null }>(({ input, sendBack, self }) => {
        if (input.due === null) return undefined;
        const due = input.due;
        const clock = (self as unknown as { clock: { setTimeout(fn: () => void, ms: number): unknown; clearTimeout(id: unknown): void } }).clock;
        const id = clock.setTimeout(() => sendBack({ type: 'kapspec.wake', at: due }), Math.max(0, due - readNow(self)));
        return () => clock.clearTimeout(id);
      }),
    },
    guards: {
      stageIs: ({ context }, params: { index: number }) => engine.outcome(context) === null && engine.stageIndex(context) === params.index,
      paused: ({ context }) => engine.paused(context),
      running: ({ context }) => !engine.paused(context),
      outcomeIs: ({ context }, params: { outcome: string }) => engine.outcome(context) === params.outcome,
      participantOutcomeIs: ({ context }, params: { id: string; outcome: string }) => engine.participantOutcome?.(context, params.id) === params.outcome,
      invalid: ({ context, event }) => !engine.check(context, event).ok,
    },
    actions: {
      start: enqueueActions(({ context, enqueue }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        engine.start(c, out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      wake: enqueueActions(({ context, enqueue, self }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        engine.advanceTo(c, minutesAt(c, self), out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      input: enqueueActions(({ context, event, enqueue, self }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        engine.advanceTo(c, minutesAt(c, self), out);
        engine.apply(c, event as ProtocolInEvent, out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
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
    id: engine.id,
    context: ({ self }) => engine.init(readNow(self)),
    initial: 'session',
    output: ({ context }) => output(context),
    states: {
      session: {
        type: 'parallel',
        entry: 'start',
        always: OUTCOMES.map((o) => ({ guard: { type: 'outcomeIs' as const, params: { outcome: o } }, target: o })),
        states: {
          stage: { initial: stages[0]!.name, states: stageStates as never },
          ...(participantRegion as object),
          clock: {
            initial: 'armed',
            states: {
              armed: {
                invoke: {
                  src: 'timer',
                  input: ({ context }) => {
                    const d = engine.nextDeadline(context);
                    return { due: d === null ? null : context.origin + d * MINUTE };
                  },
                },
                on: {
                  'kapspec.wake': { target: 'armed', reenter: true, actions: 'wake' },
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
}

export type ProtocolMachine = ReturnType<typeof individualMachine>;
export type GroupProtocolMachine = ReturnType<typeof groupMachine>;

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
