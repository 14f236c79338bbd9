/**
 * The discrete-event driver: runs a protocol's XState machine (the very
 * machine `@kapspec/runtime` builds) against a `Scenario` on a simulated
 * clock and records what happened as a `Trace` (trace.ts).
 *
 * How the machine runs (stepper.ts): an XState actor on `EventClock`,
 * XState's `SimulatedClock` extended to remember the due time of every timer
 * it holds (the runtime arms one timer, an invoked callback actor, for its
 * next deadline), or, with `stepper: 'engine'`, the same session engine
 * called directly with that timer reproduced exactly (same trace).
 *
 * Time. The driver never guesses: at each step it takes the earliest of
 *   - the clock's next due timer (the machine's next deadline, exactly),
 *   - the next scenario input (staff change, participant event),
 *   - the next resolution tick (`resolutionMinutes`, default 1: truth samples
 *     and readings for `monitor … continuously`),
 *   - the horizon,
 * and sets the clock to exactly that instant, so no timer is ever jumped
 * over (TOOLCHAIN gotcha 9) and timers that are re-armed while firing start
 * from their true due time.
 *
 * One instant, in order:
 *   1. the clock is set to it: machine timers due now fire;
 *   2. staff changes due now (in scenario order), then participant events due
 *      now (participants in order, then scenario order);
 *   3. on a resolution tick: a truth sample per participant, then a reading
 *      for each continuous monitor not already answered at this instant.
 * Every input (and every timer firing) is one machine step; after a step the
 * driver records what the machine emitted (`request` for `measure.request`,
 * `emit` for everything else, verbatim), the state if it changed, any new
 * outcome, and then answers the step's measurement requests at the same
 * instant, each answer being a step of its own (first in, first answered).
 *
 * Answers. A request for measures M of participant p is answered with one
 * `measure` event holding `physiology.measure(m, truth[m], t, rng)` for each
 * m in M that the model's truth has (a measure the model does not produce is
 * left out; a request none of whose measures it produces is not answered,
 * which the trace shows as a request without an observation). Readings are
 * never clamped: a reading outside the declared range is sent, the machine
 * rejects the whole event and the trace records its `input.rejected`.
 *
 * Exposure. The driver keeps each participant's `Exposure` from the
 * machine's emitted `administer` (start/pause/resume/stop, with the dose
 * delivered so far), `reduce` and `give` events: boluses as zero-length
 * segments, infusions as linear segments between pauses (the runtime
 * delivers an infusion linearly in un-paused stage time). `truth(t, exposure)`
 * receives only what was delivered up to t (a running infusion's segment is
 * cut at t).
 */
import {
  type Dose,
  type DoseUnit,
  type GroupContext,
  type IR,
  type ProtocolEmitted,
  type ProtocolInEvent,
  type Route,
  type Session,
  type SessionContext,
  type SessionOutput,
} from '@kapspec/runtime';
import type { Exposure, MeasureReader, Rng, Scenario, ScenarioParticipant, UniformNoise } from './model.js';
import { generic, genericFilter } from './arrays.js';
import { createRng, forkLabel } from './rng.js';
import { irHash } from './trace-io.js';
import { actorStepper, engineStepper, type StepperKind } from './stepper.js';
import type { StateRecord, Trace, TraceHeader, TraceParticipant, TraceRecord } from './trace.js';

export { EventClock } from './stepper.js';

/** Truth samples and continuous readings every this many minutes unless `resolutionMinutes` says otherwise. */
export const DEFAULT_RESOLUTION_MINUTES = 1;
/** The default horizon is this many times the session's longest possible duration (pauses lengthen a session). */
export const HORIZON_FACTOR = 2;
/** The default horizon when some stage of the session has no upper bound on its duration: 24 h. */
export const UNBOUNDED_HORIZON_MINUTES = 24 * 60;
/** Safety net: steps at one instant before the driver gives up (a machine re-arming a timer at the same instant forever). */
export const MAX_STEPS_PER_INSTANT = 10_000;

const MINUTE = 60_000;

export interface SimulateOptions {
  /** Session name; may be left out when the protocol has one session. */
  readonly session?: string;
  readonly scenario: Scenario;
  /** Seed of the measurement-noise streams (recorded in the header). */
  readonly seed: number;
  /** Stop here if the session has not reached an outcome (at most `MAX_HORIZON_MINUTES`). Default: `defaultHorizonMinutes`. */
  readonly horizonMinutes?: number;
  /** Truth samples and continuous readings every this many minutes. Default `DEFAULT_RESOLUTION_MINUTES`. */
  readonly resolutionMinutes?: number;
  /**
   * Which of the scenario's participants take part, in this order (group
   * sessions process simultaneous things in participant order). Default:
   * all of them. An individual protocol takes exactly one.
   */
  readonly participantIds?: readonly string[];
  /** The header's `model`. Default: the scenario's `model`, else `scripted`. */
  readonly model?: TraceHeader['model'];
  /**
   * Called at the end of every instant (after its timers, inputs and tick)
   * with the records so far and the instant's time; returning true stops the
   * run there, WITHOUT an `end` record: the trace is a prefix. For callers
   * that only need to know whether a property has already failed (the
   * search's shrinking); a full trace never uses it.
   */
  readonly until?: (records: readonly TraceRecord[], t: number) => boolean;
  /**
   * How the machine is run: `actor` (default), an XState actor of
   * `createProtocolMachine`, the machine an app embeds; `engine`, the same
   * session engine called directly (stepper.ts): the same trace, byte for
   * byte, several times faster. Monte Carlo statistics use `engine`.
   */
  readonly stepper?: StepperKind;
  /**
   * Record only what Monte Carlo statistics read (stats.ts): no truth
   * samples and no measurement requests, and state records carry no doses
   * (`dose: {}`), so they are written only when the stage, the pause or the
   * staff change. The machine, the readings (but see `leanReadings`) and
   * every other record are exactly those of a full trace. A lean trace is
   * not for replay or property checking. The driver also skips the
   * bookkeeping of what cannot change a lean trace: a clock move that fires
   * nothing, a reading the engine applies quietly (`quietReading`), a
   * resolution tick while no continuous monitor runs. Default false.
   */
  readonly lean?: boolean;
  /**
   * With `lean`: the measures whose every reading the trace keeps. A
   * continuous monitor's reading of any other measure, when the machine
   * applies it quietly, is left out of a lean trace (`stats` reads blood
   * pressure and pulse, not a pulse oximeter's every minute). Default: every
   * measure.
   */
  readonly leanReadings?: ReadonlySet<string>;
}

