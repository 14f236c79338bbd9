/**
 * Calibration report: every CALIBRATION.md figure the calibrated model
 * claims to reproduce, computed by Monte Carlo over the MODEL ALONE (no
 * protocol machine): each route's standard dosing is applied directly, and
 * the figure is computed the way the source measured it (readings with cuff
 * noise on the cohort's schedule, maximum minus the pre-dose reading, …).
 *
 * Tolerance rules (which interval a simulated figure must fall in):
 * - a proportion with a published numerator and denominator: the Wilson 95 %
 *   interval of the published proportion;
 * - a mean with a published SD and n: mean ± 1.96·SD/√n;
 * - a published confidence interval: that interval;
 * - an SD: ±10 % of the published SD;
 * - a mean without SD or n: ±10 % of it;
 * - a proportion without n: ± max(2 percentage points, 20 % of it);
 * - a time "at ~X min": X ± 5 min, or the published range;
 * - a direction ("larger with …"): ratio > 1; "no attenuation": ratio 6th/1st in [0.9, 1.1];
 * - "back to baseline within X": at least 95 % of sessions.
 * The check is on the simulated point estimate; its own 95 % CI is shown.
 */
import type { Route } from '@kapspec/runtime';
import type { Exposure, Rng } from '../model.js';
import { createRng } from '../rng.js';
import { samplePatientAdverse, sampleSessionAdverse, type PlannedDosing, type SessionAdverse } from './adverse.js';
import { relativeDose } from './kinetics.js';
import {
  CALIBRATION_MONITORING,
  COURSE,
  PER_PATIENT,
  SEDATION,
  SEVERE_HYPERTENSION,
  listParameters,
  type CalibrationRow as RowId,
  type IvProfile,
} from './parameters.js';
import { ParticipantPhysiology, samplePatient, sampleSessionPhysiology, type MeasureRange, type PatientDraw } from './physiology.js';

