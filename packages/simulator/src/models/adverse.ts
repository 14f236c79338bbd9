/**
 * Adverse events of one dosing session: discrete events (dissociation,
 * dizziness, vertigo, nausea, vomiting, anxiety/panic, sedation, request to
 * stop) and physiology excursions (hypertensive surge, desaturation, which
 * physiology.ts adds to the true vitals and which are also emitted as events
 * when the protocol declares a matching one).
 *
 * Per-session probabilities. CALIBRATION.md gives PER-PATIENT incidences over
 * the 8-session induction (ES1–ES7, esketamine and placebo). Each event has a
 * background (placebo) part, constant across sessions, and a drug part that
 * falls by `COURSE.eventDecline` per session:
 *   background: p_bg = 1 − (1 − p_placebo)^(1/8)
 *   drug part:  p_k = p_1 · δ^(k−1), p_1 solved so that
 *               1 − (1 − p_bg)^8 · Π_k (1 − p_k) = p_esketamine.
 * The drug part scales with the dose relative to the route's reference as a
 * hazard: 1 − (1 − p_k)^r.
 *
 * Sedation follows ES13 (REMS: 34.7 % of sessions, 61.9 % of patients):
 * a per-patient propensity p_i ~ Beta(a, b) with mean 0.347 and concentration
 * solved so that 1 − E[(1 − p_i)^8] = 0.619. The emitted `sedation` event is
 * this OBSERVED sedation; the trials' adverse-reaction count (ES4, 23 %) is a
 * reported subset: each observed session is reportable with probability q,
 * solved so that 1 − E[(1 − q p_i)^8] = 0.23.
 *
 * Dissociation is tied to the session's dissociation intensity (the CADSS
 * amplitude's standard normal): the drug part fires when that normal lies in
 * its upper p_k tail, so sessions with a dissociation event have higher CADSS
 * and, through the correlation, higher BP (IV9).
 *
 * Onsets: log-normal around a median that is a fraction of the route's
 * time of peak effect (sedation: 15 min for intranasal, ES12; the other
 * fractions are parameters), after the session's first planned dose.
 */
import type { Route } from '@kapspec/runtime';
import type { Rng } from '../model.js';
import { forkLabel, normal, uniform } from '../rng.js';
import { beta, probit, solveIncreasing } from './distributions.js';
import { referencePeak } from './kinetics.js';
import {
  COURSE,
  DESATURATION,
  OTHER_EVENTS,
  PER_PATIENT,
  SEDATION,
  SURGE,
  type EventKind,
} from './parameters.js';
import type { DesaturationExcursion, SurgeExcursion } from './physiology.js';

type CourseEvent = keyof typeof PER_PATIENT;
const COURSE_EVENTS = Object.keys(PER_PATIENT) as CourseEvent[];

export interface SessionRates {
  /** Background (placebo) probability per session. */
  readonly background: number;
  /** Drug-attributable probability in the first session at the reference dose. */
  readonly first: number;
}

const ratesCache = new Map<string, SessionRates>();

/** Per-session rates of an event with per-patient figures (ES1–ES7). */
export function sessionRates(kind: Exclude<CourseEvent, 'sedation'>): SessionRates {
  const hit = ratesCache.get(kind);
  if (hit !== undefined) return hit;
  const n = COURSE.inductionSessions.value;
  const delta = COURSE.eventDecline.value;
  const { drug, placebo } = PER_PATIENT[kind];
  const background = 1 - Math.pow(1 - placebo.value, 1 / n);
  // Probability of no drug-attributable event over the course must be (1 − p_drug)/(1 − p_placebo).
  const target = 1 - (1 - drug.value) / (1 - placebo.value);
  const courseIncidence = (p1: number) => {
    let none = 1;
    for (let k = 0; k < n; k++) none *= 1 - Math.min(1, p1 * Math.pow(delta, k));
    return 1 - none;
  };
  const first = solveIncreasing(courseIncidence, target, 0, 1);
  const r = { background, first };
  ratesCache.set(kind, r);
  return r;
}

/** Drug part at session `index` (1-based) and relative dose `r`. */
export function drugPart(rates: SessionRates, index: number, r: number): number {
  if (r <= 0) return 0;
  const pk = Math.min(1, rates.first * Math.pow(COURSE.eventDecline.value, Math.max(0, index - 1)));
  return 1 - Math.pow(1 - pk, r);
}

/** E[p^j] for p ~ Beta(a, b). */
function betaMoment(a: number, b: number, j: number): number {
  let m = 1;
  for (let r = 0; r < j; r++) m *= (a + r) / (a + b + r);
  return m;
}
function binom(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}
/** 1 − E[(1 − q p)^n] for p ~ Beta(a, b). */
function everProbability(a: number, b: number, q: number, n: number): number {
  let e = 0;
  for (let j = 0; j <= n; j++) e += binom(n, j) * Math.pow(-q, j) * betaMoment(a, b, j);
  return 1 - e;
}