/** A scenario or option that cannot be simulated (named problem; never a silent fix). */
export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

/** The session's longest possible duration in un-paused minutes, or null when some stage has no upper bound. */
export function longestSessionMinutes(session: Session): number | null {
  let total = 0;
  for (const s of session.stages) {
    const d = s.duration.exact ?? s.duration.atMost;
    if (d === undefined) return null;
    total += d;
  }
  return total;
}

/** `HORIZON_FACTOR` × the longest possible duration, or `UNBOUNDED_HORIZON_MINUTES`. */
export function defaultHorizonMinutes(session: Session): number {
  const longest = longestSessionMinutes(session);
  return longest === null ? UNBOUNDED_HORIZON_MINUTES : HORIZON_FACTOR * longest;
}

/**
 * The longest stretch of a session the simulator runs: 7 days. It samples
 * the participant every resolution minute, so a session planned to last
 * months would not finish (and its trace would not fit in memory). A KAP
 * session lasts hours; a longer one is almost surely a unit slip (`weeks`
 * for `min`). A simulation choice, not a clinical figure.
 */
export const MAX_HORIZON_MINUTES = 7 * 24 * 60;

const count = (x: number) => Math.round(x).toLocaleString('en');
/** `minutes`, and in days when that is more than a day. */
const span = (minutes: number) => `${count(minutes)} minutes${minutes > 1440 ? ` (${count(minutes / 1440)} days)` : ''}`;

/** Why `horizon` minutes of `session` are more than the simulator runs, naming the longest stage. */
function horizonTooLong(session: Session, horizon: number, given: boolean): string {
  let longest: Session['stages'][number] | undefined;
  let minutes = -1;
  for (const s of session.stages) {
    const d = s.duration.exact ?? s.duration.atMost ?? s.duration.atLeast ?? 0;
    if (d > minutes) [longest, minutes] = [s, d];
  }
  const why = given
    ? `a horizon of ${span(horizon)} was asked for`
    : `session "${session.name}" can last up to ${span(horizon / HORIZON_FACTOR)}${longest ? ` (stage "${longest.name}" at line ${longest.span.line} lasts ${span(minutes)})` : ''}, so its simulation would run ${count(horizon)} minutes (${HORIZON_FACTOR} times that)`;
  return `${why}; the simulator runs at most ${count(MAX_HORIZON_MINUTES)} minutes (7 days) of a session. Check the stage durations' units.`;
}

/**
 * The horizon `simulate` uses for `session` by default
 * (`defaultHorizonMinutes`); a `SimulationError` naming the longest stage
 * when that is more than `MAX_HORIZON_MINUTES`.
 */
export function sessionHorizonMinutes(session: Session): number {
  const horizon = defaultHorizonMinutes(session);
  if (horizon > MAX_HORIZON_MINUTES) throw new SimulationError(horizonTooLong(session, horizon, false));
  return horizon;
}

// ── Exposure ─────────────────────────────────────────────────────────────

type Segment = Exposure['doses'][number];

interface OpenInfusion {
  readonly key: string;
  readonly drug: string;
  readonly stage: string;
  readonly route: Route;
  readonly unit: DoseUnit;
  target: number;
  /** Delivered at `since`. */
  delivered: number;
  /** Un-paused minutes from `since` to completion. */
  remaining: number;
  running: boolean;
  since: number;
}

function convert(d: Dose, to: DoseUnit, weightKg: number): number | null {
  if (d.unit === to) return d.value;
  if (!(weightKg > 0)) return null;
  return to === 'mg' ? d.value * weightKg : d.value / weightKg;
}

class ExposureTracker {
  /** Bumped whenever what was delivered changes course (a truth at the same minute and version is the same truth). */
  version = 0;
  private readonly closed: Segment[] = generic();
  private open: OpenInfusion[] = generic();
  /** Closed amounts by drug (bolus + finished segments). */
  private readonly closedDose = new Map<string, number>();

  constructor(
    private readonly ir: IR,
    private readonly session: Session,
    private readonly weightKg: number,
  ) {}

  private unitOf(drug: string): DoseUnit {
    return this.ir.drugs.find((d) => d.name === drug)?.unit ?? 'mg';
  }

  private push(seg: Segment): void {
    if (!(seg.amount !== 0)) return;
    this.closed.push(seg);
    this.closedDose.set(seg.drug, (this.closedDose.get(seg.drug) ?? 0) + seg.amount);
  }

  private deliveredAt(inf: OpenInfusion, t: number): number {
    if (!inf.running) return inf.delivered;
    const f = inf.remaining <= 0 ? 1 : Math.min(1, Math.max(0, (t - inf.since) / inf.remaining));
    return inf.delivered + (inf.target - inf.delivered) * f;
  }

  /** Closes the running part of `inf` at `t`; `delivered` (the runtime's figure, when it gave one) is authoritative. */
  private checkpoint(inf: OpenInfusion, t: number, delivered?: number): void {
    const now = delivered ?? this.deliveredAt(inf, t);
    if (inf.running) {
      const end = inf.remaining <= 0 ? inf.since : Math.min(t, inf.since + inf.remaining);
      this.push({ drug: inf.drug, route: inf.route, start: inf.since, end, amount: now - inf.delivered, unit: inf.unit });
      inf.remaining = Math.max(0, inf.remaining - (t - inf.since));
    }
    inf.delivered = now;
    inf.since = t;
  }