/** Wilson score interval (95 % by default) for `successes` out of `n`. */
export function wilson(successes: number, n: number, z = 1.959964): [number, number] {
  if (n <= 0) return [0, 1];
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export interface CalibrationRow {
  readonly id: RowId;
  readonly figure: string;
  /** The published figure as CALIBRATION.md states it. */
  readonly published: string;
  /** Interval the simulated value must lie in; undefined for a figure shown but not claimed. */
  readonly target?: readonly [number, number];
  /** The tolerance rule that gave `target`. */
  readonly rule: string;
  readonly simulated: number;
  /** 95 % CI of the simulated value (Monte Carlo), when it has one. */
  readonly ci?: readonly [number, number];
  readonly unit: string;
  /** Simulated value inside `target`; null when not claimed. */
  readonly within: boolean | null;
  /** A claimed figure the model is known not to reproduce yet (explained in `note`); the test tolerates exactly these. */
  readonly knownGap?: boolean;
  readonly note?: string;
}

export interface CalibrationReport {
  readonly seed: number;
  readonly runs: number;
  readonly rows: readonly CalibrationRow[];
}

const MEASURES: readonly MeasureRange[] = [
  { name: 'sbp', min: 50, max: 260 },
  { name: 'dbp', min: 30, max: 160 },
  { name: 'hr', min: 20, max: 220 },
  { name: 'spo2', min: 50, max: 100 },
  { name: 'cadss', min: 0, max: 92 },
];
const NONE: Exposure = { doses: [] };

function ivExposure(): Exposure {
  return { doses: [{ drug: 'ketamine', route: 'iv', start: 0, end: 40, amount: 0.5, unit: 'mg/kg' }] };
}
function intranasalExposure(): Exposure {
  return { doses: [{ drug: 'esketamine', route: 'intranasal', start: 0, end: 0, amount: 56, unit: 'mg' }] };
}
function planned(exposure: Exposure, route: Route, weightKg: number): PlannedDosing {
  let relative = 0;
  for (const d of exposure.doses) relative += relativeDose(d.drug, d.route, d.amount, d.unit, weightKg);
  return { route, start: 0, relative };
}

/** A patient from the population, excluded (re-drawn) at baseline ≥ 160/100 as the example protocols exclude. */
function eligiblePatient(rng: Rng, id: string, ageRange: readonly [number, number]): PatientDraw {
  const [sMax, dMax] = CALIBRATION_MONITORING.exclusionAbove.value;
  for (let j = 0; ; j++) {
    const p = samplePatient(rng.fork(`candidate:${j}`), id, ageRange);
    if (p.baseline.sbp < sMax && p.baseline.dbp < dMax) return p;
  }
}

interface SessionResult {
  readonly pre: { sbp: number; dbp: number; hr: number };
  /** Readings at the schedule's times. */
  readonly readings: readonly { t: number; sbp: number; dbp: number; hr: number }[];
  readonly adverse: SessionAdverse;
  readonly physiology: ParticipantPhysiology;
  readonly zCadss: number;
}

function runSession(
  rng: Rng,
  patient: PatientDraw,
  patientAdverse: ReturnType<typeof samplePatientAdverse>,
  route: Route,
  profile: IvProfile,
  index: number,
  exposure: Exposure,
  times: readonly number[],
  managed = false,
): SessionResult {
  const draw = sampleSessionPhysiology(rng);
  const adverse = sampleSessionAdverse(rng.fork('adverse'), {
    planned: planned(exposure, route, patient.weightKg),
    index,
    patient: patientAdverse,
    zCadss: draw.z.cadss,
    declared: [],
  });
  // One object shape for every draw (see calibrated.ts).
  const physiology = new ParticipantPhysiology(MEASURES, patient, { z: draw.z, slow: draw.slow, surge: adverse.surge, desaturation: adverse.desaturation }, { ivProfile: profile, planned: exposure, managed });
  const m = rng.fork('measure');
  const read = (t: number) => {
    const v = physiology.vitals(t, exposure);
    return {
      t,
      sbp: physiology.measure('sbp', v.sbp, t, m),
      dbp: physiology.measure('dbp', v.dbp, t, m),
      hr: physiology.measure('hr', v.hr, t, m),
    };
  };
  const pre = read(0);
  return { pre, readings: times.map(read), adverse, physiology, zCadss: draw.z.cadss };
}

// ── small statistics ─────────────────────────────────────────────────────

class Mean {
  private readonly byCluster = new Map<number, { s: number; n: number }>();
  n = 0;
  sum = 0;
  sumSq = 0;
  add(x: number, cluster: number): void {
    this.n++;
    this.sum += x;
    this.sumSq += x * x;
    const c = this.byCluster.get(cluster) ?? { s: 0, n: 0 };
    c.s += x;
    c.n++;
    this.byCluster.set(cluster, c);
  }
  get mean(): number {
    return this.sum / this.n;
  }
  get sd(): number {
    return Math.sqrt(Math.max(0, (this.sumSq - (this.sum * this.sum) / this.n) / (this.n - 1)));
  }
  /** Cluster-robust (by patient) standard error of the mean. */
  get se(): number {
    const m = this.mean;
    let v = 0;
    for (const c of this.byCluster.values()) v += (c.s - c.n * m) ** 2;
    return Math.sqrt(v) / this.n;
  }
  ci(): [number, number] {
    return [this.mean - 1.96 * this.se, this.mean + 1.96 * this.se];
  }
  sdCi(): [number, number] {
    const h = 1.96 * this.sd / Math.sqrt(2 * (this.byCluster.size - 1));
    return [this.sd - h, this.sd + h];
  }
}

function ratio(a: Mean, b: Mean): { value: number; ci: [number, number] } {
  const r = a.mean / b.mean;
  const se = Math.abs(r) * Math.sqrt((a.se / a.mean) ** 2 + (b.se / b.mean) ** 2);
  return { value: r, ci: [r - 1.96 * se, r + 1.96 * se] };
}

/** Logistic regression of y on x (Newton–Raphson): slope and its SE. */
function logisticSlope(xs: readonly number[], ys: readonly number[]): { slope: number; se: number } {
  const xm = xs.reduce((s, x) => s + x, 0) / xs.length;
  let b0 = 0;
  let b1 = 0;
  let h00 = 0;
  let h01 = 0;
  let h11 = 0;
  for (let it = 0; it < 30; it++) {
    let g0 = 0;
    let g1 = 0;
    h00 = h01 = h11 = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]! - xm;
      const p = 1 / (1 + Math.exp(-(b0 + b1 * x)));
      const w = p * (1 - p);
      g0 += ys[i]! - p;
      g1 += (ys[i]! - p) * x;
      h00 += w;
      h01 += w * x;
      h11 += w * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    if (!(det > 0)) break;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    b0 += d0;
    b1 += d1;
    if (Math.abs(d0) + Math.abs(d1) < 1e-10) break;
  }
  const det = h00 * h11 - h01 * h01;
  return { slope: b1, se: Math.sqrt(h00 / det) };
}

const pct = (x: number) => x;
const tolProportion = (p: number): [number, number] => {
  const h = Math.max(0.02, 0.2 * p);
  return [Math.max(0, p - h), Math.min(1, p + h)];
};
const PROP_RULE = 'no n published: ± max(2 points, 20 %)';

function row(r: Omit<CalibrationRow, 'within'> & { within?: boolean | null }): CalibrationRow {
  const within = r.within !== undefined ? r.within : r.target === undefined ? null : r.simulated >= r.target[0] && r.simulated <= r.target[1];
  return { ...r, within };
}

// ── the cohorts ──────────────────────────────────────────────────────────

