/**
 * A participant's true vitals over time: baseline + slow within-session
 * variation (sampled sinusoids, so `truth` is deterministic) + a drug
 * response driven by what was actually delivered (`Exposure`) + physiology
 * excursions (hypertensive surge, desaturation). `measure` adds monitor
 * noise and never clamps.
 *
 * Measures are recognised by NAME (`vitalKind`): sbp/systolic, dbp/diastolic,
 * hr/pulse/heart_rate, spo2/sat, rr/resp, cadss/dissociation, map. Any other
 * declared measure is flat at the middle of its declared range, with noise
 * of 1 % of the range.
 */
import type { Route } from '@kapspec/runtime';
import type { Exposure, MeasureReader, Physiology, Rng } from '../model.js';
import { normal, normalFirstAtMost, normalOf, uniform } from '../rng.js';
import { gamma, lognormalFactor } from './distributions.js';
import { effectBounds, effectByRoute, effectTerms, termsEffect, totalEffect, type EffectTerm } from './kinetics.js';
import {
  AMPLITUDE,
  BASELINE,
  MANAGEMENT,
  MEASUREMENT,
  POPULATION,
  SLOW_NOISE,
  SURGE,
  WITHIN_PATIENT,
  type AmplitudeProfile,
  type IvProfile,
} from './parameters.js';

export type VitalKind = 'sbp' | 'dbp' | 'hr' | 'spo2' | 'rr' | 'cadss' | 'map';

/** Which vital a declared measure is, by name; undefined for measures the model does not know. */
export function vitalKind(name: string): VitalKind | undefined {
  const n = name.toLowerCase();
  if (/^(sbp|systolic|sys)(_|$)|systolic/.test(n)) return 'sbp';
  if (/^(dbp|diastolic|dia)(_|$)|diastolic/.test(n)) return 'dbp';
  if (/^map$|mean_arterial/.test(n)) return 'map';
  if (/^(hr|pulse|heart_?rate|pr)$/.test(n) || /heart_?rate|pulse/.test(n)) return 'hr';
  if (/spo2|sao2|sat|oxygen|oximetr/.test(n)) return 'spo2';
  if (/^(rr|resp|respiratory_?rate|breaths)$/.test(n) || /resp/.test(n)) return 'rr';
  if (/cadss|dissoc/.test(n)) return 'cadss';
  return undefined;
}

export interface MeasureRange {
  readonly name: string;
  readonly min: number;
  readonly max: number;
}

interface Sinusoid {
  readonly amplitude: number;
  readonly period: number;
  readonly phase: number;
}
function sinusoids(rng: Rng, sd: number): Sinusoid[] {
  // Three sinusoids of equal amplitude a: variance 3a²/2 = sd².
  const a = sd * Math.sqrt(2 / 3);
  return SLOW_NOISE.periods.value.map(([lo, hi]) => ({
    amplitude: a,
    period: uniform(rng, lo, hi),
    phase: uniform(rng, 0, 2 * Math.PI),
  }));
}
function slow(s: readonly Sinusoid[], t: number): number {
  const w = 2 * Math.PI * t;
  let v = 0;
  for (let i = 0; i < s.length; i++) {
    const x = s[i]!;
    v += x.amplitude * Math.sin(w / x.period + x.phase);
  }
  return v;
}

/** Everything about one participant that persists across their sessions. */
export interface PatientDraw {
  readonly id: string;
  readonly age: number;
  readonly weightKg: number;
  readonly hypertension: boolean;
  readonly baseline: {
    readonly sbp: number;
    readonly dbp: number;
    readonly hr: number;
    readonly spo2Deficit: number;
    readonly rr: number;
    readonly cadss: number;
  };
  /** Standard-normal sensitivities: BP response, pulse response, dissociation. */
  readonly sensitivity: { readonly bp: number; readonly hr: number; readonly cadss: number };
}