  onEmitted(e: ProtocolEmitted, t: number): void {
    if (e.type === 'administer' || e.type === 'reduce' || e.type === 'give') this.version++;
    switch (e.type) {
      case 'administer': {
        const key = `${e.stage}|${e.drug}|${e.span.start}|${e.span.end}`;
        const unit = this.unitOf(e.drug);
        if (e.phase === 'start') {
          if (e.delivery.kind === 'once') {
            this.push({ drug: e.drug, route: e.route, start: t, end: t, amount: e.delivered, unit });
          } else {
            this.open.push({
              key,
              drug: e.drug,
              stage: e.stage,
              route: e.route,
              unit,
              target: convert(e.dose, unit, this.weightKg) ?? 0,
              delivered: e.delivered,
              remaining: e.delivery.minutes,
              running: true,
              since: t,
            });
          }
          return;
        }
        const inf = this.open.find((x) => x.key === key);
        if (!inf) return;
        if (e.phase === 'pause') {
          this.checkpoint(inf, t, e.delivered);
          inf.running = false;
        } else if (e.phase === 'resume') {
          this.checkpoint(inf, t, e.delivered);
          inf.running = true;
        } else {
          this.checkpoint(inf, t, e.delivered);
          inf.running = false;
          this.open = genericFilter(this.open, (x) => x !== inf);
        }
        return;
      }
      case 'reduce': {
        const to = convert(e.to, this.unitOf(e.drug), this.weightKg);
        if (to === null) return;
        for (const inf of this.open) {
          if (inf.drug !== e.drug) continue;
          this.checkpoint(inf, t);
          inf.target = Math.max(inf.delivered, to);
        }
        return;
      }
      case 'give': {
        const unit = this.unitOf(e.drug);
        const amount = convert(e.dose, unit, this.weightKg);
        if (amount === null) return;
        const route = e.route ?? this.defaultRoute(e.drug);
        this.push({ drug: e.drug, route, start: t, end: t, amount, unit });
        return;
      }
      case 'stage':
        if (e.phase === 'exit' || e.phase === 'stop') {
          // The runtime freezes the stage's infusions; a complete one emits nothing.
          for (const inf of this.open.filter((x) => x.stage === e.stage)) {
            this.checkpoint(inf, t);
            inf.running = false;
            this.version++;
          }
          this.open = genericFilter(this.open, (x) => x.stage !== e.stage);
        }
        return;
      default:
        return;
    }
  }

  /**
   * A `give` without a route: the route of the session's `administer` line
   * for that drug, if there is one, else `oral` (the route a rescue
   * medication like ondansetron is most often written for; a documented
   * assumption, only reached when the protocol names no route).
   */
  private defaultRoute(drug: string): Route {
    for (const s of this.session.stages) for (const a of s.administer) if (a.drug === drug) return a.route;
    return 'oral';
  }

  private atT = Number.NaN;
  private atVersion = -1;
  private at: Exposure | null = null;

  /**
   * What was delivered up to `t`: the same object for the same `t` until
   * delivery changes course, and for every `t` while no infusion runs
   * (models may memoize on it).
   */
  exposure(t: number): Exposure {
    if (this.at !== null && this.atVersion === this.version && (this.atT === t || !this.running())) return this.at;
    this.atT = t;
    this.atVersion = this.version;
    return (this.at = this.delivered(t));
  }

  /** Some infusion is running: what was delivered grows with time. */
  private running(): boolean {
    for (let i = 0; i < this.open.length; i++) if (this.open[i]!.running) return true;
    return false;
  }

  private delivered(t: number): Exposure {
    // A copy: the object handed out is never changed afterwards.
    if (this.open.length === 0) return { doses: this.closed.slice() };
    const doses = this.closed.slice();
    for (const inf of this.open) {
      if (!inf.running) continue;
      const amount = this.deliveredAt(inf, t) - inf.delivered;
      if (amount !== 0) doses.push({ drug: inf.drug, route: inf.route, start: inf.since, end: Math.min(t, inf.since + inf.remaining), amount, unit: inf.unit });
    }
    return { doses };
  }

  private envelopeVersion = -1;
  private envelopeAt: Exposure | null = null;

  /**
   * What will have been delivered once every running infusion completes,
   * if delivery does not change course: the closed doses and each running
   * infusion's rest as one segment (`MeasureReader.bounds`). Until delivery
   * changes course, every `exposure(t)` delivers between none and all of
   * each of its doses. The same object until then.
   */
  envelope(): Exposure {
    if (this.envelopeAt !== null && this.envelopeVersion === this.version) return this.envelopeAt;
    const doses = this.closed.slice();
    for (const inf of this.open) {
      if (!inf.running || inf.target === inf.delivered) continue;
      doses.push({ drug: inf.drug, route: inf.route, start: inf.since, end: inf.since + Math.max(0, inf.remaining), amount: inf.target - inf.delivered, unit: inf.unit });
    }
    this.envelopeVersion = this.version;
    return (this.envelopeAt = { doses });
  }

  /** Dose delivered so far by drug. */
  dose(t: number, into: Record<string, number>): void {
    for (const [drug, v] of this.closedDose) into[drug] = (into[drug] ?? 0) + v;
    // Up to each open infusion's `since` is in the closed segments already.
    for (const inf of this.open) if (inf.running) into[inf.drug] = (into[inf.drug] ?? 0) + this.deliveredAt(inf, t) - inf.delivered;
  }
}

// ── The driver ───────────────────────────────────────────────────────────

/**
 * The members' profiles, for the header. A loop, not `members.map(…)`: in
 * `simulate`'s optimized code that `map` load deoptimized on every call
 * (V8 "wrong map", measured with --trace-deopt: one deopt per session in a
 * Monte Carlo run), sending the rest of each call back to the interpreter.
 */
function profilesOf(members: readonly Member[]): TraceParticipant[] {
  const out: TraceParticipant[] = [];
  for (let i = 0; i < members.length; i++) out.push(members[i]!.scenario.profile);
  return out;
}

