/**
 * How the driver runs a session: a `Stepper` takes input events and clock
 * settings and reports what the session emitted, its context and its end.
 *
 * - `actorStepper`: an XState actor of `createProtocolMachine` on an
 *   `EventClock` (a `SimulatedClock` that knows when its timers are due).
 *   The default: `simulate`, `test` and `replay` drive the very machine an
 *   app embeds.
 * - `engineStepper`: the same session engine the machine wraps
 *   (`createSessionEngine`), called directly on one context changed in
 *   place, with the machine's timer reproduced exactly: armed at the same
 *   moments, for the same clock readings, firing once per clock setting as
 *   XState's `SimulatedClock` fires it. No actor, no snapshots, no copies of
 *   the context: several times faster and far less garbage, which is what
 *   the Monte Carlo statistics need. test/stepper.test.ts checks that both
 *   give byte-identical traces on every example, for both models.
 */
import { createActor, SimulatedClock } from 'xstate';
import {
  createProtocolMachine,
  createSessionEngine,
  type GroupContext,
  type GroupMachineOptions,
  type GroupOutput,
  type IR,
  type ProtocolEmitted,
  type ProtocolInEvent,
  type ProtocolMachineOptions,
  type QuietRange,
  type SessionContext,
  type SessionEngine,
  type SessionOutput,
} from '@kapspec/runtime';

/** How `simulate` runs the session's machine: an XState actor (default) or its engine directly. */
export type StepperKind = 'actor' | 'engine';

export interface Stepper {
  /** Starts the session at clock reading 0. */
  start(): void;
  /**
   * Sends one input event (ignored once the session is over, as an actor
   * ignores it). Returns true when the event was a reading that changed
   * nothing but the latest observations and emitted nothing (the engine's
   * `quietReading`); the actor stepper always returns false.
   */
  send(e: ProtocolInEvent): boolean;
  /**
   * A reading of one measure (no participant) at the clock's time, offered
   * to the engine's `quietRange`: true when it was taken as a quiet reading
   * (exactly what `send` of it would have done, and nothing to record),
   * false when it was not taken (then `send` it). The engine stepper keeps
   * the last reading of a quiet row back until the context is next read or
   * stepped; the actor stepper always returns false.
   */
  quiet(measure: string, value: number): boolean;
  /**
   * Whether `quiet(measure, value)` would take the reading with the clock
   * set to `ms` (not before the clock, and before the next due timer),
   * taking nothing and leaving the clock where it is. The actor stepper:
   * always false.
   */
  quietAt(measure: string, value: number, ms: number): boolean;
  /** The clock reading (ms). */
  now(): number;
  /**
   * Sets the clock (never backwards); a timer due by then fires once.
   * Returns false when it is known that nothing fired (the engine stepper);
   * true otherwise (the actor stepper cannot tell).
   */
  set(ms: number): boolean;
  /** The earliest clock reading at which the timer fires, or null. */
  nextDue(): number | null;
  /** What the session emitted since the last call, in order. */
  take(): ProtocolEmitted[];
  context(): SessionContext | GroupContext;
  /** The session has reached its outcome. */
  done(): boolean;
  /** The session's output once done. */
  output(): SessionOutput | GroupOutput;
  /** The current stage is paused (meaningful while not done). */
  paused(): boolean;
  stop(): void;
}

const MINUTE = 60_000;

/**
 * XState's `SimulatedClock`, remembering when each timer it holds is due, so
 * the driver can advance exactly to the next one.
 */
export class EventClock extends SimulatedClock {
  private readonly pending = new Map<number, { start: number; timeout: number }>();

  override setTimeout(fn: (...args: unknown[]) => void, timeout: number): number {
    const entry = { start: this.now(), timeout };
    // `SimulatedClock` deletes a timer before calling it; mirror that.
    const id: number = super.setTimeout((...args: unknown[]) => {
      this.pending.delete(id);
      fn(...args);
    }, timeout);
    this.pending.set(id, entry);
    return id;
  }

  override clearTimeout(id: number): void {
    this.pending.delete(id);
    super.clearTimeout(id);
  }

  /** The earliest clock reading at which some timer fires, or null (see `firesAt`). */
  nextDue(): number | null {
    let best: number | null = null;
    for (const { start, timeout } of this.pending.values()) {
      const at = firesAt(start, timeout);
      if (best === null || at < best) best = at;
    }
    return best;
  }
}

/**
 * The smallest clock reading T with `T - start >= timeout` (SimulatedClock's
 * own test), so setting the clock to it fires the timer even when
 * `start + timeout` rounds below it.
 */
export function firesAt(start: number, timeout: number): number {
  let at = start + Math.max(0, timeout);
  while (at - start < timeout) at += Math.max(Number.MIN_VALUE, Math.abs(at) * Number.EPSILON);
  return at;
}

type MachineOptions = ProtocolMachineOptions | GroupMachineOptions;