function ivCohort(root: Rng, runs: number, rows: CalibrationRow[]): void {
  const profile: IvProfile = 'yale';
  const infusions = COURSE.yaleInfusionsPerPatient.value;
  const times = CALIBRATION_MONITORING.iv.value;
  const sbpRise = new Mean();
  const dbpRise = new Mean();
  const byTime = times.map(() => new Mean());
  const firstRise = new Mean();
  const sixthRise = new Mean();
  const older = new Mean();
  const younger = new Mean();
  const htn = new Mean();
  const noHtn = new Mean();
  const dissoc = new Mean();
  const noDissoc = new Mean();
  let sessions = 0;
  let severe = 0;
  let severeEarly = 0;
  let patientsSevere = 0;
  let backToBaseline = 0;
  let requestStops = 0;
  let infusionsUpTo6 = 0;
  const ages: number[] = [];
  const anySevere: number[] = [];
  const exposure = ivExposure();
  const tBack = 40 + 90;
  for (let i = 0; i < runs; i++) {
    const pr = root.fork(`yale:${i}`);
    const patient = eligiblePatient(pr, `y${i}`, [18, 75]);
    const pa = samplePatientAdverse(pr);
    let had = false;
    for (let k = 1; k <= infusions; k++) {
      const s = runSession(pr.fork(`infusion:${k}`), patient, pa, 'iv', profile, k, exposure, times, had);
      sessions++;
      const riseS = Math.max(...s.readings.map((r) => r.sbp)) - s.pre.sbp;
      const riseD = Math.max(...s.readings.map((r) => r.dbp)) - s.pre.dbp;
      sbpRise.add(riseS, i);
      dbpRise.add(riseD, i);
      s.readings.forEach((r, j) => byTime[j]!.add(r.sbp - s.pre.sbp, i));
      if (k === 1) firstRise.add(riseS, i);
      if (k === 6) sixthRise.add(riseS, i);
      (patient.age >= 50 ? older : younger).add(riseS, i);
      (patient.hypertension ? htn : noHtn).add(riseS, i);
      (s.adverse.events.some((e) => e.kind === 'dissociation') ? dissoc : noDissoc).add(riseS, i);
      const isSevere = s.readings.some((r) => r.sbp >= SEVERE_HYPERTENSION.sbp.value || r.dbp >= SEVERE_HYPERTENSION.dbp.value);
      if (isSevere) {
        severe++;
        if (k <= 3) severeEarly++;
        had = true;
      }
      const drug = s.physiology.vitals(tBack, exposure).sbp - s.physiology.vitals(tBack, NONE).sbp;
      if (drug < CALIBRATION_MONITORING.baselineReturn.value) backToBaseline++;
      if (k <= 6) {
        infusionsUpTo6++;
        if (s.adverse.events.some((e) => e.kind === 'request_stop')) requestStops++;
      }
    }
    if (had) patientsSevere++;
    ages.push(patient.age);
    anySevere.push(had ? 1 : 0);
  }
  const yale = `Yale, ${infusions} infusions per patient`;
  rows.push(
    row({ id: 'IV1', figure: 'mean peak SBP rise', published: '+16.0 mmHg (SD 11.2), 2,342 infusions', target: [16 - (1.96 * 11.2) / Math.sqrt(2342), 16 + (1.96 * 11.2) / Math.sqrt(2342)], rule: 'mean ± 1.96·SD/√2342', simulated: sbpRise.mean, ci: sbpRise.ci(), unit: 'mmHg', note: `${yale}: max reading − pre-dose reading (cuff noise included)` }),
    row({ id: 'IV1', figure: 'SD of peak SBP rise', published: '11.2 mmHg', target: [11.2 * 0.9, 11.2 * 1.1], rule: '± 10 %', simulated: sbpRise.sd, ci: sbpRise.sdCi(), unit: 'mmHg' }),
    row({ id: 'IV2', figure: 'mean peak DBP rise', published: '+11.0 mmHg (SD 8.45), 2,342 infusions', target: [11 - (1.96 * 8.45) / Math.sqrt(2342), 11 + (1.96 * 8.45) / Math.sqrt(2342)], rule: 'mean ± 1.96·SD/√2342', simulated: dbpRise.mean, ci: dbpRise.ci(), unit: 'mmHg' }),
    row({ id: 'IV2', figure: 'SD of peak DBP rise', published: '8.45 mmHg', target: [8.45 * 0.9, 8.45 * 1.1], rule: '± 10 %', simulated: dbpRise.sd, ci: dbpRise.sdCi(), unit: 'mmHg' }),
  );
  let best = 0;
  byTime.forEach((m, j) => {
    if (m.mean > byTime[best]!.mean) best = j;
  });
  rows.push(
    row({ id: 'IV3', figure: 'time of BP peak (reading with the largest mean SBP rise)', published: '40 min after infusion start (30–40 in other cohorts)', target: [30, 40], rule: 'the published range', simulated: times[best]!, unit: 'min' }),
    row({ id: 'IV4', figure: 'severe hypertensive episodes per infusion', published: '0.98 % (23/2,342)', target: wilson(23, 2342), rule: 'Wilson 95 % of 23/2,342', simulated: pct(severe / sessions), ci: wilson(severe, sessions), unit: 'fraction', note: `threshold (a parameter): any reading SBP ≥ ${SEVERE_HYPERTENSION.sbp.value} or DBP ≥ ${SEVERE_HYPERTENSION.dbp.value}` }),
    row({ id: 'IV4', figure: 'patients with a severe episode over the course', published: '12.5 % (17/138)', target: wilson(17, 138), rule: 'Wilson 95 % of 17/138', simulated: patientsSevere / runs, ci: wilson(patientsSevere, runs), unit: 'fraction' }),
    row({ id: 'IV4', figure: 'severe episodes within the first 3 infusions', published: '43 % (10/23)', target: wilson(10, 23), rule: 'Wilson 95 % of 10/23', simulated: severe === 0 ? 0 : severeEarly / severe, ci: wilson(severeEarly, severe), unit: 'fraction' }),
    row({ id: 'IV7', figure: 'back to baseline 90 min after infusion end', published: 'within 90 min', target: [0.95, 1], rule: `≥ 95 % of infusions with drug-induced true SBP < ${CALIBRATION_MONITORING.baselineReturn.value} mmHg`, simulated: backToBaseline / sessions, ci: wilson(backToBaseline, sessions), unit: 'fraction' }),
    row({ id: 'IV8', figure: 'request to stop per infusion (infusions 1–6)', published: '0 of 684 discontinued', target: wilson(0, 684), rule: 'Wilson 95 % of 0/684', simulated: requestStops / infusionsUpTo6, ci: wilson(requestStops, infusionsUpTo6), unit: 'fraction', note: 'the model’s request-to-stop rate; discontinuation itself is a protocol outcome' }),
  );
  const rAge = ratio(older, younger);
  const rHtn = ratio(htn, noHtn);
  const rDis = ratio(dissoc, noDissoc);
  const lr = logisticSlope(ages, anySevere);
  rows.push(
    row({ id: 'IV9', figure: 'peak SBP rise, age ≥ 50 / < 50', published: 'larger with age ≥ 50', target: [1, Infinity], rule: 'ratio > 1', simulated: rAge.value, ci: rAge.ci, unit: 'ratio' }),
    row({ id: 'IV9', figure: 'peak SBP rise, hypertension history / none', published: 'larger with hypertension history', target: [1, Infinity], rule: 'ratio > 1', simulated: rHtn.value, ci: rHtn.ci, unit: 'ratio' }),
    row({ id: 'IV9', figure: 'peak SBP rise, sessions with dissociation / without', published: 'larger with dissociation', target: [1, Infinity], rule: 'ratio > 1', simulated: rDis.value, ci: rDis.ci, unit: 'ratio' }),
    row({ id: 'IV9', figure: 'odds ratio per year of age, any severe episode (per patient)', published: '1.04 / year', target: [1.01, 1.07], rule: 'no CI published: 1.04 ± 0.03', simulated: Math.exp(lr.slope), ci: [Math.exp(lr.slope - 1.96 * lr.se), Math.exp(lr.slope + 1.96 * lr.se)], unit: 'OR' }),
  );
  const r61 = ratio(sixthRise, firstRise);
  rows.push(row({ id: 'IV10', figure: 'peak SBP rise, infusion 6 / infusion 1', published: 'no attenuation across infusions 1–6', target: [0.9, 1.1], rule: 'ratio in [0.9, 1.1]', simulated: r61.value, ci: r61.ci, unit: 'ratio' }));
  rows.push(row({ id: 'IV6', figure: 'mean peak SBP rise (Yale profile)', published: '+12.6 mmHg (95 % CI 10.4–14.8), meta-analysis', rule: 'not claimed: a pooled figure across cohorts; the two profiles bracket it', simulated: sbpRise.mean, ci: sbpRise.ci(), unit: 'mmHg' }));
}