interface Member {
  readonly scenario: ScenarioParticipant;
  readonly id: string;
  readonly exposure: ExposureTracker;
  readonly rng: Rng;
  lastTruthT: number;
  lastTruth: Readonly<Record<string, number>> | null;
  /** The last truth computed, at `cacheT` with exposure version `cacheVersion` (physiology is deterministic). */
  cacheT: number;
  cacheVersion: number;
  cache: Readonly<Record<string, number>> | null;
  done: boolean;
  /**
   * The reader of the measure last read in a row of quiet readings
   * (`quietRow`), and its bounds; at first one of no measure (an object from
   * the start, so the field keeps one type).
   */
  row: RowReader;
}

interface RowReader {
  readonly measure: string;
  readonly reader: MeasureReader | undefined;
  /** The exposure version the bounds are for (-1: none yet). */
  version: number;
  /** The truth's bounds hold (the model gave some). */
  bounded: boolean;
  lo: number;
  hi: number;
  /**
   * Noises whose readings of both bounds were found quiet, [nlo, nhi]
   * (empty while nlo > nhi): every noise between two of them is quiet too,
   * as `read` never decreases as its value or its noise grows and the
   * readings the engine applies quietly are an interval. Checked again at
   * the start of each row (the engine's interval or the bounds may have
   * moved since).
   */
  nlo: number;
  nhi: number;
  /** The radius of the known quiet noises (the smaller side), as `aMost` was worked out for. */
  r: number;
  /** `uniforms.firstAtMost(r)`: -1 while no first uniform is known to keep a noise quiet. */
  aMost: number;
  /** The reading of the lower bound with the lowest known quiet noise: quiet as far as its value goes. */
  anchor: number;
}

/** After the known quiet noises of `row` grew: the first uniform that keeps a noise inside them, and the anchor. */
function widen(row: RowReader, uniforms: UniformNoise): void {
  const r = Math.min(-row.nlo, row.nhi);
  if (r !== row.r) {
    row.r = r;
    row.aMost = r > 0 ? uniforms.firstAtMost(r) : -1;
  }
  row.anchor = row.reader!.read(row.lo, row.nlo);
}

function rowOf(measure: string, reader: MeasureReader | undefined): RowReader {
  return { measure, reader, version: -1, bounded: false, lo: 0, hi: 0, nlo: Infinity, nhi: -Infinity, r: 0, aMost: -1, anchor: 0 };
}

interface Continuous {
  readonly participant: string | undefined;
  readonly member: Member;
  readonly stage: string;
  readonly measures: readonly string[];
  lastSent: number;
  /** Still listed in `continuous` (its stage and participant are still there). */
  active: boolean;
}

type Input =
  | { readonly t: number; readonly kind: 'staff'; readonly action: 'arrive' | 'leave'; readonly role: string }
  | { readonly t: number; readonly kind: 'event'; readonly member: Member; readonly name: string };

function pickSession(ir: IR, name: string | undefined): Session {
  if (name === undefined) {
    if (ir.sessions.length === 1) return ir.sessions[0]!;
    throw new SimulationError(`the protocol has ${ir.sessions.length} sessions: name one (${ir.sessions.map((s) => s.name).join(', ')})`);
  }
  const s = ir.sessions.find((x) => x.name === name);
  if (!s) throw new SimulationError(`no session "${name}" (sessions: ${ir.sessions.map((x) => x.name).join(', ')})`);
  return s;
}

function checkTime(t: unknown, what: string): number {
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw new SimulationError(`${what}: time ${String(t)} is not a finite number of minutes >= 0`);
  return t;
}

function sameValues(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.is(a[k], b[k])) return false;
  return true;
}

function sameState(a: StateRecord, b: StateRecord): boolean {
  return (
    a.stage === b.stage &&
    a.paused.length === b.paused.length &&
    a.paused.every((x, i) => x === b.paused[i]) &&
    sameValues(a.present, b.present) &&
    sameValues(a.free, b.free) &&
    sameValues(a.dose, b.dose) &&
    sameNested(a.doses, b.doses)
  );
}

function sameNested(a: StateRecord['doses'], b: StateRecord['doses']): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => b[k] !== undefined && sameValues(a[k]!, b[k]!));
}

const frozenParameters = new WeakMap<object, Map<number, Readonly<Record<string, number | string | boolean>>>>();

/**
 * The header's parameters: the scenario's, plus the resolution. A frozen
 * scenario record (the calibrated model shares one across its sessions)
 * gives one frozen, shared header record per resolution.
 */
function headerParameters(parameters: Scenario['parameters'], resolution: number): Readonly<Record<string, number | string | boolean>> {
  // Known frozen records first: `Object.isFrozen` walks every property.
  let byResolution = frozenParameters.get(parameters);
  if (byResolution === undefined) {
    if (!Object.isFrozen(parameters)) return { ...parameters, resolution };
    frozenParameters.set(parameters, (byResolution = new Map()));
  }
  let record = byResolution.get(resolution);
  if (record === undefined) byResolution.set(resolution, (record = Object.freeze({ ...parameters, resolution })));
  return record;
}

/**
 * Simulates one session of `ir` against `scenario` and returns its trace.
 * Deterministic: the same IR, options and scenario give the same trace
 * (and, through `serializeTrace`, the same bytes).
 */