export function samplePatient(rng: Rng, id: string, ageRange: readonly [number, number] = POPULATION.ageRange.value): PatientDraw {
  const r = rng.fork('patient');
  const age = uniform(r, ageRange[0], ageRange[1]);
  let weightKg = normal(r, POPULATION.weightMean.value, POPULATION.weightSd.value);
  const [wlo, whi] = POPULATION.weightRange.value;
  while (weightKg < wlo || weightKg > whi) weightKg = normal(r, POPULATION.weightMean.value, POPULATION.weightSd.value);
  const hypertension = r.next() < POPULATION.hypertensionPrevalence.value;
  const sbpResid = normal(r, 0, BASELINE.sbpSd.value);
  const sbp = BASELINE.sbpAt40.value + BASELINE.sbpPerYear.value * (age - 40) + (hypertension ? BASELINE.sbpHypertension.value : 0) + sbpResid;
  const dbp =
    BASELINE.dbpAt40.value +
    BASELINE.dbpPerYear.value * (age - 40) +
    (hypertension ? BASELINE.dbpHypertension.value : 0) +
    BASELINE.dbpOnSbp.value * sbpResid +
    normal(r, 0, BASELINE.dbpSd.value);
  const hr = normal(r, BASELINE.hrMean.value, BASELINE.hrSd.value);
  const m = BASELINE.spo2DeficitMean.value;
  const s = BASELINE.spo2DeficitSd.value;
  const spo2Deficit = gamma(r, (m / s) ** 2) * (s * s / m);
  const rr = normal(r, BASELINE.rrMean.value, BASELINE.rrSd.value);
  const cadss = -Math.log(1 - r.next()) * BASELINE.cadssMean.value;
  return {
    id,
    age,
    weightKg,
    hypertension,
    baseline: { sbp, dbp, hr, spo2Deficit, rr, cadss },
    sensitivity: { bp: normal(r, 0, 1), hr: normal(r, 0, 1), cadss: normal(r, 0, 1) },
  };
}

/** An excursion on top of the smooth response: its onset is tied to dosing, its size is gated by exposure at onset. */
export interface SurgeExcursion {
  readonly t0: number;
  readonly sbp: number;
  readonly dbp: number;
  readonly plateau: number;
}
export interface DesaturationExcursion {
  readonly t0: number;
  readonly depth: number;
  readonly duration: number;
}

/** Everything drawn for one session of one participant. */
export interface SessionDraw {
  /** Standard normals of this session: BP response (correlated with dissociation), pulse, dissociation. */
  readonly z: { readonly bp: number; readonly hr: number; readonly cadss: number };
  readonly slow: Readonly<Record<'sbp' | 'dbp' | 'hr' | 'rr' | 'spo2' | 'cadss', readonly Sinusoid[]>>;
  readonly surge?: SurgeExcursion;
  readonly desaturation?: DesaturationExcursion;
}

/** The per-session draws that do not depend on dosing (adverse.ts adds the excursions). */
export function sampleSessionPhysiology(rng: Rng): Omit<SessionDraw, 'surge' | 'desaturation'> {
  const r = rng.fork('physiology');
  const cadss = normal(r, 0, 1);
  const rho = WITHIN_PATIENT.dissociationCorrelation.value;
  const bp = rho * cadss + Math.sqrt(1 - rho * rho) * normal(r, 0, 1);
  const hr = normal(r, 0, 1);
  return {
    z: { bp, hr, cadss },
    slow: {
      sbp: sinusoids(r, SLOW_NOISE.sbpSd.value),
      dbp: sinusoids(r, SLOW_NOISE.dbpSd.value),
      hr: sinusoids(r, SLOW_NOISE.hrSd.value),
      rr: sinusoids(r, SLOW_NOISE.rrSd.value),
      spo2: sinusoids(r, SLOW_NOISE.spo2RelSd.value),
      cadss: sinusoids(r, SLOW_NOISE.cadssRelSd.value),
    },
  };
}

export function amplitudeProfile(route: Route, ivProfile: IvProfile): AmplitudeProfile {
  return route === 'intranasal' ? AMPLITUDE.intranasal : AMPLITUDE[ivProfile];
}

/** True peak rises at the reference dose of `route` for this patient and session. */
export function amplitudes(route: Route, ivProfile: IvProfile, patient: PatientDraw, session: Pick<SessionDraw, 'z'>): { sbp: number; dbp: number; hr: number } {
  const a = amplitudeProfile(route, ivProfile);
  const older = patient.age >= a.ageStepAt.value;
  const w = WITHIN_PATIENT.cv.value;
  const bp = lognormalFactor(session.z.bp, w);
  const sbp =
    a.sbp.value *
    lognormalFactor(patient.sensitivity.bp, a.sbpCvBetween.value) *
    (older ? a.ageStepSbp.value : 1) *
    (patient.hypertension ? a.hypertensionSbp.value : 1) *
    bp;
  const dbp =
    a.dbp.value *
    lognormalFactor(patient.sensitivity.bp, a.dbpCvBetween.value) *
    (older ? a.ageStepDbp.value : 1) *
    (patient.hypertension ? a.hypertensionDbp.value : 1) *
    bp;
  const hr = a.hr.value * lognormalFactor(patient.sensitivity.hr, a.hrCvBetween.value) * lognormalFactor(session.z.hr, w);
  return { sbp, dbp, hr };
}

