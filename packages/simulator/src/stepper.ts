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
   * taking nothing and leaving the clock where it is. Once false for a
   * value at some `ms`, false for it at every later `ms` until the machine
   * next steps (what the engine compares a reading with stays as it is,
   * and the next deadline only comes nearer). The actor stepper: always
   * false.
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
  return new EngineStepper(createSessionEngine(ir, options) as SessionEngine<SessionContext | GroupContext, SessionOutput | GroupOutput>);
}

/** `engineStepper`: methods on the prototype, not closures, as the driver makes one per simulated session. */
class EngineStepper implements Stepper {
  private clock = 0;
  private readonly c: SessionContext | GroupContext;
  private out: ProtocolEmitted[] = [];
  private over = false;
  // The armed timer: started at `since` for `timeout` ms (as SimulatedClock holds it), or none.
  private armed = false;
  private since = 0;
  private timeout = 0;
  private firesAtMs = 0;
  // dueOf() as of the last step: the machine compares the new deadline with the one before the step,
  // which no one changes between steps (every step re-arms or leaves it equal).
  private lastDue: number | null = null;
  // `quiet`: the engine's range of quiet readings of one measure (fetched again after every full step),
  // and the last reading it accepted, not yet applied to the context (only the last of a row needs it).
  private range: QuietRange | null = null;
  private rangeOf: string | undefined = undefined;
  private held: QuietRange | null = null;
  private heldValue = 0;
  private heldAt = 0;

  constructor(private readonly engine: SessionEngine<SessionContext | GroupContext, SessionOutput | GroupOutput>) {
    this.c = engine.init(this.clock);
  }

  private dueOf(): number | null {
    const d = this.engine.nextDeadline(this.c);
    return d === null ? null : this.c.origin + d * MINUTE;
  }

  private arm(due: number | null): void {
    this.armed = due !== null;
    if (due !== null) {
      this.since = this.clock;
      this.timeout = Math.max(0, due - this.clock);
      this.firesAtMs = firesAt(this.since, this.timeout);
    }
  }

  private minutes(): number {
    return (this.clock - this.c.origin) / MINUTE;
  }

  /** Applies the reading held back: before anything reads or steps the context. */
  private flush(): void {
    if (this.held === null) return;
    this.held.apply(this.heldValue, this.heldAt);
    this.held = null;
  }

  /** The quiet range of `measure` (`quiet`): the one at hand while no full step has run since it was found. */
  private rangeFor(measure: string): QuietRange | null {
    if (measure !== this.rangeOf) {
      this.flush();
      this.range = this.engine.quietRange(this.c, measure);
      this.rangeOf = measure;
    }
    return this.range;
  }

  private commit(before: number | null, rearm: boolean): void {
    if (this.engine.outcome(this.c) === null) {
      const due = this.dueOf();
      this.lastDue = due;
      if (rearm || due !== before) this.arm(due);
    } else {
      this.over = true;
      this.armed = false;
    }
  }

  start(): void {
    this.engine.start(this.c, this.out);
    if (this.engine.outcome(this.c) === null) this.arm((this.lastDue = this.dueOf()));
    else this.over = true;
  }

  send(e: ProtocolInEvent): boolean {
    this.flush();
    this.rangeOf = undefined;
    if (this.over) return false;
    const c = this.c;
    // A quiet reading (valid, nothing due, the deadline where it was: no timer to re-arm).
    if (e.type === 'measure' && e.participant === undefined && this.engine.quietReading(c, e.values, this.minutes())) return true;
    const check = this.engine.check(c, e);
    if (!check.ok) {
      this.out.push({ type: 'input.rejected', code: check.error.code, reason: check.error.message, event: e, at: Math.max(c.t, this.minutes()) } as ProtocolEmitted);
      return false;
    }
    const before = this.lastDue;
    this.engine.advanceTo(c, this.minutes(), this.out);
    this.engine.apply(c, e, this.out);
    this.commit(before, false);
    return false;
  }

  quiet(measure: string, value: number): boolean {
    if (this.over) return false;
    const r = this.rangeFor(measure);
    const t = this.minutes();
    if (r === null || !r.accepts(value, t)) return false;
    this.held = r;
    this.heldValue = value;
    this.heldAt = t;
    return true;
  }

  quietAt(measure: string, value: number, ms: number): boolean {
    if (this.over) return false;
    const r = this.rangeFor(measure);
    return r !== null && r.accepts(value, (ms - this.c.origin) / MINUTE);
  }

  now(): number {
    return this.clock;
  }

  set(ms: number): boolean {
    if (ms < this.clock) throw new Error('Unable to travel back in time');
    this.clock = ms;
    if (!this.armed || this.over || this.clock - this.since < this.timeout) return false;
    this.flush();
    this.rangeOf = undefined;
    this.armed = false;
    const before = this.lastDue;
    this.engine.advanceTo(this.c, this.minutes(), this.out);
    this.commit(before, true);
    return true;
  }

  nextDue(): number | null {
    return this.armed ? this.firesAtMs : null;
  }

  take(): ProtocolEmitted[] {
    const taken = this.out;
    this.out = [];
    return taken;
  }

  context(): SessionContext | GroupContext {
    this.flush();
    return this.c;
  }

  done(): boolean {
    return this.over;
  }

  output(): SessionOutput | GroupOutput {
    this.flush();
    return this.engine.output(this.c);
  }

  paused(): boolean {
    this.flush();
    return this.engine.paused(this.c);
  }

  stop(): void {
    this.armed = false;
  }
}
