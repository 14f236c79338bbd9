/**
 * A small scenario driver for protocol machines on XState's SimulatedClock.
 *
 * It plays the environment an app or the simulator would be:
 * - steps the clock to the next instant where something happens (the
 *   machine's next timer, a scripted event, a reading of a continuous
 *   monitor, or the end of the run), never past it (TOOLCHAIN gotcha 9);
 * - answers every `measure.request` at once from a scripted patient (a
 *   function of session minutes giving vitals), sending only the measures
 *   requested;
 * - streams readings for `continuous` requests every `streamEvery` minutes
 *   until the stage that asked for them ends;
 * - sends scripted events at given minutes, after the timers and the answers
 *   due at that instant;
 * - collects every emitted event.
 *
 * The simulator will do this properly; this is the least that scenario tests
 * need.
 */
import { createActor, SimulatedClock } from 'xstate';
import {
  createProtocolMachine,
  type GroupMachineOptions,
  type IR,
  type ProtocolEmitted,
  type ProtocolInEvent,
  type ProtocolMachineOptions,
  type SessionOutput,
} from '@kapspec/runtime';

export type Vitals = Readonly<Record<string, number>>;
/** True vitals at a session minute (of one participant, in a group session). */
export type Patient = (minute: number, participant?: string) => Vitals;

export interface Scenario {
  /** Answers measurement requests; when left out, requests go unanswered. */
  readonly patient?: Patient;
  /** Events sent at session minutes (in this order when two share a minute). */
  readonly events?: readonly { readonly at: number; readonly event: ProtocolInEvent }[];
  /** Minutes between readings of a `continuously` monitor (default 1). */
  readonly streamEvery?: number;
}

const MINUTE = 60_000;

/** The earliest pending timer on a SimulatedClock, in ms, or null. */
export function nextTimer(clock: SimulatedClock): number | null {
  // SimulatedClock keeps its timers in a `timeouts` map; it has no public
  // "next due" query.
  const timeouts = (clock as unknown as { timeouts: Map<number, { start: number; timeout: number }> }).timeouts;
  let best: number | null = null;
  for (const t of timeouts.values()) {
    const due = t.start + t.timeout;
    if (best === null || due < best) best = due;
  }
  return best;
}

export type Emitted<T extends ProtocolEmitted['type']> = Extract<ProtocolEmitted, { type: T }>;

export class Driver {
  readonly clock = new SimulatedClock();
  readonly actor;
  readonly log: ProtocolEmitted[] = [];
  private readonly requests: { measures: readonly string[]; participant?: string }[] = [];
  /** Continuous monitors still streaming: measures by the stage (and participant) that asked. */
  private readonly streams: { stage: string; measures: readonly string[]; participant?: string; next: number }[] = [];
  private readonly queue: { at: number; event: ProtocolInEvent }[];

  constructor(
    readonly ir: IR,
    options: ProtocolMachineOptions | GroupMachineOptions,
    private readonly scenario: Scenario = {},
  ) {
    this.queue = [...(scenario.events ?? [])].map((e, i) => ({ ...e, i })).sort((a, b) => a.at - b.at || a.i - b.i);
    // One actor type for both kinds of session: the tests read the log and the output.
    this.actor = createActor(createProtocolMachine(ir, options as ProtocolMachineOptions), { clock: this.clock });
    this.actor.on('*', (e) => {
      this.log.push(e);
      if (e.type === 'measure.request') {
        if (e.continuous) this.streams.push({ ...e, next: e.at + this.streamEvery });
        this.requests.push(e);
      } else if (e.type === 'stage' && (e.phase === 'exit' || e.phase === 'stop')) {
        for (let i = this.streams.length - 1; i >= 0; i--) {
          const s = this.streams[i]!;
          if (s.stage === e.stage && (e.participant === undefined || s.participant === e.participant)) this.streams.splice(i, 1);
        }
      }
    });
    this.actor.start();
    this.answer();
  }

  private get streamEvery(): number {
    return this.scenario.streamEvery ?? 1;
  }

  /** Session minutes on the clock. */
  get minute(): number {
    return this.clock.now() / MINUTE;
  }

  get done(): boolean {
    return this.actor.getSnapshot().status !== 'active';
  }

  get output(): SessionOutput | undefined {
    return this.actor.getSnapshot().output;
  }

