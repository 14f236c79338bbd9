/**
 * A scripted `Scenario` for tests and documentation: every participant's
 * vitals are given outright (a constant, or a piecewise-linear curve through
 * `[minute, value]` points), events and staff changes happen at fixed times,
 * and there is no noise: `measure` returns the true value, and the truth
 * ignores what the protocol delivers.
 *
 * ```ts
 * scriptedScenario({
 *   participants: [{ id: 'p1', vitals: { sbp: [[0, 130], [45, 190], [60, 150]], dbp: 80, hr: 72, spo2: 98, cadss: 0 },
 *                    events: [{ t: 30, name: 'nausea' }] }],
 *   staffAtStart: { therapist: 1, medical_provider: 1 },
 *   staff: [{ t: 20, action: 'leave', role: 'medical_provider' }],
 * });
 * ```
 */
import type { Physiology, Scenario, ScenarioParticipant } from './model.js';
import type { TraceParticipant } from './trace.js';

/** A constant value, or `[minute, value]` points in increasing time order (linear between them, flat beyond the ends). */
export type ScriptedCurve = number | readonly (readonly [number, number])[];

export interface ScriptedParticipant {
  readonly id: string;
  readonly vitals: Readonly<Record<string, ScriptedCurve>>;
  readonly events?: readonly { readonly t: number; readonly name: string }[];
  /** Profile fields the population checks read. Defaults: `SCRIPTED_DEFAULT_AGE`, `SCRIPTED_DEFAULT_WEIGHT_KG`, no flags. */
  readonly age?: number;
  readonly weightKg?: number;
  readonly flags?: readonly string[];
}

export interface ScriptedScenarioSpec {
  readonly participants: readonly ScriptedParticipant[];
  readonly staffAtStart?: Readonly<Record<string, number>>;
  readonly staff?: Scenario['staff'];
  readonly parameters?: Scenario['parameters'];
}

/** Age of a scripted participant when none is given: an adult inside every example's `age` range. A test default, not a population figure. */
export const SCRIPTED_DEFAULT_AGE = 40;
/** Weight of a scripted participant when none is given (kg): used to convert mg/kg doses. A test default, not a population figure. */
export const SCRIPTED_DEFAULT_WEIGHT_KG = 70;

/** The value of a curve at minute `t`. */
export function curveAt(curve: ScriptedCurve, t: number): number {
  if (typeof curve === 'number') return curve;
  if (curve.length === 0) return Number.NaN;
  const first = curve[0]!;
  if (t <= first[0]) return first[1];
  for (let i = 1; i < curve.length; i++) {
    const [t1, v1] = curve[i]!;
    if (t <= t1) {
      const [t0, v0] = curve[i - 1]!;
      if (t1 === t0) return v1;
      return v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
  }
  return curve[curve.length - 1]![1];
}

function checkCurve(id: string, name: string, curve: ScriptedCurve): void {
  if (typeof curve === 'number') return;
  if (!Array.isArray(curve) || curve.length === 0) throw new Error(`scripted participant "${id}": vitals.${name} needs a number or at least one [minute, value] point`);
  for (let i = 1; i < curve.length; i++) {
    if (!(curve[i]![0] >= curve[i - 1]![0])) {
      throw new Error(`scripted participant "${id}": vitals.${name} points must be in increasing time order (point ${i} at ${curve[i]![0]} min comes after ${curve[i - 1]![0]} min)`);
    }
  }
}

export function scriptedPhysiology(vitals: Readonly<Record<string, ScriptedCurve>>): Physiology {
  const names = Object.keys(vitals);
  return {
    truth(t) {
      const out: Record<string, number> = {};
      for (const n of names) out[n] = curveAt(vitals[n]!, t);
      return out;
    },
    measure(_measure, value) {
      return value;
    },
  };
}

export function scriptedScenario(spec: ScriptedScenarioSpec): Scenario {
  const participants: ScenarioParticipant[] = spec.participants.map((p) => {
    for (const [name, curve] of Object.entries(p.vitals)) checkCurve(p.id, name, curve);
    const baseline: Record<string, number> = {};
    for (const [name, curve] of Object.entries(p.vitals)) baseline[name] = curveAt(curve, 0);
    const profile: TraceParticipant = {
      id: p.id,
      age: p.age ?? SCRIPTED_DEFAULT_AGE,
      weightKg: p.weightKg ?? SCRIPTED_DEFAULT_WEIGHT_KG,
      baseline,
      flags: [...(p.flags ?? [])],
    };
    return { profile, physiology: scriptedPhysiology(p.vitals), events: [...(p.events ?? [])] };
  });
  return {
    participants,
    staff: [...(spec.staff ?? [])],
    staffAtStart: { ...(spec.staffAtStart ?? {}) },
    parameters: { ...(spec.parameters ?? {}) },
    model: 'scripted',
  };
}
