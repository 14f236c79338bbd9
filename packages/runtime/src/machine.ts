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
 */
import { enqueueActions, fromCallback, setup } from 'xstate';
import { advanceTo, apply, initialContext, nextDeadline, plan, start, type ParticipantProfile, type SessionContext } from './engine.js';
import { validateEvent, type EventCheck, type ProtocolEmitted, type ProtocolInEvent, type SessionOutput, type WakeEvent } from './events.js';
import { OUTCOMES, type IR } from './ir.js';
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

type MachineEvent = ProtocolInEvent | WakeEvent;

const MINUTE = 60_000;

export function createProtocolMachine(ir: IR, options: ProtocolMachineOptions = {}) {
  const session = pickSession(ir, options.session);
  if (ir.setting.mode === 'group') {
    throw new IRError('invalid', '$.setting', 'group sessions are not supported by this runtime yet');
  }
  const p = plan(ir, session);
  const readNow = (self: unknown): number => {
    if (options.now) return options.now();
    const clock = (self as { clock?: { now?: unknown } } | undefined)?.clock;
    return typeof clock?.now === 'function' ? (clock.now as () => number)() : Date.now();
  };
  const minutesAt = (c: SessionContext, self: unknown) => (readNow(self) - c.origin) / MINUTE;

  const stages = session.stages;
  const stageStates: Record<string, object> = {};
  stages.forEach((s, i) => {
    stageStates[s.name] = {
      initial: 'running',
      always: stages.flatMap((other, j) => (j === i ? [] : [{ guard: { type: 'stageIs', params: { index: j } }, target: other.name }])),
      states: {
        running: { always: { guard: 'paused', target: 'paused' } },
        paused: { always: { guard: 'running', target: 'running' } },
      },
    };
  });
  const outcomeStates = Object.fromEntries(OUTCOMES.map((o) => [o, { type: 'final' as const }]));

  const external = () =>
    [
      { guard: 'invalid', actions: 'reject' },
      { target: 'armed', reenter: true, actions: 'input' },
    ] as const;

  return setup({
    types: {
      context: {} as SessionContext,
      events: {} as MachineEvent,
      emitted: {} as ProtocolEmitted,
      output: {} as SessionOutput,
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
      stageIs: ({ context }, params: { index: number }) => context.outcome === null && context.stageIndex === params.index,
      paused: ({ context }) => context.stage.resumedAt === null && context.stage.pausers.length > 0,
      running: ({ context }) => !(context.stage.resumedAt === null && context.stage.pausers.length > 0),
      outcomeIs: ({ context }, params: { outcome: string }) => context.outcome?.outcome === params.outcome,
      invalid: ({ context, event }) => !checkIn(ir, context, event).ok,
    },
    actions: {
      start: enqueueActions(({ context, enqueue }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        start(p, c, out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      wake: enqueueActions(({ context, enqueue, self }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        advanceTo(p, c, minutesAt(c, self), out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      input: enqueueActions(({ context, event, enqueue, self }) => {
        const c = structuredClone(context);
        const out: ProtocolEmitted[] = [];
        advanceTo(p, c, minutesAt(c, self), out);
        apply(p, c, event as ProtocolInEvent, out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      reject: enqueueActions(({ context, event, enqueue, self }) => {
        const check = checkIn(ir, context, event);
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
    id: `kapspec-${session.name}`,
    context: ({ self }) => initialContext(p, readNow(self), { ...(options.participant ? { participant: options.participant } : {}), ...(options.staff ? { staff: options.staff } : {}) }),
    initial: 'session',
    output: ({ context }) => context.outcome as SessionOutput,
    states: {
      session: {
        type: 'parallel',
        entry: 'start',
        always: OUTCOMES.map((o) => ({ guard: { type: 'outcomeIs' as const, params: { outcome: o } }, target: o })),
        states: {
          stage: { initial: stages[0]!.name, states: stageStates as never },
          clock: {
            initial: 'armed',
            states: {
              armed: {
                invoke: {
                  src: 'timer',
                  input: ({ context }) => {
                    const d = nextDeadline(p, context);
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

export type ProtocolMachine = ReturnType<typeof createProtocolMachine>;

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
function checkIn(ir: IR, c: SessionContext, event: unknown): EventCheck {
  const check = validateEvent(ir, event);
  if (!check.ok) return check;
  const e = event as ProtocolInEvent;
  if (e.type === 'staff.leave' && (c.present[e.role] ?? 0) <= 0) {
    return { ok: false, error: { code: 'no-one-to-leave', message: `no ${e.role} is present to leave` } };
  }
  return check;
}