export function cadssAmplitude(patient: PatientDraw, session: Pick<SessionDraw, 'z'>): number {
  return (
    WITHIN_PATIENT.cadssMean.value *
    lognormalFactor(patient.sensitivity.cadss, WITHIN_PATIENT.cadssCvBetween.value) *
    lognormalFactor(session.z.cadss, WITHIN_PATIENT.cadssCvWithin.value)
  );
}

/** Piecewise-linear surge profile (0 → 1 over the rise, plateau, 1 → 0 over the fall). */
function surgeShape(t: number, s: SurgeExcursion): number {
  const rise = SURGE.riseMinutes.value;
  const fall = SURGE.fallMinutes.value;
  const u = t - s.t0;
  if (u <= 0) return 0;
  if (u < rise) return u / rise;
  if (u < rise + s.plateau) return 1;
  if (u < rise + s.plateau + fall) return 1 - (u - rise - s.plateau) / fall;
  return 0;
}
function desatShape(t: number, d: DesaturationExcursion): number {
  const u = t - d.t0;
  if (u <= 0) return 0;
  if (u < 1) return u; // 1-minute fall
  if (u < 1 + d.duration) return 1;
  if (u < 2 + d.duration) return 2 + d.duration - u; // 1-minute recovery
  return 0;
}

export interface PhysiologyOptions {
  readonly ivProfile: IvProfile;
  /** The session's planned exposure (protocol as written): excursions scale by how much of it was actually delivered by their onset. */
  readonly planned: Exposure;
  /** The patient had a severe hypertensive episode in an earlier session: this one is managed (parameters.ts `MANAGEMENT`). */
  readonly managed?: boolean;
}

/**
 * The reading a monitor shows for true value `value` and measurement noise
 * `noise`; never decreasing as `value` grows (the display limits apply only
 * inside them, and rounding keeps order).
 */
function reading(kind: VitalKind | undefined, value: number, noise: number): number {
  let r = value + noise;
  // What the instrument can display (an oximeter tops out at 100 %, a rating
  // scale starts at 0): a property of the device, applied to the noise only
  // when the truth itself is inside those limits.
  if (kind === 'spo2' && value <= MEASUREMENT.spo2DisplayMax.value) r = Math.min(r, MEASUREMENT.spo2DisplayMax.value);
  if (kind === 'cadss' && value >= MEASUREMENT.scoreDisplayMin.value) r = Math.max(r, MEASUREMENT.scoreDisplayMin.value);
  return kind !== undefined && MEASUREMENT.roundReadings.value ? Math.round(r) : r;
}

/** { lo, hi } of k × x for x in [a, b] (a <= b). */
function scaled(k: number, a: number, b: number): { lo: number; hi: number } {
  return k >= 0 ? { lo: k * a, hi: k * b } : { lo: k * b, hi: k * a };
}

/** Fraction of the planned hemodynamic effect actually present at `t` (0..1): gates excursions so an undosed participant has none. */
function exposureGate(t: number, actual: Exposure, planned: Exposure, weightKg: number): number {
  const p = totalEffect('hemodynamic', t, planned, weightKg);
  if (p <= 0) return 0;
  return Math.min(1, totalEffect('hemodynamic', t, actual, weightKg) / p);
}

interface MeasureKind {
  readonly name: string;
  readonly kind: VitalKind | undefined;
  /** The value of a measure the model does not know (the middle of its declared range). */
  readonly mid: number;
  /** Measurement noise SD. */
  readonly sd: number;
}

/** Measurement noise SD of a vital (`range`: the declared range of a measure the model does not know). */
function noiseSd(kind: VitalKind | undefined, range: number): number {
  switch (kind) {
    case undefined:
      return MEASUREMENT.unknownRelSd.value * range;
    case 'sbp':
    case 'map':
      return MEASUREMENT.sbpSd.value;
    case 'dbp':
      return MEASUREMENT.dbpSd.value;
    case 'hr':
      return MEASUREMENT.hrSd.value;
    case 'spo2':
      return MEASUREMENT.spo2Sd.value;
    case 'rr':
      return MEASUREMENT.rrSd.value;
    case 'cadss':
      return MEASUREMENT.cadssSd.value;
  }
}

