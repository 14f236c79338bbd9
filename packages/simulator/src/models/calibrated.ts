/**
 * The `calibrated` participant model: participants sampled from the
 * protocol's population, true physiology and adverse events with
 * parameters from CALIBRATION.md (parameters.ts), as a `Scenario`.
 *
 * Courses: participant i's profile and per-patient traits come from the fork
 * `participant:i` of the root stream, and the session's draws from a fork
 * of that named after the session and `sessionIndex`. So the same seed with
 * `sessionIndex` 1, 2, … simulates the same people through their course, with
 * per-session adverse-event probabilities falling as parameters.ts says.
 *
 * Adverse events are scheduled on the session's PLANNED timeline (stages at
 * their exact, else minimum, else maximum duration; no pauses): a Scenario's
 * events are fixed before the run. Physiology is not: it follows what the
 * driver reports as delivered, and the excursions (surge, desaturation) are
 * scaled by how much of the planned effect was present at their onset.
 */
import type { IR, Session } from '@kapspec/runtime';
import { generic } from '../arrays.js';
import { sessionHorizonMinutes } from '../driver.js';
import type { Exposure, Rng, Scenario, ScenarioParticipant } from '../model.js';
import { createRng, forkLabel } from '../rng.js';
import type { TraceParticipant } from '../trace.js';
import { eventNameFor, samplePatientAdverse, sampleSessionAdverse, type PlannedDosing } from './adverse.js';
import { potency, relativeDose } from './kinetics.js';
import { POPULATION, listParameters, type IvProfile } from './parameters.js';
import { ParticipantPhysiology, samplePatient, sampleSessionPhysiology, type PatientDraw } from './physiology.js';
import { staffAbsences, staffRoster } from './staff.js';

export interface CalibratedOptions {
  /** Session to simulate (by name). */
  readonly session: string;
  /** Root seed (ignored when `rng` is given). Default 0. */
  readonly seed?: number;
  readonly rng?: Rng;
  /** Participants: default 1 for an individual protocol, the group minimum for a group protocol. */
  readonly participants?: number;
  /** IV response profile: `yale` (IV1–IV2, default) or `cohort741` (IV5). Intranasal always uses the label profile. */
  readonly profile?: IvProfile;
  /** 1-based number of this session among the participant's dosing sessions (adverse events decline with it). Default 1. */
  readonly sessionIndex?: number;
  /** The participants had a severe hypertensive episode in an earlier session: this session is managed (parameters.ts `MANAGEMENT`). Default false. */
  readonly afterSevereEpisode?: boolean;
  /** Staff called away: off unless a rate is set. */
  readonly staff?: { readonly leaveRatePerHour?: number; readonly absenceMeanMinutes?: number };
}

export class CalibratedModelError extends Error {
  override readonly name = 'CalibratedModelError';
}

function stageLength(s: Session['stages'][number]): number {
  const d = s.duration;
  return d.exact ?? d.atLeast ?? d.atMost ?? 0;
}

/** The session's administrations on its planned timeline (no pauses). */
export function plannedExposure(session: Session): Exposure {
  const doses: Exposure['doses'][number][] = [];
  let t = 0;
  for (const stage of session.stages) {
    for (const a of stage.administer) {
      const end = a.delivery.kind === 'over' ? t + a.delivery.minutes : t;
      doses.push({ drug: a.drug, route: a.route, start: t, end, amount: a.dose.value, unit: a.dose.unit });
    }
    t += stageLength(stage);
  }
  return { doses };
}

/** Planned length of the session in minutes (stage lengths as `plannedExposure` reads them). */
export function plannedLength(session: Session): number {
  return session.stages.reduce((s, st) => s + stageLength(st), 0);
}

export function plannedDosing(exposure: Exposure, weightKg: number): PlannedDosing | undefined {
  const first = exposure.doses.find((d) => potency(d.drug) > 0) ?? exposure.doses[0];
  if (first === undefined) return undefined;
  let relative = 0;
  for (const d of exposure.doses) relative += relativeDose(d.drug, d.route, d.amount, d.unit, weightKg);
  return { route: first.route, start: first.start, relative };
}