function cohort741(root: Rng, runs: number, rows: CalibrationRow[]): void {
  const exposure = ivExposure();
  const sbp = new Mean();
  const dbp = new Mean();
  const hr = new Mean();
  for (let i = 0; i < runs; i++) {
    const pr = root.fork(`c741:${i}`);
    const patient = eligiblePatient(pr, `c${i}`, [18, 75]);
    const pa = samplePatientAdverse(pr);
    for (let k = 1; k <= 6; k++) {
      const s = runSession(pr.fork(`infusion:${k}`), patient, pa, 'iv', 'cohort741', k, exposure, [40]);
      const r = s.readings[0]!;
      sbp.add(r.sbp - s.pre.sbp, i);
      dbp.add(r.dbp - s.pre.dbp, i);
      hr.add(r.hr - s.pre.hr, i);
    }
  }
  const note = 'cohort741 profile, 6 infusions per patient; rise at the 40-min reading (the cohort’s definition of "peak rise" is not in CALIBRATION.md)';
  const tol = (x: number): [number, number] => [x * 0.9, x * 1.1];
  rows.push(
    row({ id: 'IV5', figure: 'mean peak SBP rise (741-infusion cohort)', published: '+7.4 mmHg', target: tol(7.4), rule: 'no SD or CI: ± 10 %', simulated: sbp.mean, ci: sbp.ci(), unit: 'mmHg', note }),
    row({ id: 'IV5', figure: 'mean peak DBP rise (741-infusion cohort)', published: '+6.0 mmHg', target: tol(6.0), rule: 'no SD or CI: ± 10 %', simulated: dbp.mean, ci: dbp.ci(), unit: 'mmHg' }),
    row({ id: 'IV5', figure: 'mean pulse rise (741-infusion cohort)', published: '+1.9 bpm', target: tol(1.9), rule: 'no SD or CI: ± 10 %', simulated: hr.mean, ci: hr.ci(), unit: 'bpm' }),
    row({ id: 'IV6', figure: 'mean peak SBP rise (cohort741 profile)', published: '+12.6 mmHg (95 % CI 10.4–14.8), meta-analysis', rule: 'not claimed (see above)', simulated: sbp.mean, ci: sbp.ci(), unit: 'mmHg' }),
  );
}