// What the model knows of each declared measure depends on the measures alone: worked out once per
// measures list (a protocol's, shared by every session simulated from it), not once per participant.
const kindsCache = new WeakMap<readonly MeasureRange[], { readonly kinds: readonly MeasureKind[]; readonly byName: ReadonlyMap<string, MeasureKind> }>();
function measureKinds(measures: readonly MeasureRange[]): { readonly kinds: readonly MeasureKind[]; readonly byName: ReadonlyMap<string, MeasureKind> } {
  let known = kindsCache.get(measures);
  if (known === undefined) {
    const kinds = measures.map((m): MeasureKind => {
      const kind = vitalKind(m.name);
      return { name: m.name, kind, mid: (m.min + m.max) / 2, sd: noiseSd(kind, m.max - m.min) };
    });
    known = { kinds, byName: new Map(kinds.map((k) => [k.name, k])) };
    kindsCache.set(measures, known);
  }
  return known;
}

export class ParticipantPhysiology implements Physiology {
  private readonly kinds: readonly MeasureKind[];
  private readonly byName: ReadonlyMap<string, MeasureKind>;
  private readonly amp = new Map<Route, { sbp: number; dbp: number; hr: number }>();
  private readonly cadssAmp: number;
  /** This session's baseline SBP and DBP (`baseline()`). */
  private readonly baseSbp: number;
  private readonly baseDbp: number;

  constructor(
    measures: readonly MeasureRange[],
    readonly patient: PatientDraw,
    readonly session: SessionDraw,
    private readonly options: PhysiologyOptions,
  ) {
    const known = measureKinds(measures);
    this.kinds = known.kinds;
    this.byName = known.byName;
    this.cadssAmp = cadssAmplitude(patient, session);
    const b = this.baseline();
    this.baseSbp = b.sbp;
    this.baseDbp = b.dbp;
  }

  private amplitude(route: Route) {
    let a = this.amp.get(route);
    if (a === undefined) {
      a = amplitudes(route, this.options.ivProfile, this.patient, this.session);
      if (this.options.managed === true) {
        const f = MANAGEMENT.amplitudeFactor.value;
        a = { sbp: a.sbp * f, dbp: a.dbp * f, hr: a.hr };
      }
      this.amp.set(route, a);
    }
    return a;
  }

  private gate(t0: number, exposure: Exposure): number {
    return exposureGate(t0, exposure, this.options.planned, this.patient.weightKg);
  }

  // The last hemodynamic and dissociative effects computed, by time and exposure object: a reading of
  // blood pressure and pulse asks for three measures at one minute (the driver passes one exposure object).
  // So a caller must pass a new `Exposure` object when what was delivered changes, never the same one
  // changed in place (the driver hands out a new one whenever delivery changes course).
  private hemoAt = Number.NaN;
  private hemoExposure: Exposure | null = null;
  private hemo = { dSbp: 0, dDbp: 0, dHr: 0 };
  private disAt = Number.NaN;
  private disExposure: Exposure | null = null;
  private dis = 0;
  // The doses of the last exposure object, resolved (a pulse oximeter asks every minute; the driver
  // hands out one exposure object for as long as delivery does not change).
  private hemoTermsOf: Exposure | null = null;
  private hemoTerms: EffectTerm[] | null = null;
  private disTermsOf: Exposure | null = null;
  private disTerms: EffectTerm[] | null = null;

  /** The drug's and a surge's contribution to SBP, DBP and pulse at `t`. */
  private hemodynamic(t: number, exposure: Exposure): { readonly dSbp: number; readonly dDbp: number; readonly dHr: number } {
    if (this.hemoAt === t && this.hemoExposure === exposure) return this.hemo;
    const hemo = this.hemodynamicNow(t, exposure);
    this.hemoAt = t;
    this.hemoExposure = exposure;
    return (this.hemo = hemo);
  }