/** How a `caution` flag is drawn, from its name: hypertension history, an age cut-off, or by prevalence. */
type CautionKind = { readonly kind: 'hypertension' } | { readonly kind: 'age'; readonly from: number } | { readonly kind: 'other' };
function cautionKind(flag: string): CautionKind {
  const name = flag.toLowerCase();
  const age = /age_?(?:over_?|above_?)?(\d+)/.exec(name);
  if (/hypertens/.test(name)) return { kind: 'hypertension' };
  if (age !== null) return { kind: 'age', from: Number(age[1]) };
  return { kind: 'other' };
}
const cautionKinds = new WeakMap<object, readonly CautionKind[]>();

/** Profile flags: `exclude` flags by prevalence; `caution` flags from age / hypertension history when the name says so, else by prevalence. */
export function profileFlags(ir: IR, patient: PatientDraw, rng: Rng): string[] {
  const flags: string[] = [];
  const pop = ir.population;
  if (pop === undefined) return patient.hypertension ? ['hypertension_history'] : [];
  for (const f of pop.exclude) if (rng.fork(forkLabel('flag', f.flag)).next() < POPULATION.excludedFlagPrevalence.value) flags.push(f.flag);
  let kinds = cautionKinds.get(pop.caution);
  if (kinds === undefined) cautionKinds.set(pop.caution, (kinds = pop.caution.map((f) => cautionKind(f.flag))));
  for (let i = 0; i < pop.caution.length; i++) {
    const f = pop.caution[i]!;
    const k = kinds[i]!;
    if (k.kind === 'hypertension') {
      if (patient.hypertension) flags.push(f.flag);
    } else if (k.kind === 'age') {
      if (patient.age >= k.from) flags.push(f.flag);
    } else if (rng.fork(forkLabel('flag', f.flag)).next() < POPULATION.otherCautionPrevalence.value) flags.push(f.flag);
  }
  return flags;
}

let parameterValues: Readonly<Record<string, number | string | boolean>> | undefined;
/** Header records by their extra entries: the same options share one frozen record (the values are constants). */
const parameterRecords = new Map<string, Readonly<Record<string, number | string | boolean>>>();

/** Parameters for the trace header: every named parameter, arrays and objects as JSON, then `extra`. Frozen and shared. */
export function parameterRecord(extra: Readonly<Record<string, number | string | boolean>> = {}): Readonly<Record<string, number | string | boolean>> {
  const key = JSON.stringify(extra);
  const known = parameterRecords.get(key);
  if (known !== undefined) return known;
  if (parameterValues === undefined) {
    const values: Record<string, number | string | boolean> = {};
    for (const { name, parameter } of listParameters()) {
      const v = parameter.value;
      values[name] = typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean' ? v : JSON.stringify(v);
    }
    parameterValues = values;
  }
  const record = Object.freeze(Object.assign({ ...parameterValues }, extra));
  // A handful of option combinations in practice; bounded all the same.
  if (parameterRecords.size < 64) parameterRecords.set(key, record);
  return record;
}

// The header record of each combination of options, without building and serialising `extra` for every scenario.
const scenarioRecords = new Map<string, Readonly<Record<string, number | string | boolean>>>();
function scenarioParameters(profile: IvProfile, sessionIndex: number, afterSevereEpisode: boolean, leaveRate: number | undefined, absence: number | undefined): Readonly<Record<string, number | string | boolean>> {
  const key = `${profile}|${sessionIndex}|${afterSevereEpisode}|${leaveRate}|${absence}`;
  let record = scenarioRecords.get(key);
  if (record === undefined) {
    record = parameterRecord({
      profile,
      sessionIndex,
      afterSevereEpisode,
      ...(leaveRate !== undefined ? { 'STAFF.leaveRatePerHour': leaveRate } : {}),
      ...(absence !== undefined ? { 'STAFF.absenceMeanMinutes': absence } : {}),
    });
    // Bounded like `parameterRecords` (course positions and options: a handful in practice).
    if (scenarioRecords.size < 256) scenarioRecords.set(key, record);
  }
  return record;
}