export interface SedationModel {
  readonly a: number;
  readonly b: number;
  /** Probability that an observed sedation session is a reported adverse reaction (ES4). */
  readonly reportable: number;
  /** Background (placebo) per-session probability (ES4 placebo). */
  readonly background: number;
}
let sedationCache: SedationModel | undefined;

export function sedationModel(): SedationModel {
  if (sedationCache !== undefined) return sedationCache;
  const m = SEDATION.sessionRate.value;
  const n = COURSE.remsSessionsPerPatient.value;
  // Concentration κ: the per-patient incidence rises with κ from m (κ → 0) to 1 − (1 − m)^n (κ → ∞).
  const perPatient = (logK: number) => {
    const k = Math.exp(logK);
    return everProbability(m * k, (1 - m) * k, 1, n);
  };
  const kappa = Math.exp(solveIncreasing(perPatient, SEDATION.patientRate.value, -10, 10));
  const a = m * kappa;
  const b = (1 - m) * kappa;
  const nTrial = COURSE.inductionSessions.value;
  const reportable = solveIncreasing((q) => everProbability(a, b, q, nTrial), PER_PATIENT.sedation.drug.value, 0, 1);
  const background = 1 - Math.pow(1 - PER_PATIENT.sedation.placebo.value, 1 / nTrial);
  sedationCache = { a, b, reportable, background };
  return sedationCache;
}

/** Per-patient adverse-event traits (persist across the course). */
export interface PatientAdverse {
  /** Observed-sedation propensity per session at the reference dose (ES13 frailty). */
  readonly sedation: number;
}
export function samplePatientAdverse(rng: Rng): PatientAdverse {
  const s = sedationModel();
  return { sedation: beta(rng.fork('sedation-frailty'), s.a, s.b) };
}

/** Event names to look for in the protocol's `events { … }`, by kind, in priority order. */
export const EVENT_NAME_PATTERNS: Readonly<Record<EventKind, readonly RegExp[]>> = {
  dissociation: [/^dissociation$/, /dissoc/],
  dizziness: [/^dizziness$/, /dizz|lightheaded/],
  vertigo: [/^vertigo$/, /vertig/],
  nausea: [/^nausea$/, /nause/],
  vomiting: [/^vomiting$/, /vomit|emesis/],
  sedation: [/^sedation$/, /sedat|drows|somnol/],
  anxiety: [/^anxiety$/, /^panic$/, /anx|panic|agitat|distress/],
  request_stop: [/^request_stop$/, /request.*stop|stop.*request|wants?_to_stop|declin|withdraw/],
  hypertensive_surge: [/surge/, /hypertensive/],
  desaturation: [/desat/, /hypox/],
};

/**
 * Kinds that can happen in a session in which no ketamine-like drug is
 * given: anxiety or panic (psychotherapy itself can bring it on; CALIBRATION.md
 * ES6 has a placebo rate) and a request to stop (a participant may withdraw
 * from any session). Every other kind is an effect of the drug: the
 * calibrated model times it from the dose.
 */
export const UNDOSED_EVENT_KINDS: readonly EventKind[] = ['anxiety', 'request_stop'];

/**
 * True when a declared event name means a drug effect only: it matches the
 * name patterns of some kind other than `UNDOSED_EVENT_KINDS` and of none of
 * those (`nausea`, `dissociation`, `sedation`, …; not `panic`,
 * `request_stop`, nor a name the models do not recognise).
 */
export function drugOnlyEvent(name: string): boolean {
  const n = name.toLowerCase();
  const matches = (kind: EventKind) => EVENT_NAME_PATTERNS[kind].some((re) => re.test(n));
  const kinds = Object.keys(EVENT_NAME_PATTERNS) as EventKind[];
  return kinds.some((k) => !UNDOSED_EVENT_KINDS.includes(k) && matches(k)) && !UNDOSED_EVENT_KINDS.some(matches);
}