  /** Runs until the session is over or the clock reaches `minute` (default: 12 h). */
  runUntil(minute = 720): this {
    const until = minute * MINUTE;
    for (let guard = 0; guard < 1_000_000 && !this.done; guard++) {
      const timer = nextTimer(this.clock);
      const scripted = this.queue.length ? this.queue[0]!.at * MINUTE : Infinity;
      const stream = this.streams.length && this.scenario.patient ? Math.min(...this.streams.map((s) => s.next)) * MINUTE : Infinity;
      const next = Math.max(this.clock.now(), Math.min(timer ?? Infinity, scripted, stream, until));
      if (next > until) break;
      this.clock.set(next);
      this.answer();
      while (!this.done && this.queue.length && this.queue[0]!.at * MINUTE <= this.clock.now()) {
        this.send(this.queue.shift()!.event);
        this.answer();
      }
      if (next === until) break;
    }
    return this;
  }

  /** Sends an event now (as an app would). */
  send(event: ProtocolInEvent): void {
    this.actor.send(event);
  }

  /** Answers the requests made so far, plus continuous streams due now: one reading per participant. */
  private answer(): void {
    const patient = this.scenario.patient;
    for (let round = 0; round < 100 && !this.done; round++) {
      // Participant id ('' in an individual session) → measures wanted now.
      const wanted = new Map<string, Set<string>>();
      const want = (who: string | undefined, measures: readonly string[]) => {
        const set = wanted.get(who ?? '') ?? new Set<string>();
        measures.forEach((m) => set.add(m));
        wanted.set(who ?? '', set);
      };
      for (const r of this.requests.splice(0)) want(r.participant, r.measures);
      for (const s of this.streams) {
        if (s.next * MINUTE <= this.clock.now()) {
          want(s.participant, s.measures);
          s.next += this.streamEvery;
        }
      }
      if (wanted.size === 0 || !patient) return;
      for (const [who, measures] of wanted) {
        if (this.done) return;
        const vitals = patient(this.minute, who || undefined);
        const values = Object.fromEntries([...measures].filter((m) => m in vitals).map((m) => [m, vitals[m]!]));
        if (Object.keys(values).length) this.send({ type: 'measure', values, ...(who ? { participant: who } : {}) });
      }
    }
  }

  /** Emitted events of one type. */
  of<T extends ProtocolEmitted['type']>(type: T): Emitted<T>[] {
    return this.log.filter((e): e is Emitted<T> => e.type === type);
  }

  /** Actions taken by rules, as `"<minute> <type> <what> (<rule>)"` lines. */
  actions(): string[] {
    const lines: string[] = [];
    for (const e of this.log) {
      const at = `${round(e.at)}${'participant' in e && e.participant ? ` ${e.participant}` : ''}`;
      switch (e.type) {
        case 'notify':
          lines.push(`${at} notify ${e.role} (${e.rule})`);
          break;
        case 'attend':
          lines.push(`${at} attend ${e.role} ${e.status} (${e.rule})`);
          break;
        case 'give':
          lines.push(`${at} give ${e.drug} ${e.dose.value} ${e.dose.unit} (${e.rule})`);
          break;
        case 'reduce':
          lines.push(`${at} reduce ${e.drug} to ${e.to.value} ${e.to.unit} (${e.rule})`);
          break;
        case 'escalate':
          lines.push(`${at} escalate ${e.level} (${e.rule})`);
          break;
        case 'administer':
          lines.push(`${at} administer ${e.phase} ${e.drug} ${round(e.delivered)}${e.rule ? ` (${e.rule})` : ''}`);
          break;
        case 'staffing.violation':
          lines.push(`${at} staffing.violation ${e.kind} ${e.role}${e.rule ? ` (${e.rule})` : ''}`);
          break;
        default:
          break;
      }
    }
    return lines;
  }

  /** Stage changes as `"<minute> <phase> <stage>"`, with the rule when one caused it. */
  stages(): string[] {
    return this.of('stage').map((e) => `${round(e.at)}${e.participant ? ` ${e.participant}` : ''} ${e.phase} ${e.stage}${e.rule ? ` (${e.rule})` : ''}`);
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Starts a session and runs it to its end (or `until` minutes). */
export function drive(ir: IR, options: ProtocolMachineOptions | GroupMachineOptions, scenario: Scenario = {}, until?: number): Driver {
  return new Driver(ir, options, scenario).runUntil(until);
}

/** A patient whose vitals are `base`, overridden from given minutes on: `[[20, {sbp: 190}], [40, {sbp: 130}]]`. */
export function patient(base: Vitals, changes: readonly (readonly [number, Vitals])[] = []): Patient {
  const sorted = [...changes].sort((a, b) => a[0] - b[0]);
  return (t) => {
    let v = { ...base };
    for (const [from, over] of sorted) if (t >= from - 1e-9) v = { ...v, ...over };
    return v;
  };
}