function intranasal(root: Rng, runs: number, rows: CalibrationRow[]): void {
  const n = COURSE.inductionSessions.value;
  const times = CALIBRATION_MONITORING.intranasal.value;
  const exposure = intranasalExposure();
  const kinds = Object.keys(PER_PATIENT) as (keyof typeof PER_PATIENT)[];
  const drugCount: Record<string, number> = {};
  const placeboCount: Record<string, number> = {};
  for (const k of kinds) drugCount[k] = placeboCount[k] = 0;
  const strata = [
    { label: '< 65', ages: [18, 65] as const },
    { label: '≥ 65', ages: [65, 75] as const },
  ];
  const bp: Record<string, { sbp180: number; dbp110: number; rise40: number; rise25: number; n: number }> = {};
  let sedationOnsets: number[] = [];
  const grid = Array.from({ length: 181 }, (_, t) => t);
  const meanDrugSbp = grid.map(() => 0);
  const meanDrugCadss = grid.map(() => 0);
  let courseSessions = 0;
  let bpBack = 0;
  let cadssResolved = 0;
  for (const st of strata) {
    const acc = { sbp180: 0, dbp110: 0, rise40: 0, rise25: 0, n: 0 };
    for (let i = 0; i < runs; i++) {
      const pr = root.fork(`esk:${st.label}:${i}`);
      const patient = eligiblePatient(pr, `e${i}`, st.ages);
      const pa = samplePatientAdverse(pr);
      const f = { sbp180: false, dbp110: false, rise40: false, rise25: false };
      const everDrug = new Set<string>();
      const everPlacebo = new Set<string>();
      for (let k = 1; k <= n; k++) {
        const s = runSession(pr.fork(`session:${k}`), patient, pa, 'intranasal', 'yale', k, exposure, times);
        // The label defers a session whose pre-dose reading is above 140/90: no dose that day, no readings after it.
        const [deferS, deferD] = CALIBRATION_MONITORING.intranasalDeferAbove.value;
        const deferred = s.pre.sbp > deferS || s.pre.dbp > deferD;
        for (const r of deferred ? [] : s.readings) {
          if (r.sbp >= 180) f.sbp180 = true;
          if (r.dbp >= 110) f.dbp110 = true;
          if (r.sbp - s.pre.sbp >= 40) f.rise40 = true;
          if (r.dbp - s.pre.dbp >= 25) f.rise25 = true;
        }
        for (const e of s.adverse.events) if (e.kind !== 'sedation') everDrug.add(e.kind);
        if (s.adverse.sedationReported) everDrug.add('sedation');
        const placebo = sampleSessionAdverse(pr.fork(`placebo:${k}`), { planned: { route: 'intranasal', start: 0, relative: 0 }, index: k, patient: pa, zCadss: s.zCadss, declared: [] });
        for (const e of placebo.events) everPlacebo.add(e.kind);
        if (st.label === '< 65') {
          for (const e of s.adverse.events) if (e.kind === 'sedation') sedationOnsets.push(e.t);
          if (i < Math.min(runs, 100)) {
            courseSessions++;
            const dSbp: number[] = [];
            const dCadss: number[] = [];
            for (const t of grid) {
              const on = s.physiology.vitals(t, exposure);
              const off = s.physiology.vitals(t, NONE);
              dSbp.push(on.sbp - off.sbp);
              dCadss.push(on.cadss - off.cadss);
            }
            grid.forEach((t) => {
              meanDrugSbp[t]! += dSbp[t]!;
              meanDrugCadss[t]! += dCadss[t]!;
            });
            if (dSbp[120]! < CALIBRATION_MONITORING.baselineReturn.value) bpBack++;
            if (dCadss[90]! < 0.05 * Math.max(...dCadss)) cadssResolved++;
          }
        }
      }
      acc.n++;
      if (f.sbp180) acc.sbp180++;
      if (f.dbp110) acc.dbp110++;
      if (f.rise40) acc.rise40++;
      if (f.rise25) acc.rise25++;
      if (st.label === '< 65') {
        for (const k of everDrug) drugCount[k] = (drugCount[k] ?? 0) + 1;
        for (const k of everPlacebo) placeboCount[k] = (placeboCount[k] ?? 0) + 1;
      }
    }
    bp[st.label] = acc;
  }
  const ids: Record<string, RowId> = { dissociation: 'ES1', dizziness: 'ES2', nausea: 'ES3', sedation: 'ES4', vertigo: 'ES5', anxiety: 'ES6', vomiting: 'ES7' };
  for (const k of kinds) {
    const d = PER_PATIENT[k].drug.value;
    const pl = PER_PATIENT[k].placebo.value;
    const note = k === 'sedation' ? 'reported subset of observed sedation (ES13 drives the observed `sedation` event)' : undefined;
    rows.push(
      row({ id: ids[k]!, figure: `${k}, esketamine, patients over ${n} sessions`, published: `${Math.round(d * 100)} %`, target: tolProportion(d), rule: PROP_RULE, simulated: drugCount[k]! / runs, ci: wilson(drugCount[k]!, runs), unit: 'fraction', ...(note !== undefined ? { note } : {}) }),
      row({ id: ids[k]!, figure: `${k}, placebo, patients over ${n} sessions`, published: `${Math.round(pl * 100)} %`, target: tolProportion(pl), rule: PROP_RULE, simulated: placeboCount[k]! / runs, ci: wilson(placeboCount[k]!, runs), unit: 'fraction' }),
    );
  }
  const y = bp['< 65']!;
  const o = bp['≥ 65']!;
  const strataNote = 'age strata simulated separately, ages uniform within the stratum (age distribution not in CALIBRATION.md); readings at 30, 40, 60, 90, 120 min, in sessions whose pre-dose reading is at or below 140/90 (the label defers the others)';
  rows.push(
    row({ id: 'ES8', figure: 'SBP ≥ 180 mmHg, age < 65, patients', published: '3 %', target: tolProportion(0.03), rule: PROP_RULE, simulated: y.sbp180 / y.n, ci: wilson(y.sbp180, y.n), unit: 'fraction', note: 'not fitted: follows from the baseline BP population (parameters) and the ES10/ES11 fits' }),
    row({ id: 'ES9', figure: 'DBP ≥ 110 mmHg, age < 65, patients', published: '4 %', target: tolProportion(0.04), rule: PROP_RULE, simulated: y.dbp110 / y.n, ci: wilson(y.dbp110, y.n), unit: 'fraction', note: 'not fitted (as ES8): follows from the baseline BP population and the label’s pre-dose deferral above 140/90 (sessions deferred that day do not count)' }),
    row({ id: 'ES10', figure: 'SBP rise ≥ 40 mmHg, age < 65, patients', published: '8 %', target: tolProportion(0.08), rule: PROP_RULE, simulated: y.rise40 / y.n, ci: wilson(y.rise40, y.n), unit: 'fraction', note: strataNote }),
    row({ id: 'ES10', figure: 'SBP rise ≥ 40 mmHg, age ≥ 65, patients', published: '17 %', target: tolProportion(0.17), rule: PROP_RULE, simulated: o.rise40 / o.n, ci: wilson(o.rise40, o.n), unit: 'fraction' }),
    row({ id: 'ES11', figure: 'DBP rise ≥ 25 mmHg, age < 65, patients', published: '13 %', target: tolProportion(0.13), rule: PROP_RULE, simulated: y.rise25 / y.n, ci: wilson(y.rise25, y.n), unit: 'fraction' }),
    row({ id: 'ES11', figure: 'DBP rise ≥ 25 mmHg, age ≥ 65, patients', published: '14 %', target: tolProportion(0.14), rule: PROP_RULE, simulated: o.rise25 / o.n, ci: wilson(o.rise25, o.n), unit: 'fraction' }),
  );
  const argmax = (xs: number[]) => xs.reduce((b, x, i) => (x > xs[b]! ? i : b), 0);
  sedationOnsets = sedationOnsets.sort((a, b) => a - b);
  const median = sedationOnsets.length === 0 ? Number.NaN : sedationOnsets[Math.floor(sedationOnsets.length / 2)]!;
  const mi = (q: number) => sedationOnsets[Math.max(0, Math.min(sedationOnsets.length - 1, Math.round(q * sedationOnsets.length)))]!;
  const half = 0.98 * Math.sqrt(sedationOnsets.length);
  const mid = sedationOnsets.length / 2;
  rows.push(
    row({ id: 'ES12', figure: 'BP peak (mean drug-induced true SBP, 1-min grid)', published: '~40 min after dosing', target: [35, 45], rule: '40 ± 5 min', simulated: argmax(meanDrugSbp), unit: 'min' }),
    row({ id: 'ES12', figure: 'BP back to pre-dose at 2 h', published: 'within ~2 h', target: [0.95, 1], rule: `≥ 95 % of sessions with drug-induced true SBP < ${CALIBRATION_MONITORING.baselineReturn.value} mmHg at 120 min`, simulated: bpBack / courseSessions, ci: wilson(bpBack, courseSessions), unit: 'fraction' }),
    row({ id: 'ES12', figure: 'dissociation (CADSS) peak', published: '40 min', target: [35, 45], rule: '40 ± 5 min', simulated: argmax(meanDrugCadss), unit: 'min' }),
    row({ id: 'ES12', figure: 'dissociation resolved at 90 min', published: 'resolved by 90 min', target: [0.95, 1], rule: '≥ 95 % of sessions with drug-induced CADSS < 5 % of the session’s peak at 90 min', simulated: cadssResolved / courseSessions, ci: wilson(cadssResolved, courseSessions), unit: 'fraction' }),
    row({ id: 'ES12', figure: 'sedation onset (median)', published: '~15 min', target: [10, 20], rule: '15 ± 5 min', simulated: median, ci: [mi((mid - half) / sedationOnsets.length), mi((mid + half) / sedationOnsets.length)], unit: 'min', note: 'sedation peak 30–45 min and resolution by 60–90 min are not modelled (sedation is an event with an onset, not a curve)' }),
  );
}