/** What `calibratedModel` reads of a protocol's session, the same for every participant and seed. */
interface Prepared {
  readonly session: Session;
  readonly planned: Exposure;
  readonly plannedLength: number;
  readonly declared: readonly string[];
  readonly ageRange: readonly [number, number];
}
// Worked out once per protocol and session: Monte Carlo statistics build thousands of scenarios from one IR.
const preparedCache = new WeakMap<IR, Map<string, Prepared>>();
function prepare(ir: IR, name: string): Prepared | undefined {
  let bySession = preparedCache.get(ir);
  if (bySession === undefined) preparedCache.set(ir, (bySession = new Map()));
  let prepared = bySession.get(name);
  if (prepared === undefined) {
    const session = ir.sessions.find((s) => s.name === name);
    if (session === undefined) return undefined;
    // A session too long to simulate is refused here, before staff absences are drawn over all of it.
    sessionHorizonMinutes(session);
    prepared = {
      session,
      planned: plannedExposure(session),
      plannedLength: plannedLength(session),
      declared: ir.events.map((e) => e.name),
      ageRange: ir.population?.age !== undefined ? [ir.population.age.min, ir.population.age.max] : POPULATION.ageRange.value,
    };
    bySession.set(name, prepared);
  }
  return prepared;
}

/** Participants of a session: those asked for, else one, or a group protocol's smallest group. */
export function participantsOf(ir: IR, participants: number | undefined): number {
  return participants ?? (ir.setting.mode === 'group' ? ir.setting.min : 1);
}

export function calibratedModel(ir: IR, options: CalibratedOptions): Scenario {
  const prepared = prepare(ir, options.session);
  if (prepared === undefined) {
    throw new CalibratedModelError(`no session "${options.session}" in the protocol (sessions: ${ir.sessions.map((s) => s.name).join(', ')})`);
  }
  const { session, planned, declared, ageRange } = prepared;
  const n = participantsOf(ir, options.participants);
  if (!Number.isInteger(n) || n < 1) throw new CalibratedModelError(`participants must be a positive integer, got ${n}`);
  const index = options.sessionIndex ?? 1;
  if (!Number.isInteger(index) || index < 1) throw new CalibratedModelError(`sessionIndex must be a positive integer, got ${index}`);
  const ivProfile = options.profile ?? 'yale';
  const rate = options.staff?.leaveRatePerHour;
  if (rate !== undefined && !(Number.isFinite(rate) && rate >= 0)) throw new CalibratedModelError(`staff leave rate must be a number of times per person per hour, 0 or more, got ${rate}`);
  const absence = options.staff?.absenceMeanMinutes;
  if (absence !== undefined && !(Number.isFinite(absence) && absence > 0)) throw new CalibratedModelError(`mean staff absence must be a number of minutes above 0, got ${absence}`);
  const root = (options.rng ?? createRng(options.seed ?? 0)).fork('calibrated');

  const participants: ScenarioParticipant[] = [];
  for (let i = 0; i < n; i++) {
    const id = `p${i + 1}`;
    const pr = root.fork(forkLabel('participant', i));
    const patient = samplePatient(pr, id, ageRange);
    const flags = profileFlags(ir, patient, pr.fork('flags'));
    const patientAdverse = samplePatientAdverse(pr);
    const sr = pr.fork(forkLabel(forkLabel('session', session.name), index));
    const draw = sampleSessionPhysiology(sr);
    const adverse = sampleSessionAdverse(sr.fork('adverse'), {
      planned: plannedDosing(planned, patient.weightKg),
      index,
      patient: patientAdverse,
      zCadss: draw.z.cadss,
      declared,
    });
    // Every field written out, the excursions present even when undefined: one object shape for
    // every session, which the minute-by-minute physiology reads. (A spread of `draw` gave each
    // session's object a map of its own, and the physiology's property reads went megamorphic.)
    const sessionDraw = { z: draw.z, slow: draw.slow, surge: adverse.surge, desaturation: adverse.desaturation };
    const physiology = new ParticipantPhysiology(ir.measures, patient, sessionDraw, { ivProfile, planned, managed: options.afterSevereEpisode === true });
    const profile: TraceParticipant = { id, age: patient.age, weightKg: patient.weightKg, baseline: physiology.baselineValues(), flags };
    // (A generic array: most sessions have no event, some have several.)
    const events = generic<{ t: number; name: string }>();
    for (const e of adverse.events) if (e.name !== undefined) events.push({ t: e.t, name: e.name });
    participants.push({ profile, physiology, events });
  }

  const roster = staffRoster(ir, n);
  const staff = staffAbsences(root.fork('staff'), roster, { ...options.staff, horizon: prepared.plannedLength + 180 });
  return {
    participants,
    staff,
    staffAtStart: roster,
    parameters: scenarioParameters(ivProfile, index, options.afterSevereEpisode === true, rate, absence),
    model: 'calibrated',
  };
}

export { eventNameFor };