export function simulate(ir: IR, options: SimulateOptions): Trace {
  const session = pickSession(ir, options.session);
  const { scenario } = options;
  const resolution = options.resolutionMinutes ?? DEFAULT_RESOLUTION_MINUTES;
  if (!(Number.isFinite(resolution) && resolution > 0)) throw new SimulationError(`resolutionMinutes must be a number > 0, got ${String(resolution)}`);
  const horizon = options.horizonMinutes ?? sessionHorizonMinutes(session);
  if (!(Number.isFinite(horizon) && horizon >= 0)) throw new SimulationError(`horizonMinutes must be a finite number >= 0, got ${String(horizon)}`);
  if (horizon > MAX_HORIZON_MINUTES) throw new SimulationError(horizonTooLong(session, horizon, true));
  const group = ir.setting.mode === 'group';

  // Participants.
  let chosen: ScenarioParticipant[];
  if (options.participantIds) {
    chosen = options.participantIds.map((id) => {
      const p = scenario.participants.find((x) => x.profile.id === id);
      if (!p) throw new SimulationError(`participant "${id}" is not in the scenario (participants: ${scenario.participants.map((x) => x.profile.id).join(', ') || 'none'})`);
      return p;
    });
  } else chosen = [...scenario.participants];
  if (!group && chosen.length !== 1) {
    throw new SimulationError(
      `"${ir.protocol.title}" is an individual protocol: it takes one participant, and ${chosen.length} were given${chosen.length > 1 ? ' (pass participantIds: [id])' : ''}`,
    );
  }
  const root = createRng(options.seed);
  const members: Member[] = chosen.map((p) => ({
    scenario: p,
    id: p.profile.id,
    exposure: new ExposureTracker(ir, session, p.profile.weightKg),
    rng: root.fork(forkLabel('measure', p.profile.id)),
    lastTruthT: Number.NaN,
    lastTruth: null,
    cacheT: Number.NaN,
    cacheVersion: -1,
    cache: null,
    done: false,
    row: rowOf('', undefined),
  }));
  const byId = new Map(members.map((m) => [m.id, m]));
  const memberOf = (participant: string | undefined): Member | undefined => (participant === undefined ? (group ? undefined : members[0]) : byId.get(participant));

  // Scenario inputs, in time order (staff before participant events at the same minute; otherwise scenario order).
  const inputs: Input[] = [];
  scenario.staff.forEach((s, i) => inputs.push({ t: checkTime(s.t, `staff[${i}]`), kind: 'staff', action: s.action, role: s.role }));
  for (const m of members) m.scenario.events.forEach((e, i) => inputs.push({ t: checkTime(e.t, `participant "${m.id}" events[${i}]`), kind: 'event', member: m, name: e.name }));
  if (inputs.length > 1) {
    const order = new Map(inputs.map((x, i) => [x, i]));
    inputs.sort((a, b) => a.t - b.t || (a.kind === b.kind ? 0 : a.kind === 'staff' ? -1 : 1) || order.get(a)! - order.get(b)!);
  }

  // The machine.
  const staffAtStart = scenario.staffAtStart;
  const machineOptions = group
    ? { session: session.name, participants: members.map((m) => ({ id: m.id, profile: m.scenario.profile })), ...(staffAtStart ? { staff: staffAtStart } : {}) }
    : { session: session.name, participant: members[0]!.scenario.profile, ...(staffAtStart ? { staff: staffAtStart } : {}) };
  const machine = (options.stepper ?? 'actor') === 'engine' ? engineStepper(ir, machineOptions) : actorStepper(ir, machineOptions);

  const records: TraceRecord[] = [];
  const continuous: Continuous[] = [];
  const answers: { member: Member; participant: string | undefined; measures: readonly string[]; monitor?: Continuous }[] = [];
  let lastState: StateRecord | null = null;
  let t = 0;
  let finished = false;
  let stepsHere = 0;

  const context = () => machine.context();

  const lean = options.lean === true;
  const keepReadings = lean ? options.leanReadings : undefined;

  /** The participant's true values now (computed once per minute and exposure). */
  const truthOf = (m: Member): Readonly<Record<string, number>> => {
    const version = m.exposure.version;
    if (m.cache !== null && m.cacheT === t && m.cacheVersion === version) return m.cache;
    const truth = m.scenario.physiology.truth(t, m.exposure.exposure(t));
    m.cacheT = t;
    m.cacheVersion = version;
    m.cache = truth;
    return truth;
  };

  /** One measure's true value now: from the full truth when it is at hand, else (lean traces) just that measure. */
  const valueOf = (m: Member, name: string): number | undefined => {
    if (m.cache !== null && m.cacheT === t && m.cacheVersion === m.exposure.version) return m.cache[name];
    const physiology = m.scenario.physiology;
    if (!lean || physiology.truthOf === undefined) return truthOf(m)[name];
    return physiology.truthOf(name, t, m.exposure.exposure(t));
  };

  /** Records a truth sample now, unless the same values were recorded at this minute (or the trace is lean). */
  const recordTruth = (m: Member) => {
    if (lean) return;
    const truth = truthOf(m);
    if (m.lastTruthT === t && m.lastTruth !== null && sameValues(m.lastTruth, truth)) return;
    m.lastTruthT = t;
    m.lastTruth = truth;
    records.push({ t, type: 'truth', participant: m.id, values: { ...truth } });
  };

  /** People of `role` present and not attending anyone. */
  const freeOf = (c: SessionContext | GroupContext, role: string): number => {
    let busy = 0;
    for (const b of c.busy) if (b.role === role) busy++;
    return Math.max(0, (c.present[role] ?? 0) - busy);
  };

  /** Whether a lean state record now would equal the last one (no allocation: the common case). */
  const sameLeanState = (c: SessionContext | GroupContext, stage: string | undefined, paused: boolean): boolean => {
    const last = lastState;
    if (last === null || last.stage !== stage || (last.paused.length > 0) !== paused) return false;
    for (const r of ir.roles) {
      if (last.present[r.name] !== (c.present[r.name] ?? 0) || last.free[r.name] !== freeOf(c, r.name)) return false;
    }
    return true;
  };

  const recordState = () => {
    const c = machine.context();
    const done = machine.done();
    const stage = done ? undefined : session.stages[c.stageIndex]?.name;
    const paused = stage !== undefined && machine.paused();
    if (lean && sameLeanState(c, stage, paused)) return;
    const present: Record<string, number> = {};
    const free: Record<string, number> = {};
    for (const r of ir.roles) {
      present[r.name] = c.present[r.name] ?? 0;
      free[r.name] = freeOf(c, r.name);
    }
    // A lean trace carries no doses.
    const dose: Record<string, number> = {};
    let doses: Record<string, Record<string, number>> | undefined;
    if (!lean && group) {
      doses = {};
      for (const m of members) {
        const d: Record<string, number> = {};
        m.exposure.dose(t, d);
        doses[m.id] = d;
        for (const [k, v] of Object.entries(d)) dose[k] = (dose[k] ?? 0) + v;
      }
    } else if (!lean) members[0]!.exposure.dose(t, dose);
    // Literals without spreads (a spread in a literal takes V8's slow path: this runs at every change of state).
    const rec: StateRecord =
      stage === undefined
        ? doses
          ? { t, type: 'state', paused: [], present, free, dose, doses }
          : { t, type: 'state', paused: [], present, free, dose }
        : doses
          ? { t, type: 'state', stage, paused: paused ? [stage] : [], present, free, dose, doses }
          : { t, type: 'state', stage, paused: paused ? [stage] : [], present, free, dose };
    if (lastState && sameState(lastState, rec)) return;
    lastState = rec;
    records.push(rec);
  };

  const recordOutcomes = () => {
    const done = machine.done();
    if (group) {
      for (const gm of (machine.context() as GroupContext).members) {
        const m = byId.get(gm.who);
        if (!m || m.done || !gm.outcome) continue;
        m.done = true;
        records.push(outcomeRecord(gm.outcome, m.id));
      }
    } else if (done && !members[0]!.done) {
      members[0]!.done = true;
      records.push(outcomeRecord(machine.output() as SessionOutput, undefined));
    }
    if (done) finished = true;
  };

  const outcomeRecord = (o: SessionOutput, participant: string | undefined): TraceRecord => ({
    t,
    type: 'outcome',
    ...(participant !== undefined ? { participant } : {}),
    outcome: o.outcome,
    ...(o.reason !== undefined ? { reason: o.reason } : {}),
    ...(o.rule !== undefined ? { rule: o.rule } : {}),
  });

  const dropMonitor = (i: number) => {
    continuous[i]!.active = false;
    continuous.splice(i, 1);
  };

  /** Records what one machine step emitted, the state after it and any outcome; queues its measurement requests. */
  const afterStep = () => {
    if (++stepsHere > MAX_STEPS_PER_INSTANT) throw new SimulationError(`more than ${MAX_STEPS_PER_INSTANT} machine steps at minute ${t}: the session does not settle`);
    const out = machine.take();
    for (const e of out) {
      const participant = (e as { participant?: string }).participant;
      const m = memberOf(participant);
      if (e.type === 'measure.request') {
        if (!lean) records.push({
          t,
          type: 'request',
          ...(participant !== undefined ? { participant } : {}),
          measures: [...e.measures],
          stage: e.stage,
          ...(e.continuous ? { continuous: true } : {}),
        });
        if (!m) continue;
        let monitor: Continuous | undefined;
        if (e.continuous) {
          monitor = { participant, member: m, stage: e.stage, measures: e.measures, lastSent: Number.NaN, active: true };
          continuous.push(monitor);
        }
        answers.push({ member: m, participant, measures: e.measures, monitor });
        continue;
      }
      records.push({ t, type: 'emit', event: e as unknown as Readonly<Record<string, unknown>> & { readonly type: string } });
      if (m) m.exposure.onEmitted(e, t);
      if (e.type === 'stage' && e.phase === 'exit') {
        for (let i = continuous.length - 1; i >= 0; i--) {
          const c = continuous[i]!;
          if (c.stage === e.stage && c.participant === participant) dropMonitor(i);
        }
      }
    }
    recordState();
    recordOutcomes();
    if (group) {
      for (let i = continuous.length - 1; i >= 0; i--) if (continuous[i]!.member.done) dropMonitor(i);
    } else if (finished) for (let i = continuous.length - 1; i >= 0; i--) dropMonitor(i);
  };

  const send = (e: ProtocolInEvent) => {
    // A quiet reading leaves stage, pause, staff and outcome as they were and
    // emits nothing: a lean trace has nothing to record (a full one records
    // the dose delivered by now).
    if (machine.send(e) && lean) return;
    afterStep();
  };

  const measureNow = (m: Member, participant: string | undefined, measures: readonly string[], monitor?: Continuous) => {
    if (finished || m.done) return;
    if (monitor) {
      if (!monitor.active || monitor.lastSent === t) return;
      monitor.lastSent = t;
    }
    recordTruth(m);
    const physiology = m.scenario.physiology;
    // A continuous monitor's reading of one measure in an individual session (a pulse oximeter every
    // minute, the commonest reading): as below, on a path of its own, where the reading's object is
    // always built the same way (a store V8 can keep monomorphic) and a quiet one ends the step.
    if (monitor !== undefined && participant === undefined && measures.length === 1) {
      const name = measures[0]!;
      const v = valueOf(m, name);
      if (v === undefined) return;
      const reading = physiology.measure(name, v, t, m.rng);
      // Quiet: nothing else to do (a lean trace records nothing more, and not even the reading when it keeps only others).
      const kept = keepReadings === undefined || keepReadings.has(name);
      if (!kept && machine.quiet(name, reading)) return;
      const one: Record<string, number> = {};
      one[name] = reading;
      records.push({ t, type: 'observe', values: one });
      if (kept && lean && machine.quiet(name, reading)) return;
      send({ type: 'measure', values: one });
      return;
    }
    let values: Record<string, number> | undefined;
    for (let i = 0; i < measures.length; i++) {
      const name = measures[i]!;
      const v = valueOf(m, name);
      if (v !== undefined) (values ??= {})[name] = physiology.measure(name, v, t, m.rng);
    }
    if (values === undefined) return;
    // Literals, not spreads: this runs for every reading.
    records.push(participant === undefined ? { t, type: 'observe', values } : { t, type: 'observe', participant, values });
    send((participant === undefined ? { type: 'measure', values } : { type: 'measure', values, participant }) as ProtocolInEvent);
  };

  const answerAll = () => {
    while (answers.length > 0 && !finished) {
      const a = answers.shift()!;
      measureNow(a.member, a.participant, a.measures, a.monitor);
    }
    if (answers.length !== 0) answers.length = 0;
  };

  // Start: the participants' state before the session (every trace has a truth sample at 0), then the machine.
  for (const m of members) recordTruth(m);
  machine.start();
  afterStep();
  const header: TraceHeader = {
    kapspecTrace: 1,
    protocol: ir.protocol.title,
    session: session.name,
    irHash: irHash(ir),
    seed: options.seed,
    model: options.model ?? scenario.model ?? 'scripted',
    parameters: headerParameters(scenario.parameters, resolution),
    participants: profilesOf(members),
    staff: { ...context().present },
  };
  answerAll();

  let nextInput = 0;
  let tick = 0; // index of the next resolution tick: at tick * resolution minutes
  // The instant being processed: minutes for the trace, the clock reading for the machine.
  let instant = 0;
  let instantMs = 0;
  /** Steps 1–3 of the instant `t` (see the module comment). */
  const instantSteps = () => {
    // 1. the clock to this instant: timers due now fire (and timers re-armed for this very reading).
    for (let first = true; !finished; first = false) {
      const due = machine.nextDue();
      const reach = first ? instantMs > machine.now() : false;
      if (!reach && (due === null || due > machine.now())) break;
      // A lean trace has nothing to record when the clock moved and nothing fired (a full one records the dose by now).
      if (!machine.set(Math.max(instantMs, machine.now())) && lean) continue;
      afterStep();
      answerAll();
    }
    // 2. scenario inputs due now.
    while (!finished && nextInput < inputs.length && inputs[nextInput]!.t <= t) {
      const x = inputs[nextInput++]!;
      if (x.kind === 'staff') {
        records.push({ t, type: 'staff', action: x.action, role: x.role });
        for (const m of members) if (!m.done) recordTruth(m);
        send({ type: x.action === 'arrive' ? 'staff.arrive' : 'staff.leave', role: x.role });
      } else {
        if (x.member.done) continue;
        const participant = group ? x.member.id : undefined;
        recordTruth(x.member);
        records.push({ t, type: 'event', ...(participant !== undefined ? { participant } : {}), name: x.name });
        send({ type: 'event', name: x.name, ...(participant !== undefined ? { participant } : {}) } as ProtocolInEvent);
      }
      answerAll();
    }
    // 3. resolution tick.
    if (!finished && tick * resolution <= t) {
      for (const m of members) if (!m.done) recordTruth(m);
      // A reading can end a stage and so its monitors: go over the monitors as they were.
      if (continuous.length === 1) {
        const c = continuous[0]!;
        // After a timer or an input at a tick, the monitor's reading may begin a row of quiet ones.
        if (!(quick && tick * resolution === t && quietRow(c))) measureNow(c.member, c.participant, c.measures, c);
      } else for (const c of continuous.slice()) measureNow(c.member, c.participant, c.measures, c);
      answerAll();
      while (tick * resolution <= t) tick++;
    }
  };

  /** The reader of measure `name` of `m` with bounds on its truth for the exposure now, or null (the model gives none). */
  const rowReader = (m: Member, name: string): RowReader | null => {
    let row = m.row;
    if (row.measure !== name) row = m.row = rowOf(name, m.scenario.physiology.reader?.(name));
    if (row.reader === undefined) return null;
    const version = m.exposure.version;
    if (row.version !== version) {
      const b = row.reader.bounds(m.exposure.envelope());
      row.version = version;
      row.bounded = b !== undefined;
      if (b !== undefined) {
        row.lo = b.lo;
        row.hi = b.hi;
      }
    }
    return row.bounded ? row : null;
  };

  /**
   * A row of quiet readings, for a lean trace that leaves out the monitor's
   * quiet readings: from the instant `t`, a resolution tick at which all
   * that is left to do is the one continuous monitor `c`'s reading (the
   * commonest instant, see the loop below, or step 3 of one whose timers and
   * inputs are done), tick after tick while nothing else is due and each
   * reading is quiet.
   * Each reading's noise is drawn in turn, as `measureNow` draws it; its
   * truth is worked out only when the model's bounds on the truth cannot
   * tell that the reading is quiet (the reading of any truth within them
   * would be), and for the last quiet reading of the row, which the engine
   * keeps. The same numbers drawn, the same machine steps and the same trace
   * as taking the ticks one at a time. False, having done nothing, when the
   * monitor's readings do not qualify.
   */
  const quietRow = (c: Continuous): boolean => {
    if (c.participant !== undefined || c.measures.length !== 1 || keepReadings === undefined || !c.active || c.lastSent === t) return false;
    const name = c.measures[0]!;
    const m = c.member;
    if (keepReadings.has(name) || m.done) return false;
    const row = rowReader(m, name);
    if (row === null) return false;
    const reader = row.reader!;
    // Where the row ends: the next scenario input, the horizon, the machine's timer.
    const inputAt = nextInput < inputs.length ? inputs[nextInput]!.t : Infinity;
    const due = machine.nextDue() ?? Infinity;
    const first = tick;
    // The last reading taken on the bounds alone (its truth not yet worked out): its minute, clock reading and
    // noise, or (NaN noise) the two uniforms the noise is made of, not yet worked out either.
    let heldAt = Number.NaN;
    let heldMs = 0;
    let heldNoise = 0;
    let heldA = 0;
    let heldB = 0;
    // The known quiet noises (`RowReader.nlo`/`nhi`), when the model's noise is made of two uniforms: a reading
    // whose first uniform is at most `row.aMost` has its noise in [-r, r], inside them, and so is quiet as far
    // as its value goes (`row.anchor`, a reading of that value, asks the engine about the time alone).
    const uniforms = reader.uniforms;
    if (uniforms !== undefined) {
      // The known quiet noises still quiet: the lowest and the highest reading they give, at this row's first
      // minute. None known yet: try the noises of a first uniform of 0.99 (about ±3 sd for a normal noise).
      const ms = tick * resolution * MINUTE;
      if (row.nlo > row.nhi) {
        row.nlo = uniforms.noiseOf(0.99, 0.5);
        row.nhi = uniforms.noiseOf(0.99, 0);
      }
      if (row.nlo <= row.nhi && machine.quietAt(name, reader.read(row.lo, row.nlo), ms) && machine.quietAt(name, reader.read(row.hi, row.nhi), ms)) widen(row, uniforms);
      else {
        row.nlo = Infinity;
        row.nhi = -Infinity;
        row.r = Number.NaN;
        row.aMost = -1;
      }
    }
    // Whether the engine's time allows a quiet reading at every minute the row can reach: then the readings of
    // the known quiet noises need no question to the engine at all (`quietAt` turns false only once, as time
    // goes). `reaches(k)`: the row may go on to tick k (the loop's condition below).
    const reaches = (k: number) => k * resolution < inputAt && k * resolution < horizon && k * resolution * MINUTE < due;
    let allTimes = false;
    if (row.aMost >= 0 && reaches(tick)) {
      let last = tick;
      while (last < tick + 4096 && reaches(last + 1)) last++;
      allTimes = !reaches(last + 1) && machine.quietAt(name, row.anchor, last * resolution * MINUTE);
    }
    /** The reading at minute `at` (clock reading `ms`) with `noise`, its truth worked out: the clock set there. */
    const exact = (at: number, ms: number, noise: number): number => {
      machine.set(ms);
      t = at;
      stepsHere = 0;
      c.lastSent = at;
      const v = valueOf(m, name);
      if (v === undefined) throw new SimulationError(`the model bounds "${name}" but gives no true value of it at minute ${at}`);
      return reader.read(v, noise);
    };
    /** Applies the reading held back (`exact`): quiet, as the bounds said. */
    const applyHeld = (at: number, ms: number, noise: number) => {
      if (!machine.quiet(name, exact(at, ms, noise))) throw new SimulationError(`the model's bounds on "${name}" (${row.lo} to ${row.hi}) do not hold at minute ${t}`);
    };
    for (;;) {
      const at = tick * resolution;
      const ms = at * MINUTE;
      if (!(at < inputAt && at < horizon && ms < due)) break;
      let noise: number;
      if (uniforms !== undefined) {
        const a = m.rng.next();
        const b = m.rng.next();
        tick++;
        if (a <= row.aMost && (allTimes || machine.quietAt(name, row.anchor, ms))) {
          heldAt = at;
          heldMs = ms;
          heldNoise = Number.NaN;
          heldA = a;
          heldB = b;
          continue;
        }
        noise = uniforms.noiseOf(a, b);
      } else {
        noise = reader.noise(m.rng);
        tick++;
      }
      if (machine.quietAt(name, reader.read(row.lo, noise), ms) && machine.quietAt(name, reader.read(row.hi, noise), ms)) {
        heldAt = at;
        heldMs = ms;
        heldNoise = noise;
        if (uniforms !== undefined && (noise < row.nlo || noise > row.nhi)) {
          if (noise < row.nlo) row.nlo = noise;
          if (noise > row.nhi) row.nhi = noise;
          widen(row, uniforms);
        }
        continue;
      }
      if (!Number.isNaN(heldAt)) {
        applyHeld(heldAt, heldMs, Number.isNaN(heldNoise) ? uniforms!.noiseOf(heldA, heldB) : heldNoise);
        heldAt = Number.NaN;
      }
      const reading = exact(at, ms, noise);
      if (machine.quiet(name, reading)) continue;
      // Not quiet: as `measureNow` records and sends it; the row ends here.
      const one: Record<string, number> = {};
      one[name] = reading;
      records.push({ t, type: 'observe', values: one });
      send({ type: 'measure', values: one });
      answerAll();
      return true;
    }
    if (!Number.isNaN(heldAt)) applyHeld(heldAt, heldMs, Number.isNaN(heldNoise) ? uniforms!.noiseOf(heldA, heldB) : heldNoise);
    return tick > first;
  };

  // Lean traces take a shortcut through the commonest instant (below).
  const quick = lean && options.until === undefined;
  for (;;) {
    if (finished) break;
    t = instant;
    stepsHere = 0;
    // The commonest instant of a lean trace: a resolution tick at which nothing is due but one
    // continuous monitor's reading (no timer by now, no scenario input). Steps 1–3 (instantSteps) would set
    // the clock (nothing fires), find no input, take the reading and answer what it asked for:
    // exactly this.
    if (
      quick &&
      continuous.length === 1 &&
      instant === tick * resolution &&
      (nextInput >= inputs.length || inputs[nextInput]!.t > t) &&
      instantMs > machine.now() &&
      !((machine.nextDue() ?? Infinity) <= instantMs)
    ) {
      const c = continuous[0]!;
      // A row of quiet readings from here when the monitor's readings allow it, else this one reading.
      if (!quietRow(c)) {
        machine.set(instantMs);
        measureNow(c.member, c.participant, c.measures, c);
        answerAll();
        tick++;
      }
    } else instantSteps();
    if (finished) break;
    if (options.until?.(records, t)) {
      machine.stop();
      return { header, records };
    }
    if (t >= horizon) {
      records.push({ t, type: 'end', reason: 'horizon' });
      machine.stop();
      return { header, records };
    }
    // The next instant: the earliest of the next timer, scenario input, tick and the horizon.
    let next = horizon;
    if (nextInput < inputs.length) next = Math.min(next, inputs[nextInput]!.t);
    // A lean trace has nothing to do at a tick without continuous monitors (no truth samples):
    // the next instant that has something catches the tick count up (step 3).
    if (!quick || continuous.length > 0) next = Math.min(next, tick * resolution);
    let nextMs = next * MINUTE;
    const due = machine.nextDue();
    if (due !== null && due <= nextMs) {
      // The machine's timer comes first (or at the same minute): land exactly on its clock reading.
      if (due < nextMs) next = due / MINUTE;
      nextMs = due;
    }
    instant = Math.max(next, t);
    instantMs = Math.max(nextMs, machine.now());
  }
  records.push({ t, type: 'end', reason: 'outcome' });
  machine.stop();
  return { header, records };
}