function rems(root: Rng, runs: number, rows: CalibrationRow[]): void {
  const n = COURSE.remsSessionsPerPatient.value;
  let sessions = 0;
  let sedated = 0;
  let patients = 0;
  for (let i = 0; i < runs; i++) {
    const pr = root.fork(`rems:${i}`);
    const pa = samplePatientAdverse(pr);
    const weightKg = 80;
    let any = false;
    for (let k = 1; k <= n; k++) {
      const a = sampleSessionAdverse(pr.fork(`session:${k}`), { planned: planned(intranasalExposure(), 'intranasal', weightKg), index: k, patient: pa, zCadss: 0, declared: [] });
      sessions++;
      if (a.events.some((e) => e.kind === 'sedation')) {
        sedated++;
        any = true;
      }
    }
    if (any) patients++;
  }
  rows.push(
    row({ id: 'ES13', figure: 'observed sedation, sessions', published: '34.7 %', target: tolProportion(SEDATION.sessionRate.value), rule: PROP_RULE, simulated: sedated / sessions, ci: wilson(sedated, sessions), unit: 'fraction' }),
    row({ id: 'ES13', figure: `observed sedation, patients (${n} sessions each)`, published: '61.9 %', target: tolProportion(SEDATION.patientRate.value), rule: PROP_RULE, simulated: patients / runs, ci: wilson(patients, runs), unit: 'fraction', note: 'reproduced by a per-patient Beta frailty; sessions per REMS patient is a parameter' }),
  );
}