  private hemodynamicNow(t: number, exposure: Exposure): { dSbp: number; dDbp: number; dHr: number } {
    const s = this.session;
    let dSbp = 0;
    let dDbp = 0;
    let dHr = 0;
    if (exposure !== this.hemoTermsOf) {
      this.hemoTermsOf = exposure;
      this.hemoTerms = effectTerms('hemodynamic', exposure, this.patient.weightKg);
    }
    // By route. One route (resolved terms): its effect is `effectByRoute`'s only entry (before the first
    // dose starts there is none, and adding a * 0 to 0 gives the same 0).
    const terms = this.hemoTerms;
    if (terms !== null) {
      // (No object by route: a literal with a computed key takes V8's slow path, at every reading.)
      if (terms.length > 0) {
        const e = termsEffect(terms, t);
        const a = this.amplitude(terms[0]!.route);
        dSbp += a.sbp * e;
        dDbp += a.dbp * e;
        dHr += a.hr * e;
      }
    } else {
      const hemo = effectByRoute('hemodynamic', t, exposure, this.patient.weightKg);
      for (const route in hemo) {
        const e = hemo[route as Route]!;
        const a = this.amplitude(route as Route);
        dSbp += a.sbp * e;
        dDbp += a.dbp * e;
        dHr += a.hr * e;
      }
    }
    if (s.surge !== undefined && t > s.surge.t0) {
      const k = surgeShape(t, s.surge);
      if (k > 0) {
        const g = this.gate(s.surge.t0, exposure);
        dSbp += g * k * s.surge.sbp;
        dDbp += g * k * s.surge.dbp;
      }
    }
    return { dSbp, dDbp, dHr };
  }

  /** The dissociative effect at `t` (reference-peak units). */
  private dissociative(t: number, exposure: Exposure): number {
    if (this.disAt === t && this.disExposure === exposure) return this.dis;
    this.disAt = t;
    this.disExposure = exposure;
    if (exposure !== this.disTermsOf) {
      this.disTermsOf = exposure;
      this.disTerms = effectTerms('dissociative', exposure, this.patient.weightKg);
    }
    const terms = this.disTerms;
    return (this.dis = terms !== null ? termsEffect(terms, t) : totalEffect('dissociative', t, exposure, this.patient.weightKg));
  }

  private spo2(t: number, exposure: Exposure, dis: number): number {
    const s = this.session;
    let spo2Drop = WITHIN_PATIENT.spo2Dip.value * dis;
    if (s.desaturation !== undefined && t > s.desaturation.t0) {
      const k = desatShape(t, s.desaturation);
      if (k > 0) spo2Drop += this.gate(s.desaturation.t0, exposure) * k * s.desaturation.depth;
    }
    return 100 - this.patient.baseline.spo2Deficit * (1 + slow(s.slow.spo2, t)) - spo2Drop;
  }

  private cadss(t: number, dis: number): number {
    return this.patient.baseline.cadss * (1 + slow(this.session.slow.cadss, t)) + this.cadssAmp * dis;
  }

  /** All true vitals the model knows, whether declared or not. */
  vitals(t: number, exposure: Exposure): Record<VitalKind, number> {
    const p = this.patient;
    const s = this.session;
    const { dSbp, dDbp, dHr } = this.hemodynamic(t, exposure);
    const dis = this.dissociative(t, exposure);
    const sbp = this.baseSbp + slow(s.slow.sbp, t) + dSbp;
    const dbp = this.baseDbp + slow(s.slow.dbp, t) + dDbp;
    return {
      sbp,
      dbp,
      map: dbp + (sbp - dbp) / 3,
      hr: p.baseline.hr + slow(s.slow.hr, t) + dHr,
      spo2: this.spo2(t, exposure, dis),
      rr: p.baseline.rr + slow(s.slow.rr, t),
      cadss: this.cadss(t, dis),
    };
  }

  truth(t: number, exposure: Exposure): Readonly<Record<string, number>> {
    const v = this.vitals(t, exposure);
    const out: Record<string, number> = {};
    for (const m of this.kinds) out[m.name] = m.kind === undefined ? m.mid : v[m.kind];
    return out;
  }

  /**
   * One declared measure's true value: exactly `truth(t, exposure)[measure]`,
   * computing only what that measure needs (a pulse oximeter read every
   * minute needs neither the blood-pressure response nor the other vitals).
   */
  truthOf(measure: string, t: number, exposure: Exposure): number | undefined {
    const m = this.kindOf(measure);
    if (m === undefined) return undefined;
    switch (m.kind) {
      case undefined:
        return m.mid;
      case 'spo2':
        return this.spo2(t, exposure, this.dissociative(t, exposure));
      case 'cadss':
        return this.cadss(t, this.dissociative(t, exposure));
      case 'rr':
        return this.patient.baseline.rr + slow(this.session.slow.rr, t);
      // As `vitals` computes them, term for term.
      case 'sbp':
        return this.baseSbp + slow(this.session.slow.sbp, t) + this.hemodynamic(t, exposure).dSbp;
      case 'dbp':
        return this.baseDbp + slow(this.session.slow.dbp, t) + this.hemodynamic(t, exposure).dDbp;
      case 'hr':
        return this.patient.baseline.hr + slow(this.session.slow.hr, t) + this.hemodynamic(t, exposure).dHr;
      case 'map':
        return this.vitals(t, exposure).map;
    }
  }