export function actorStepper(ir: IR, options: MachineOptions): Stepper {
  const machine = createProtocolMachine(ir, options as ProtocolMachineOptions);
  const clock = new EventClock();
  const actor = createActor(machine, { clock });
  // An error inside the machine is rethrown by `check`; this observer keeps XState from also
  // rethrowing it later from a real timer (its default for unobserved errors).
  actor.subscribe({ error: () => undefined });
  let emitted: ProtocolEmitted[] = [];
  actor.on('*', (e) => {
    emitted.push(e as ProtocolEmitted);
  });
  const check = () => {
    const snap = actor.getSnapshot();
    if (snap.status === 'error') throw snap.error;
  };
  return {
    start: () => {
      actor.start();
      check();
    },
    send: (e) => {
      actor.send(e);
      check();
      return false;
    },
    quiet: () => false,
    quietAt: () => false,
    now: () => clock.now(),
    set: (ms) => {
      clock.set(ms);
      check();
      return true;
    },
    nextDue: () => clock.nextDue(),
    take: () => {
      const out = emitted;
      emitted = [];
      return out;
    },
    context: () => actor.getSnapshot().context as unknown as SessionContext | GroupContext,
    done: () => actor.getSnapshot().status === 'done',
    output: () => actor.getSnapshot().output as SessionOutput | GroupOutput,
    paused: () => actor.getSnapshot().hasTag('paused'),
    stop: () => actor.stop(),
  };
}

/**
 * The machine's semantics without the actor. Mirrors machine.ts step for
 * step: an input event is checked (a rejected one emits `input.rejected`
 * and changes nothing), else the session advances to the clock's minute and
 * applies it; the timer is re-armed when the deadline moved (always after it
 * fired), from the clock reading of that moment; an outcome ends the session
 * and disarms the timer.
 */
export function engineStepper(ir: IR, options: MachineOptions): Stepper {
  const engine = createSessionEngine(ir, options) as SessionEngine<SessionContext | GroupContext, SessionOutput | GroupOutput>;
  let now = 0;
  const c = engine.init(now);
  let out: ProtocolEmitted[] = [];
  let over = false;
  // The armed timer: started at `since` for `timeout` ms (as SimulatedClock holds it), or none.
  let armed = false;
  let since = 0;
  let timeout = 0;
  let firesAtMs = 0;
  // dueOf() as of the last step: the machine compares the new deadline with the one before the step,
  // which no one changes between steps (every step re-arms or leaves it equal).
  let lastDue: number | null = null;
  const dueOf = (): number | null => {
    const d = engine.nextDeadline(c);
    return d === null ? null : c.origin + d * MINUTE;
  };
  const arm = (due: number | null) => {
    armed = due !== null;
    if (due !== null) {
      since = now;
      timeout = Math.max(0, due - now);
      firesAtMs = firesAt(since, timeout);
    }
  };
  const minutes = () => (now - c.origin) / MINUTE;
  // `quiet`: the engine's range of quiet readings of one measure (fetched again after every full step),
  // and the last reading it accepted, not yet applied to the context (only the last of a row needs it).
  let range: QuietRange | null = null;
  let rangeOf: string | undefined;
  let held: QuietRange | null = null;
  let heldValue = 0;
  let heldAt = 0;
  /** Applies the reading held back: before anything reads or steps the context. */
  const flush = () => {
    if (held === null) return;
    held.apply(heldValue, heldAt);
    held = null;
  };
  /** The quiet range of `measure` (`quiet`): the one at hand while no full step has run since it was found. */
  const rangeFor = (measure: string): QuietRange | null => {
    if (measure !== rangeOf) {
      flush();
      range = engine.quietRange(c, measure);
      rangeOf = measure;
    }
    return range;
  };
  const commit = (before: number | null, rearm: boolean) => {
    if (engine.outcome(c) === null) {
      const due = dueOf();
      lastDue = due;
      if (rearm || due !== before) arm(due);
    } else {
      over = true;
      armed = false;
    }
  };
  return {
    start: () => {
      engine.start(c, out);
      if (engine.outcome(c) === null) arm((lastDue = dueOf()));
      else over = true;
    },
    send: (e) => {
      flush();
      rangeOf = undefined;
      if (over) return false;
      // A quiet reading (valid, nothing due, the deadline where it was: no timer to re-arm).
      if (e.type === 'measure' && e.participant === undefined && engine.quietReading(c, e.values, minutes())) return true;
      const check = engine.check(c, e);
      if (!check.ok) {
        out.push({ type: 'input.rejected', code: check.error.code, reason: check.error.message, event: e, at: Math.max(c.t, minutes()) } as ProtocolEmitted);
        return false;
      }
      const before = lastDue;
      engine.advanceTo(c, minutes(), out);
      engine.apply(c, e, out);
      commit(before, false);
      return false;
    },
    quiet: (measure, value) => {
      if (over) return false;
      const r = rangeFor(measure);
      const t = minutes();
      if (r === null || !r.accepts(value, t)) return false;
      held = r;
      heldValue = value;
      heldAt = t;
      return true;
    },
    quietAt: (measure, value, ms) => {
      if (over) return false;
      const r = rangeFor(measure);
      return r !== null && r.accepts(value, (ms - c.origin) / MINUTE);
    },
    now: () => now,
    set: (ms) => {
      if (ms < now) throw new Error('Unable to travel back in time');
      now = ms;
      if (!armed || over || now - since < timeout) return false;
      flush();
      rangeOf = undefined;
      armed = false;
      const before = lastDue;
      engine.advanceTo(c, minutes(), out);
      commit(before, true);
      return true;
    },
    nextDue: () => (armed ? firesAtMs : null),
    take: () => {
      const taken = out;
      out = [];
      return taken;
    },
    context: () => {
      flush();
      return c;
    },
    done: () => over,
    output: () => {
      flush();
      return engine.output(c);
    },
    paused: () => {
      flush();
      return engine.paused(c);
    },
    stop: () => {
      armed = false;
    },
  };
}