export interface CalibrationOptions {
  readonly seed: number;
  /** Simulated patients per cohort (per age stratum for the intranasal figures). */
  readonly runs: number;
  /** Cohorts to run (default all): for fitting and quick checks. */
  readonly only?: readonly ('iv' | 'cohort741' | 'intranasal' | 'rems')[];
}

export function calibrationReport(options: CalibrationOptions): CalibrationReport {
  const root = createRng(options.seed).fork('calibration');
  const rows: CalibrationRow[] = [];
  const run = (c: 'iv' | 'cohort741' | 'intranasal' | 'rems') => options.only === undefined || options.only.includes(c);
  if (run('iv')) ivCohort(root.fork('iv'), options.runs, rows);
  if (run('cohort741')) cohort741(root.fork('cohort741'), options.runs, rows);
  if (run('intranasal')) intranasal(root.fork('intranasal'), options.runs, rows);
  if (run('rems')) rems(root.fork('rems'), options.runs, rows);
  const order = (id: string) => (id.startsWith('IV') ? 0 : 100) + Number(id.slice(2));
  rows.sort((a, b) => order(a.id) - order(b.id));
  return { seed: options.seed, runs: options.runs, rows };
}

function fmt(x: number, unit: string): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'n/a';
  if (unit === 'fraction') return `${(x * 100).toFixed(2)} %`;
  if (unit === 'min') return `${x.toFixed(0)} min`;
  if (unit === 'ratio' || unit === 'OR') return x.toFixed(3);
  return `${x.toFixed(2)} ${unit}`;
}
function interval(r: readonly [number, number], unit: string): string {
  return `${fmt(r[0], unit)} – ${fmt(r[1], unit)}`;
}