  /** What the model knows of a declared measure (the last one asked for is at hand: readings come one measure at a time). */
  private kindOf(measure: string): MeasureKind | undefined {
    if (measure === this.lastName) return this.lastKind;
    const m = this.byName.get(measure);
    this.lastName = measure;
    this.lastKind = m;
    return m;
  }
  private lastName: string | undefined = undefined;
  private lastKind: MeasureKind | undefined = undefined;

  measure(measure: string, value: number, _t: number, rng: Rng): number {
    const m = this.kindOf(measure);
    const kind = m === undefined ? vitalKind(measure) : m.kind;
    const sd = m === undefined ? noiseSd(kind, 0) : m.sd;
    return reading(kind, value, normal(rng, 0, sd));
  }

  /**
   * A declared pulse oximeter's readings split in two, with bounds on its
   * truth (the measure a monitor reads every minute). Other measures: none.
   */
  reader(measure: string): MeasureReader | undefined {
    const m = this.kindOf(measure);
    if (m === undefined || m.kind !== 'spo2') return undefined;
    const sd = m.sd;
    return {
      noise: (rng) => normal(rng, 0, sd),
      read: (value, noise) => reading('spo2', value, noise),
      bounds: (envelope) => this.spo2Bounds(envelope),
      uniforms: { noiseOf: (a, b) => normalOf(a, b, 0, sd), firstAtMost: (r) => normalFirstAtMost(r, sd) },
    };
  }

  /**
   * Bounds on `spo2(t, e, dissociative(t, e))` (see `MeasureReader.bounds`):
   * 100 − deficit × (1 + slow) − dip × dissociation, each term bounded on
   * its own: |slow| ≤ the sum of its amplitudes, the dissociation by
   * `effectBounds`. None in a session with a desaturation excursion: its
   * gate is a ratio of two effects that may both be tiny (a rounding error
   * apart), so nothing useful bounds it; those sessions read every minute
   * in full.
   */
  private spo2Bounds(envelope: Exposure): { lo: number; hi: number } | undefined {
    const s = this.session;
    if (s.desaturation !== undefined) return undefined;
    let amplitude = 0;
    for (const x of s.slow.spo2) amplitude += Math.abs(x.amplitude);
    const deficit = scaled(this.patient.baseline.spo2Deficit, 1 - amplitude, 1 + amplitude);
    const dis = effectBounds('dissociative', envelope, this.patient.weightKg);
    const dip = scaled(WITHIN_PATIENT.spo2Dip.value, dis.lo, dis.hi);
    // Rounding in the truth's few operations on numbers near 100: far below this pad.
    const pad = 1e-9;
    return { lo: 100 - deficit.hi - dip.hi - pad, hi: 100 - deficit.lo - dip.lo + pad };
  }

  /** This session's baseline SBP/DBP (lower when managed). */
  private baseline(): { sbp: number; dbp: number } {
    const b = this.patient.baseline;
    return this.options.managed === true
      ? { sbp: b.sbp - MANAGEMENT.baselineSbpDrop.value, dbp: b.dbp - MANAGEMENT.baselineDbpDrop.value }
      : { sbp: b.sbp, dbp: b.dbp };
  }

  /** Baseline (pre-dose, no slow variation) true values by declared measure, for the trace header. */
  baselineValues(): Record<string, number> {
    const b = { ...this.patient.baseline, ...this.baseline() };
    const v: Record<VitalKind, number> = {
      sbp: b.sbp,
      dbp: b.dbp,
      map: b.dbp + (b.sbp - b.dbp) / 3,
      hr: b.hr,
      spo2: 100 - b.spo2Deficit,
      rr: b.rr,
      cadss: b.cadss,
    };
    const out: Record<string, number> = {};
    for (const m of this.kinds) out[m.name] = m.kind === undefined ? m.mid : v[m.kind];
    return out;
  }
}
