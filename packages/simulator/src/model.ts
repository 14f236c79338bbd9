/**
 * The contract between participant models and the driver. A model (the
 * calibrated one, the adversarial one, or a scripted one in tests) produces a
 * `Scenario`: who takes part, how their true physiology evolves (responding
 * to what the protocol actually delivers), which discrete events happen when,
 * and when staff are called away. The driver turns a scenario into a trace by
 * running the protocol's machine; it knows nothing about where the scenario
 * came from.
 */
import type { TraceParticipant } from './trace.js';

/** A deterministic pseudo-random source (never Math.random): same seed, same stream. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** A new independent stream derived from this one and `label` (stable across runs). */
  fork(label: string): Rng;
}

/** What the protocol has delivered so far, as the driver saw it from the machine's emitted events. */
export interface Exposure {
  /** Doses by drug: each bolus or infusion segment with its start, end (minutes) and amount, in the drug's tracking unit. */
  readonly doses: readonly {
    readonly drug: string;
    readonly route: 'iv' | 'im' | 'sublingual' | 'intranasal' | 'oral';
    readonly start: number;
    /** Equal to `start` for a bolus (`once`, `give`). */
    readonly end: number;
    /** Amount delivered in this segment (mg or mg/kg, the drug's tracking unit). */
    readonly amount: number;
    readonly unit: 'mg' | 'mg/kg';
  }[];
}

/** One participant's physiology for one session. */
export interface Physiology {
  /**
   * True values of every declared measure at session minute `t`, given what
   * was delivered up to `t`. Deterministic: the same arguments give the same
   * values (noise is part of the sampled parameters, not drawn here).
   */
  truth(t: number, exposure: Exposure): Readonly<Record<string, number>>;
  /**
   * Optional, for speed: one measure's true value, exactly
   * `truth(t, exposure)[measure]` (undefined when `truth` has no such
   * measure). The driver uses it when it needs a few measures only.
   */
  truthOf?(measure: string, t: number, exposure: Exposure): number | undefined;
  /**
   * A measurement of `measure` taken at `t` whose true value is `value`:
   * the reading the monitor shows (measurement noise), drawn from `rng`.
   * Must stay inside the measure's declared range only if the truth does:
   * the model never clamps silently.
   */
  measure(measure: string, value: number, t: number, rng: Rng): number;
  /**
   * Optional, for speed: `measure` of one measure split into its noise and
   * its reading, with bounds on the measure's truth (see `MeasureReader`).
   * The driver uses it to take a row of quiet continuous readings without
   * working out each one's true value. Undefined: no such split for this
   * measure.
   */
  reader?(measure: string): MeasureReader | undefined;
}

/**
 * One measure's reading in two parts, and bounds on its truth. For every
 * value v, time t and stream rng, `read(v, noise(rng))` is exactly
 * `measure(measure, v, t, rng)`, drawing the same numbers from rng.
 */
export interface MeasureReader {
  /** The measurement noise of one reading, drawn from `rng`. */
  noise(rng: Rng): number;
  /** The reading shown for true value `value` and `noise`: never decreasing as `value` or `noise` grows. */
  read(value: number, noise: number): number;
  /**
   * `lo <= truthOf(measure, t, e) <= hi` for every time t and every
   * exposure e that delivers, of each dose of `envelope`, between none and
   * all of it (the same drug, route, unit and start: what is delivered on the
   * way to `envelope` while no new dose is given). Undefined when the model
   * cannot bound it.
   */
  bounds(envelope: Exposure): { readonly lo: number; readonly hi: number } | undefined;
  /**
   * Optional, for speed: the noise as made from the two uniform numbers it
   * is drawn from. `noise(rng)` is exactly `noiseOf(rng.next(), rng.next())`
   * (arguments drawn in that order), and |noiseOf(a, b)| <= r for every b
   * whenever a <= `firstAtMost(r)`: most of a row's readings are then known
   * to be quiet from the first uniform alone, without working out the noise.
   */
  readonly uniforms?: UniformNoise;
}

/** See `MeasureReader.uniforms`. */
export interface UniformNoise {
  noiseOf(a: number, b: number): number;
  /** A first uniform at most this keeps the noise within [-r, r] whatever the second; below 0 when no uniform is known to. */
  firstAtMost(r: number): number;
}

export interface ScenarioParticipant {
  readonly profile: TraceParticipant;
  readonly physiology: Physiology;
  /** Discrete observations (declared event names) and when they happen, in session minutes. */
  readonly events: readonly { readonly t: number; readonly name: string }[];
}

export interface Scenario {
  readonly participants: readonly ScenarioParticipant[];
  /** Staff leaving and arriving, in session minutes. */
  readonly staff: readonly { readonly t: number; readonly action: 'arrive' | 'leave'; readonly role: string }[];
  /** Staff on duty at the start, by role. */
  readonly staffAtStart: Readonly<Record<string, number>>;
  /** Model parameters to record in the trace header (named, documented). */
  readonly parameters: Readonly<Record<string, number | string | boolean>>;
  /**
   * Which model family made this scenario, for the trace header's `model`
   * (optional; `simulate`'s `model` option overrides it; default `scripted`).
   */
  readonly model?: 'calibrated' | 'adversarial' | 'scripted';
}