/** The declared event a kind is emitted as, or undefined when the protocol declares none that matches. */
export function eventNameFor(kind: EventKind, declared: readonly string[]): string | undefined {
  for (const re of EVENT_NAME_PATTERNS[kind]) {
    const hit = declared.find((d) => re.test(d.toLowerCase()));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** The session's dosing as planned (the first ketamine-like dose's route and start; the total relative dose). */
export interface PlannedDosing {
  readonly route: Route;
  /** Session minute of the first planned dose. */
  readonly start: number;
  /** Sum of the planned doses in reference units of their routes (0: a session that administers no ketamine). */
  readonly relative: number;
}

export interface AdverseEvent {
  readonly t: number;
  readonly kind: EventKind;
  /** Declared name it is emitted as; undefined when the protocol has no matching event. */
  readonly name?: string;
}

export interface SessionAdverse {
  readonly events: readonly AdverseEvent[];
  readonly surge?: SurgeExcursion;
  readonly desaturation?: DesaturationExcursion;
  /** Observed sedation was of a severity reported as an adverse reaction (ES4). */
  readonly sedationReported: boolean;
}

function onset(rng: Rng, planned: PlannedDosing, fraction: number, effect: 'hemodynamic' | 'dissociative'): number {
  const median = fraction * referencePeak(planned.route, effect).peakTime;
  return planned.start + median * Math.exp(normal(rng, 0, OTHER_EVENTS.onsetSigma.value));
}

/**
 * Draw the adverse events of one session. `index` is the 1-based number of
 * this dosing session in the course; `zCadss` the session's dissociation
 * intensity (physiology.ts `SessionDraw.z.cadss`).
 */
export function sampleSessionAdverse(
  rng: Rng,
  args: {
    readonly planned: PlannedDosing | undefined;
    readonly index: number;
    readonly patient: PatientAdverse;
    readonly zCadss: number;
    readonly declared: readonly string[];
  },
): SessionAdverse {
  const { planned, index, patient, zCadss, declared } = args;
  if (planned === undefined) return { events: [], sedationReported: false };
  const r = planned.relative;
  const events: AdverseEvent[] = [];
  const add = (t: number, kind: EventKind) => {
    const name = eventNameFor(kind, declared);
    events.push(name === undefined ? { t, kind } : { t, kind, name });
  };
  const fractions = OTHER_EVENTS.onsetFraction.value;

  for (const kind of COURSE_EVENTS) {
    if (kind === 'sedation') continue;
    const er = rng.fork(forkLabel('event', kind));
    const rates = sessionRates(kind);
    const pd = drugPart(rates, index, r);
    const drug = kind === 'dissociation' ? zCadss > probit(1 - pd) : er.next() < pd;
    const background = er.next() < rates.background;
    if (drug || background) {
      add(onset(er, planned, fractions[kind], kind === 'dissociation' ? 'dissociative' : 'hemodynamic'), kind);
    }
  }

  // Sedation (ES13 observed; ES4 reported subset).
  const sm = sedationModel();
  const sr = rng.fork('event:sedation');
  const pSed = Math.max(sm.background, r > 0 ? 1 - Math.pow(1 - patient.sedation, r) : 0);
  let sedationReported = false;
  if (sr.next() < pSed) {
    const scale = referencePeak(planned.route, 'dissociative').peakTime / referencePeak('intranasal', 'dissociative').peakTime;
    add(planned.start + SEDATION.onsetMedian.value * scale * Math.exp(normal(sr, 0, OTHER_EVENTS.onsetSigma.value)), 'sedation');
    sedationReported = r > 0 ? sr.next() < sm.reportable : true;
  }

  // Request to stop (IV8 bounds it).
  const rs = rng.fork('event:request_stop');
  if (r > 0 && rs.next() < 1 - Math.pow(1 - OTHER_EVENTS.requestStop.value, r)) add(onset(rs, planned, fractions.request_stop, 'dissociative'), 'request_stop');

  // Nausea before dosing (exercises pre-dose deferral).
  const pn = rng.fork('event:predose-nausea');
  if (planned.start > 0 && pn.next() < OTHER_EVENTS.predoseNausea.value) add(uniform(pn, 0, planned.start), 'nausea');

  // Hypertensive surge (excursion).
  let surge: SurgeExcursion | undefined;
  const su = rng.fork('excursion:surge');
  const pSurge = SURGE.probability.value * Math.pow(SURGE.decline.value, Math.max(0, index - 1));
  if (r > 0 && su.next() < 1 - Math.pow(1 - pSurge, r)) {
    const t0 = onset(su, planned, SURGE.onsetFraction.value, 'hemodynamic');
    const sbp = uniform(su, SURGE.sbpRange.value[0], SURGE.sbpRange.value[1]);
    surge = { t0, sbp, dbp: sbp * SURGE.dbpRatio.value, plateau: uniform(su, SURGE.durationRange.value[0], SURGE.durationRange.value[1]) };
    add(t0, 'hypertensive_surge');
  }

  // Desaturation (excursion).
  let desaturation: DesaturationExcursion | undefined;
  const de = rng.fork('excursion:desaturation');
  if (r > 0 && de.next() < 1 - Math.pow(1 - DESATURATION.probability.value, r)) {
    const t0 = onset(de, planned, DESATURATION.onsetFraction.value, 'dissociative');
    desaturation = {
      t0,
      depth: uniform(de, DESATURATION.depthRange.value[0], DESATURATION.depthRange.value[1]),
      duration: uniform(de, DESATURATION.durationRange.value[0], DESATURATION.durationRange.value[1]),
    };
    add(t0, 'desaturation');
  }

  events.sort((x, y) => x.t - y.t || (x.kind < y.kind ? -1 : x.kind > y.kind ? 1 : 0));
  const out: SessionAdverse = { events, sedationReported };
  return {
    ...out,
    ...(surge !== undefined ? { surge } : {}),
    ...(desaturation !== undefined ? { desaturation } : {}),
  };
}