export function renderCalibrationMarkdown(report: CalibrationReport): string {
  const lines: string[] = [];
  lines.push('# Calibration of the `calibrated` participant model');
  lines.push('');
  lines.push('Generated by `packages/simulator/test/calibration.test.ts` (`pnpm fixtures:update` recomputes it). Do not edit by hand.');
  lines.push('');
  lines.push(`Monte Carlo over the model alone (no protocol machine; each route’s standard dosing applied directly), seed ${report.seed}, ${report.runs} simulated patients per cohort (per age stratum for ES8–ES11; ES1–ES7 use the < 65 stratum). Published figures come from \`../shared/design/CALIBRATION.md\`. A figure is **within** when the simulated point estimate lies in the target interval; the simulated 95 % CI is shown beside it (Wilson for proportions, patient-clustered normal intervals for means).`);
  lines.push('');
  lines.push('Tolerance rules: a proportion with published numerator/denominator → the Wilson 95 % interval of the published proportion; a mean with SD and n → mean ± 1.96·SD/√n; an SD → ± 10 %; a mean without SD → ± 10 %; a proportion without n → ± max(2 points, 20 %); a time → the published range or ± 5 min; a direction → ratio > 1; no attenuation → ratio in [0.9, 1.1]; "back within" → ≥ 95 % of sessions.');
  lines.push('');
  lines.push('| row | figure | published | target (rule) | simulated | 95 % CI | within |');
  lines.push('|---|---|---|---|---|---|---|');
  for (const r of report.rows) {
    const target = r.target === undefined ? `— (${r.rule})` : `${interval(r.target, r.unit)} (${r.rule})`;
    const ci = r.ci === undefined ? '—' : interval(r.ci, r.unit);
    const within = r.within === null ? 'not claimed' : r.within ? 'yes' : r.knownGap === true ? '**NO** (known gap)' : '**NO**';
    lines.push(`| ${r.id} | ${r.figure}${r.note !== undefined ? ` — ${r.note}` : ''} | ${r.published} | ${target} | ${fmt(r.simulated, r.unit)} | ${ci} | ${within} |`);
  }
  lines.push('');
  lines.push('## Not reproduced');
  lines.push('');
  lines.push('- IV6 (meta-analytic +12.6 mmHg): a pooled figure across cohorts, not a cohort; the `yale` and `cohort741` profiles bracket it (shown above, not claimed).');
  lines.push('- IV8 as a discontinuation rate: discontinuing is what a protocol does; the model only bounds the request-to-stop rate by it.');
  lines.push('- ES8–ES11 placebo columns: the model has no placebo blood-pressure component (cuff noise alone gives almost no 40-mmHg rises); they are not claimed.');
  lines.push('- ES12 sedation peak and resolution times: sedation is an event with an onset, not a time course.');
  for (const r of report.rows) if (r.knownGap === true && r.within === false) lines.push(`- ${r.id} ${r.figure}: ${r.note ?? ''}`);
  lines.push('');
  const params = listParameters();
  lines.push('## Parameters no source gives');
  lines.push('');
  lines.push('Modelling choices, not facts (parameters.ts, `source: \'parameter\'`). Change them to match your setting; the calibration above holds for these values.');
  lines.push('');
  lines.push('| parameter | value | unit | rationale |');
  lines.push('|---|---|---|---|');
  for (const { name, parameter } of params) {
    if (parameter.source !== 'parameter') continue;
    lines.push(`| \`${name}\` | \`${JSON.stringify(parameter.value)}\` | ${parameter.unit} | ${parameter.rationale} |`);
  }
  lines.push('');
  lines.push('## Parameters fitted to a published figure');
  lines.push('');
  lines.push('Fitted by Monte Carlo over this model so that the row above reproduces; the fitted value is not itself published.');
  lines.push('');
  lines.push('| parameter | value | unit | row | how |');
  lines.push('|---|---|---|---|---|');
  for (const { name, parameter } of params) {
    if (parameter.source === 'parameter' || parameter.fitted !== true) continue;
    lines.push(`| \`${name}\` | \`${JSON.stringify(parameter.value)}\` | ${parameter.unit} | ${parameter.source} | ${parameter.note ?? ''} |`);
  }
  lines.push('');
  return lines.join('\n');
}
