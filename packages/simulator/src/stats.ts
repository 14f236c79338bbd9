/**
 * Monte Carlo statistics behind `kapspec stats`: N sessions of the
 * `calibrated` model through the protocol's machine, summarised as outcome
 * rates, rule-fire rates, pause time, staff utilisation, session length and
 * every CALIBRATION.md figure the protocol's route allows.
 *
 * Streaming. Each session's trace is folded into a `StatsAccumulator` as soon
 * as it is simulated and then dropped: an accumulator is a fixed set of
 * counters, sums and fixed-bin histograms whose shape depends only on the
 * protocol (its rules, roles, declared events, route), never on N. Memory
 * does not grow with the number of sessions.
 *
 * Determinism. Session i (0-based) is `calibratedModel` and `simulate` with
 * seed `statsSessionSeed(seed, i)` — the same seed `kapspec test --model
 * calibrated` gives its run i, and `kapspec simulate --seed <that seed>`
 * replays the session. Sessions are grouped in chunks of
 * `STATS_CHUNK_SIZE` with boundaries fixed by the session index alone (never
 * by the number of workers); each chunk is accumulated in index order from
 * an empty accumulator, and chunk accumulators are merged in chunk order. So
 * every floating-point sum is taken in the same order whatever the number of
 * workers, and `workers: 1` and `workers: k` give bit-identical reports.
 *
 * Workers. `workers: 1` runs in this thread. `workers: k > 1` starts k
 * `node:worker_threads` workers (stats-worker.ts, from the built dist or the
 * CLI bundle) that take chunks from a queue and send back chunk
 * accumulators and progress; the main thread merges them in chunk order.
 * At most `STATS_WINDOW_PER_WORKER × k` chunks are in flight or waiting to be
 * merged, so out-of-order results cannot pile up either.
 */
import { Worker } from 'node:worker_threads';
import { OUTCOMES, type IR, type ProtocolEmitted, type Route, type Session } from '@kapspec/runtime';
import { simulate } from './driver.js';
import { calibratedModel, participantsOf, plannedDosing, plannedExposure } from './models/calibrated.js';
import { drugPart, eventNameFor, sedationModel, sessionRates } from './models/adverse.js';
import { wilson } from './models/calibration.js';
import { potency } from './models/kinetics.js';
import { vitalKind } from './models/physiology.js';
import { CALIBRATION_MONITORING, PER_PATIENT, SEVERE_HYPERTENSION, STAFF, type EventKind, type IvProfile } from './models/parameters.js';
import { runSeed } from './rng.js';
import type { Trace, TraceParticipant } from './trace.js';

/**
 * Version of the `StatsReport` JSON (`kapspecStats`). 2: `participants`
 * counts distinct participants (with `--course`, `sessions` / sessions per
 * participant, not every participant-session), `participantSessions` is the
 * denominator of `outcomes`, and `course.perParticipant` holds figures over
 * participants. Version 1 counted a course's participant-sessions as
 * participants.
 */
export const STATS_VERSION = 2 as const;
/**
 * Sessions per chunk: the unit of work handed to a worker and of the fixed
 * summation order. Each chunk's accumulator is copied to the main thread
 * and merged there (about 0.2 ms): 128 sessions a chunk keep that under a
 * hundredth of the work (32 made two workers about 5 % slower).
 */
export const STATS_CHUNK_SIZE = 128;
/** Chunks in flight or awaiting merge, per worker. */
export const STATS_WINDOW_PER_WORKER = 4;
/**
 * Chunks handed to one worker at a time: it has the next one queued when it
 * finishes one, instead of idling until the main thread (which shares the
 * cores) gets round to answering.
 */
export const STATS_QUEUE_PER_WORKER = 2;
/**
 * Heap limits of a stats worker (MiB). What a worker keeps is one chunk's
 * accumulator and the session it is running (about 8 MiB in all for
 * examples/individual-iv.kap, a few MiB more for a group of 12); the rest is
 * garbage. Without limits V8 lets a busy worker's heap grow with the length
 * of the run, so peak memory would depend on the number of sessions after
 * all. The young generation is kept small because V8 grows it as a run goes
 * on: with 16 MiB a worker's new space grew from 2 to 16 MiB over the first
 * tens of thousands of sessions, and peak memory of 100,000 sessions was 8
 * to 14 % above that of 10,000 (measured here, two workers); with 6 MiB it
 * is about 6 % above, and about 30 MiB lower, for about 6 % fewer sessions a
 * second (more scavenges). A worker that needs more stops with a clear
 * error (run with one worker: the main thread has no such limit).
 */
export const STATS_WORKER_HEAP_MB = { oldGeneration: 20, youngGeneration: 6 } as const;
/** Minutes-paused histogram: 1-minute bins from 0, the last bin collects everything above. */
export const PAUSE_HISTOGRAM_MINUTES = 240;
/** Onset histogram (sedation onset after dosing): bins of this many minutes up to `ONSET_HISTOGRAM_MINUTES`. */
export const ONSET_BIN_MINUTES = 0.5;
export const ONSET_HISTOGRAM_MINUTES = 180;
const Z95 = 1.959964;

/** Thrown for options that cannot be run (named problem). */
export class StatsError extends Error {
  override readonly name = 'StatsError';
}

export interface StatsOptions {
  /** Session name; default: the only session, else the first that administers a drug, else the first. */
  readonly session?: string;
  /** Sessions to simulate: a positive integer. */
  readonly sessions: number;
  /** Root seed (integer 0..2^32-1); session i uses `statsSessionSeed(seed, i)`. */
  readonly seed: number;
  /** Worker threads (default 1: this thread). Results do not depend on it. */
  readonly workers?: number;
  /** IV response profile of the calibrated model (default `yale`). */
  readonly profile?: IvProfile;
  /**
   * Staff called away and returning (the calibrated model's staff option;
   * default: never, as no source gives a rate). Each person on duty leaves
   * `leaveRatePerHour` times an hour on average and is away
   * `absenceMeanMinutes` on average (exponential).
   */
  readonly staff?: { readonly leaveRatePerHour?: number; readonly absenceMeanMinutes?: number };
  /** Participants per session (group protocols; default the group minimum). */
  readonly participants?: number;
  /**
   * Course mode: `sessions` participants each go through the session as many
   * times as the protocol's `course` repeats it (its upper bound), in order,
   * with the calibrated model's course effects (adverse events rarer with
   * each session; a session after a severe hypertensive episode is managed).
   * Every figure then counts sessions, except the report's `course`
   * (figures over participants, `perParticipant`) and the per-patient
   * calibration rows it adds (IV4 per patient, IV10, ES1–ES13 per
   * patient). Individual protocols only. Progress counts participants.
   */
  readonly course?: boolean;
  /** Called as sessions (in course mode: participants) complete (monotonic `done`, ending with `done === total`). */
  readonly onProgress?: (done: number, total: number) => void;
  /** Where the worker entry is (default: stats-worker.js next to this module, or the built dist when run from source). */
  readonly workerUrl?: URL | string;
  /**
   * Sessions per chunk (default `STATS_CHUNK_SIZE`). Part of the summation
   * order: reports are identical for any `workers` at the same chunk size,
   * and may differ in the last bits between chunk sizes. For tests.
   */
  readonly chunkSize?: number;
}

/** The seed of session i: `kapspec simulate --seed <this>` replays it (same as `kapspec test --model calibrated` run i). */
export function statsSessionSeed(seed: number, i: number): number {
  return runSeed(seed, i);
}

// ── The plan: what the protocol lets us measure (same in every thread) ──

type StatsRoute = 'iv' | 'intranasal';
type CourseKind = 'dissociation' | 'dizziness' | 'nausea' | 'vertigo' | 'anxiety' | 'vomiting';
const COURSE_KINDS: readonly CourseKind[] = ['dissociation', 'dizziness', 'nausea', 'vertigo', 'anxiety', 'vomiting'];
const ES_ROW: Record<CourseKind | 'sedation', string> = { dissociation: 'ES1', dizziness: 'ES2', nausea: 'ES3', sedation: 'ES4', vertigo: 'ES5', anxiety: 'ES6', vomiting: 'ES7' };

interface Plan {
  readonly session: Session;
  readonly group: boolean;
  readonly participants: number;
  readonly profile: IvProfile;
  readonly roles: readonly string[];
  readonly rules: readonly string[];
  /** Ketamine-like drugs of the session (drive the response). */
  readonly drugs: readonly string[];
  /** Route of the first ketamine-like administration, when CALIBRATION.md has figures for it. */
  readonly route: StatsRoute | undefined;
  readonly anyRoute: Route | undefined;
  /** Post-dose reading window (min after the first dose): the cohorts' schedules. */
  readonly window: number;
  /** Declared event name per adverse-event kind. */
  readonly events: Partial<Record<EventKind, string>>;
  /** A caution flag meaning hypertension history, if declared. */
  readonly htnFlag: string | undefined;
  /**
   * The declared measures read as systolic and diastolic blood pressure and
   * pulse: the one named exactly sbp, dbp, hr, else the first the model
   * takes for that vital by its naming rule (`vitalKind`: systolic, …);
   * absent when none is.
   */
  readonly vitals: { readonly sbp?: string; readonly dbp?: string; readonly hr?: string };
  /** The measures of `vitals`: the only readings `addSession` looks at (`leanReadings`). */
  readonly readings: ReadonlySet<string>;
  /** Course mode: sessions per participant (the course's repeat of this session); undefined: independent first sessions. */
  readonly course: number | undefined;
  /** The calibrated model's staff absences, when asked for. */
  readonly staff: StatsOptions['staff'];
}

function chooseSession(ir: IR, name: string | undefined): Session {
  if (name !== undefined) {
    const s = ir.sessions.find((x) => x.name === name);
    if (!s) throw new StatsError(`no session "${name}" in the protocol (sessions: ${ir.sessions.map((x) => x.name).join(', ')})`);
    return s;
  }
  const s = ir.sessions.length === 1 ? ir.sessions[0] : (ir.sessions.find((x) => x.stages.some((st) => st.administer.length > 0)) ?? ir.sessions[0]);
  if (!s) throw new StatsError('the protocol declares no session');
  return s;
}

/** Sessions per participant in course mode: the course's upper repeat bound for the session (a named problem otherwise). */
function courseLength(ir: IR, session: Session): number {
  if (ir.setting.mode === 'group') throw new StatsError('course statistics follow one participant through their course: individual protocols only');
  const step = ir.course?.steps.find((x) => x.session === session.name);
  if (ir.course === undefined) throw new StatsError(`the protocol has no course block: course statistics need one that repeats session "${session.name}"`);
  if (step === undefined) throw new StatsError(`the course does not include session "${session.name}" (course: ${ir.course.steps.map((x) => x.session).join(', ')})`);
  return step.repeat?.max ?? 1;
}

/**
 * Participant-sessions one unit of `sessions` simulates: a group session of
 * n participants, n; with `course`, a participant's course, as many as the
 * course repeats the session. For a caller sizing a run (the CLI's
 * `--workers auto`). Never throws: a course `runStats` would refuse (no
 * such session, no course block, a group) counts as one session.
 */
export function statsUnitSize(ir: IR, options: Pick<StatsOptions, 'session' | 'participants' | 'course'>): number {
  const participants = participantsOf(ir, options.participants);
  if (options.course !== true) return participants;
  try {
    return participants * courseLength(ir, chooseSession(ir, options.session));
  } catch {
    return participants;
  }
}

function makePlan(ir: IR, options: Pick<StatsOptions, 'session' | 'profile' | 'participants' | 'course' | 'staff'>): Plan {
  const session = chooseSession(ir, options.session);
  const firstDose = session.stages.flatMap((s) => s.administer).find((a) => potency(a.drug) > 0);
  const anyRoute = firstDose?.route;
  const route: StatsRoute | undefined = anyRoute === 'iv' || anyRoute === 'intranasal' ? anyRoute : undefined;
  const declared = ir.events.map((e) => e.name);
  const events: Partial<Record<EventKind, string>> = {};
  for (const k of [...COURSE_KINDS, 'sedation', 'request_stop', 'hypertensive_surge', 'desaturation'] as EventKind[]) {
    const n = eventNameFor(k, declared);
    if (n !== undefined) events[k] = n;
  }
  // A measure named exactly sbp, dbp or hr, else the first the model reads as that vital.
  const vitals: { sbp?: string; dbp?: string; hr?: string } = {};
  for (const kind of ['sbp', 'dbp', 'hr'] as const) {
    vitals[kind] = ir.measures.find((m) => m.name === kind)?.name ?? ir.measures.find((m) => vitalKind(m.name) === kind)?.name;
    if (vitals[kind] === undefined) delete vitals[kind];
  }
  const participants = participantsOf(ir, options.participants);
  return {
    session,
    group: ir.setting.mode === 'group',
    participants,
    profile: options.profile ?? 'yale',
    roles: ir.roles.map((r) => r.name),
    rules: session.rules.map((r) => r.id),
    drugs: [...new Set(session.stages.flatMap((s) => s.administer).filter((a) => potency(a.drug) > 0).map((a) => a.drug))],
    route,
    anyRoute,
    window: route === 'intranasal' ? CALIBRATION_MONITORING.intranasal.value.at(-1)! : CALIBRATION_MONITORING.iv.value.at(-1)!,
    events,
    htnFlag: ir.population?.caution.map((f) => f.flag).find((f) => /hypertens/i.test(f)),
    vitals,
    readings: new Set(Object.values(vitals)),
    course: options.course === true ? courseLength(ir, session) : undefined,
    staff: options.staff,
  };
}

// ── Accumulators (fixed shape; plain data for postMessage) ──────────────

/** Count, sum, sum of squares, min and max of a per-session quantity. */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
}
const moments = (): Moments => ({ n: 0, sum: 0, sumSq: 0, min: Infinity, max: -Infinity });
function addMoment(m: Moments, x: number): void {
  m.n++;
  m.sum += x;
  m.sumSq += x * x;
  if (x < m.min) m.min = x;
  if (x > m.max) m.max = x;
}
function mergeMoments(into: Moments, b: Moments): void {
  into.n += b.n;
  into.sum += b.sum;
  into.sumSq += b.sumSq;
  if (b.min < into.min) into.min = b.min;
  if (b.max > into.max) into.max = b.max;
}

interface Strata {
  n: number;
  sbp180: number;
  dbp110: number;
  rise40: number;
  rise25: number;
}
const strata = (): Strata => ({ n: 0, sbp180: 0, dbp110: 0, rise40: 0, rise25: 0 });

/** Everything a set of sessions contributes. Its shape depends on the protocol only. */
export interface StatsAccumulator {
  sessions: number;
  /** A participant in a session, over all sessions (a group session has several; a course's participant one per session). */
  participantSessions: number;
  /** Participant-sessions by outcome; `none`: no outcome by the simulation horizon. */
  outcomes: Record<string, number>;
  /** By rule id: sessions in which it fired, fires, and the sum of squared fires per session. */
  rules: Record<string, { sessions: number; fires: number; firesSq: number }>;
  pause: { sessions: number; minutes: Moments; histogram: number[] };
  /** By role: per-session share of present person-minutes spent attending; sessions with a violation about the role. */
  staff: Record<string, { share: Moments; violations: number }>;
  /** Sessions with any staffing violation. */
  violations: number;
  length: Moments;
  vitals: {
    /** Participants who received a ketamine-like dose. */
    dosed: number;
    /** Dosed participants with a pre-dose and at least one post-dose SBP reading in the window. */
    read: number;
    sbpRise: Moments;
    dbpRise: Moments;
    severe: number;
    discontinued: number;
    /** Rise at the reading 40 min after the first dose. */
    rise40: { sbp: Moments; dbp: Moments; hr: Moments };
    /** Sum and count of the SBP rise by whole minute after the first dose (0..window). */
    byMinuteSum: number[];
    byMinuteN: number[];
    older: Moments;
    younger: Moments;
    htn: Moments;
    noHtn: Moments;
    dissociation: Moments;
    noDissociation: Moments;
    under65: Strata;
    over65: Strata;
    /** By adverse-event kind: dosed participants who had the event, and the sum of the model's per-session probabilities. */
    events: Record<string, { count: number; expected: number }>;
    sedationOnset: number[];
  };
  /** Course mode only (null otherwise): per participant over their course. */
  course: CourseAccumulator | null;
  /**
   * The first session (0-based index of the run) that reached each
   * outcome, in which each rule fired, and with a staffing violation about
   * each role; -1: none yet. Null in course mode (a session of a course
   * depends on the ones before it).
   */
  examples: { outcomes: Record<string, number>; rules: Record<string, number>; staffing: Record<string, number> } | null;
}

/** Per-participant figures over a course of `length` sessions. */
export interface CourseAccumulator {
  length: number;
  /** Participants simulated through a course. */
  patients: number;
  /** Dosed in at least one session; with blood pressure readings in at least one. */
  dosed: number;
  read: number;
  /** Participants with a severe hypertensive reading in some session. */
  severePatients: number;
  /** By session index (0-based): sessions with a severe reading; SBP rise of sessions with readings. */
  severeByIndex: number[];
  riseByIndex: Moments[];
  /** By adverse-event kind (declared ones): dosed participants who had it in some session. */
  events: Record<string, number>;
  /** Per participant, any session: the label's per-patient blood pressure figures, by age. */
  under65: Strata;
  over65: Strata;
  /** Participants with at least one session of each outcome (`none` included). */
  outcomes: Record<string, number>;
  /** Participants discharged in every session of their course. */
  allDischarged: number;
  /** By rule id: participants in whom it fired in at least one session. */
  rules: Record<string, number>;
  /** Participants with at least one paused session; with at least one staffing violation. */
  paused: number;
  violations: number;
}

function emptyAccumulator(plan: Plan): StatsAccumulator {
  const bins = Math.round(plan.window) + 1;
  return {
    sessions: 0,
    participantSessions: 0,
    outcomes: Object.fromEntries([...OUTCOMES, 'none'].map((o) => [o, 0])),
    rules: Object.fromEntries(plan.rules.map((r) => [r, { sessions: 0, fires: 0, firesSq: 0 }])),
    pause: { sessions: 0, minutes: moments(), histogram: new Array<number>(PAUSE_HISTOGRAM_MINUTES + 1).fill(0) },
    staff: Object.fromEntries(plan.roles.map((r) => [r, { share: moments(), violations: 0 }])),
    violations: 0,
    length: moments(),
    vitals: {
      dosed: 0,
      read: 0,
      sbpRise: moments(),
      dbpRise: moments(),
      severe: 0,
      discontinued: 0,
      rise40: { sbp: moments(), dbp: moments(), hr: moments() },
      byMinuteSum: new Array<number>(bins).fill(0),
      byMinuteN: new Array<number>(bins).fill(0),
      older: moments(),
      younger: moments(),
      htn: moments(),
      noHtn: moments(),
      dissociation: moments(),
      noDissociation: moments(),
      under65: strata(),
      over65: strata(),
      events: Object.fromEntries([...COURSE_KINDS, 'sedation'].filter((k) => plan.events[k as EventKind] !== undefined).map((k) => [k, { count: 0, expected: 0 }])),
      sedationOnset: new Array<number>(Math.round(ONSET_HISTOGRAM_MINUTES / ONSET_BIN_MINUTES) + 1).fill(0),
    },
    course:
      plan.course === undefined
        ? null
        : {
            length: plan.course,
            patients: 0,
            dosed: 0,
            read: 0,
            severePatients: 0,
            severeByIndex: new Array<number>(plan.course).fill(0),
            riseByIndex: Array.from({ length: plan.course }, moments),
            events: Object.fromEntries([...COURSE_KINDS, 'sedation'].filter((k) => plan.events[k as EventKind] !== undefined).map((k) => [k, 0])),
            under65: strata(),
            over65: strata(),
            outcomes: Object.fromEntries([...OUTCOMES, 'none'].map((o) => [o, 0])),
            allDischarged: 0,
            rules: Object.fromEntries(plan.rules.map((r) => [r, 0])),
            paused: 0,
            violations: 0,
          },
    examples:
      plan.course === undefined
        ? {
            outcomes: Object.fromEntries([...OUTCOMES, 'none'].map((o) => [o, -1])),
            rules: Object.fromEntries(plan.rules.map((r) => [r, -1])),
            staffing: Object.fromEntries(plan.roles.map((r) => [r, -1])),
          }
        : null,
  };
}

function addInto(into: Record<string, number>, b: Readonly<Record<string, number>>): void {
  for (const k of Object.keys(into)) into[k]! += b[k] ?? 0;
}
function addArray(into: number[], b: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += b[i] ?? 0;
}
/** First sessions: `into`'s where it has one (it holds the earlier sessions), else `b`'s. */
function firstOf(into: Record<string, number>, b: Readonly<Record<string, number>>): void {
  for (const k of Object.keys(into)) if (into[k] === -1) into[k] = b[k] ?? -1;
}

/** Adds `b` into `into` (used in chunk order). */
export function mergeAccumulators(into: StatsAccumulator, b: StatsAccumulator): StatsAccumulator {
  into.sessions += b.sessions;
  into.participantSessions += b.participantSessions;
  if (into.examples !== null && b.examples !== null) {
    firstOf(into.examples.outcomes, b.examples.outcomes);
    firstOf(into.examples.rules, b.examples.rules);
    firstOf(into.examples.staffing, b.examples.staffing);
  }
  addInto(into.outcomes, b.outcomes);
  for (const [k, r] of Object.entries(into.rules)) {
    const o = b.rules[k];
    if (!o) continue;
    r.sessions += o.sessions;
    r.fires += o.fires;
    r.firesSq += o.firesSq;
  }
  into.pause.sessions += b.pause.sessions;
  mergeMoments(into.pause.minutes, b.pause.minutes);
  addArray(into.pause.histogram, b.pause.histogram);
  for (const [k, s] of Object.entries(into.staff)) {
    const o = b.staff[k];
    if (!o) continue;
    mergeMoments(s.share, o.share);
    s.violations += o.violations;
  }
  into.violations += b.violations;
  mergeMoments(into.length, b.length);
  const v = into.vitals;
  const w = b.vitals;
  v.dosed += w.dosed;
  v.read += w.read;
  mergeMoments(v.sbpRise, w.sbpRise);
  mergeMoments(v.dbpRise, w.dbpRise);
  v.severe += w.severe;
  v.discontinued += w.discontinued;
  mergeMoments(v.rise40.sbp, w.rise40.sbp);
  mergeMoments(v.rise40.dbp, w.rise40.dbp);
  mergeMoments(v.rise40.hr, w.rise40.hr);
  addArray(v.byMinuteSum, w.byMinuteSum);
  addArray(v.byMinuteN, w.byMinuteN);
  for (const k of ['older', 'younger', 'htn', 'noHtn', 'dissociation', 'noDissociation'] as const) mergeMoments(v[k], w[k]);
  for (const k of ['under65', 'over65'] as const) addInto(v[k] as unknown as Record<string, number>, w[k] as unknown as Record<string, number>);
  for (const [k, e] of Object.entries(v.events)) {
    const o = w.events[k];
    if (!o) continue;
    e.count += o.count;
    e.expected += o.expected;
  }
  addArray(v.sedationOnset, w.sedationOnset);
  const c = into.course;
  const d = b.course;
  if (c !== null && d !== null) {
    c.patients += d.patients;
    c.dosed += d.dosed;
    c.read += d.read;
    c.severePatients += d.severePatients;
    addArray(c.severeByIndex, d.severeByIndex);
    c.riseByIndex.forEach((m, i) => mergeMoments(m, d.riseByIndex[i]!));
    addInto(c.events, d.events);
    addInto(c.under65 as unknown as Record<string, number>, d.under65 as unknown as Record<string, number>);
    addInto(c.over65 as unknown as Record<string, number>, d.over65 as unknown as Record<string, number>);
    addInto(c.outcomes, d.outcomes);
    c.allDischarged += d.allDischarged;
    addInto(c.rules, d.rules);
    c.paused += d.paused;
    c.violations += d.violations;
  }
  return into;
}

// ── One session into the accumulator ────────────────────────────────────

interface Administration {
  status: 'running' | 'paused' | 'stopped' | 'completed';
  readonly stage: string;
}

interface ParticipantView {
  readonly profile: TraceParticipant;
  outcome: string | undefined;
  doseStart: number | undefined;
  readonly admins: Map<string, Administration>;
  /** The last readings before the first dose (every field present from the start: one object shape). */
  pre: { sbp: number | undefined; dbp: number | undefined; hr: number | undefined };
  maxSbp: number;
  maxDbp: number;
  post: number;
  severe: boolean;
  sbp180: boolean;
  dbp110: boolean;
  rise40: boolean;
  rise25: boolean;
  /** The rises from `pre` read 40 min after the first dose (every field present from the start, like `pre`). */
  at40: { sbp: number | undefined; dbp: number | undefined; hr: number | undefined };
  readonly firstEvent: Map<string, number>;
}

/** What a course follows of its sessions beyond the participant's view (`addSession`'s `facts`): added to by each session, so one object collects a whole course. */
interface SessionFacts {
  /** Rules that fired in some session. */
  readonly fired: Set<string>;
  /** Some session had a pause; a staffing violation. */
  paused: boolean;
  violation: boolean;
}

/**
 * Folds one session's trace into `acc` (the trace can be dropped
 * afterwards); `index` is its 1-based place in the participant's course,
 * `session` its number in the run, for `examples` (a course's sessions have
 * none). Returns what it saw of each participant; adds to `facts`, when
 * given, the session's rules fired, pause and staffing violation.
 */
function addSession(acc: StatsAccumulator, plan: Plan, trace: Trace, index = 1, session?: number, facts?: SessionFacts): ParticipantView[] {
  const views = new Map<string, ParticipantView>();
  for (const p of trace.header.participants) {
    views.set(p.id, {
      profile: p,
      outcome: undefined,
      doseStart: undefined,
      admins: new Map(),
      pre: { sbp: undefined, dbp: undefined, hr: undefined },
      maxSbp: -Infinity,
      maxDbp: -Infinity,
      post: 0,
      severe: false,
      sbp180: false,
      dbp110: false,
      rise40: false,
      rise25: false,
      at40: { sbp: undefined, dbp: undefined, hr: undefined },
      firstEvent: new Map(),
    });
  }
  const only = trace.header.participants[0]?.id;
  const viewOf = (participant: string | undefined) => (participant !== undefined ? views.get(participant) : plan.group ? undefined : views.get(only ?? ''));
  const fires = new Map<string, number>();
  const violatedRoles = new Set<string>();
  let violation = false;
  let pausedSince: number | undefined;
  let pausedMinutes = 0;
  let lastT = 0;
  let present: Readonly<Record<string, number>> = trace.header.staff;
  let free: Readonly<Record<string, number>> = trace.header.staff;
  const presentMin: Record<string, number> = {};
  const busyMin: Record<string, number> = {};
  for (const r of plan.roles) presentMin[r] = busyMin[r] = 0;
  const advanceStaff = (t: number) => {
    const dt = t - lastT;
    if (dt > 0) {
      for (const r of plan.roles) {
        const p = present[r] ?? 0;
        presentMin[r]! += p * dt;
        busyMin[r]! += Math.max(0, p - (free[r] ?? p)) * dt;
      }
    }
    lastT = t;
  };
  const stopRunning = (v: ParticipantView, stage?: string, byRule?: boolean) => {
    for (const a of v.admins.values()) {
      if (stage !== undefined && a.stage !== stage) continue;
      if (a.status === 'running' || a.status === 'paused') a.status = stage !== undefined && !byRule && a.status === 'running' ? 'completed' : 'stopped';
    }
  };
  let end = 0;
  for (const rec of trace.records) {
    end = rec.t;
    switch (rec.type) {
      case 'state': {
        advanceStaff(rec.t);
        present = rec.present;
        free = rec.free;
        const paused = rec.paused.length > 0;
        if (paused && pausedSince === undefined) pausedSince = rec.t;
        else if (!paused && pausedSince !== undefined) {
          pausedMinutes += rec.t - pausedSince;
          pausedSince = undefined;
        }
        break;
      }
      case 'emit': {
        const e = rec.event as unknown as ProtocolEmitted & { participant?: string };
        if (e.type === 'rule') fires.set(e.rule, (fires.get(e.rule) ?? 0) + 1);
        else if (e.type === 'staffing.violation') {
          violation = true;
          violatedRoles.add(e.role);
        } else if (e.type === 'administer' && plan.drugs.includes(e.drug)) {
          const v = viewOf(e.participant);
          if (!v) break;
          const key = `${e.stage}|${e.drug}|${e.span.start}`;
          if (e.phase === 'start') {
            v.doseStart ??= rec.t;
            v.admins.set(key, { stage: e.stage, status: e.delivery.kind === 'once' ? 'completed' : 'running' });
          } else {
            const a = v.admins.get(key);
            if (a) a.status = e.phase === 'pause' ? 'paused' : e.phase === 'resume' ? 'running' : 'stopped';
          }
        } else if (e.type === 'stage' && (e.phase === 'exit' || e.phase === 'stop')) {
          const targets = e.participant !== undefined ? [viewOf(e.participant)] : [...views.values()];
          for (const v of targets) if (v) stopRunning(v, e.stage, e.phase === 'stop' || e.rule !== undefined);
        }
        break;
      }
      case 'observe': {
        const v = viewOf(rec.participant);
        if (!v) break;
        const values = rec.values;
        const sbp = plan.vitals.sbp === undefined ? undefined : values[plan.vitals.sbp];
        const dbp = plan.vitals.dbp === undefined ? undefined : values[plan.vitals.dbp];
        const hr = plan.vitals.hr === undefined ? undefined : values[plan.vitals.hr];
        if (v.doseStart === undefined || rec.t <= v.doseStart) {
          if (sbp !== undefined) v.pre.sbp = sbp;
          if (dbp !== undefined) v.pre.dbp = dbp;
          if (hr !== undefined) v.pre.hr = hr;
          break;
        }
        const after = rec.t - v.doseStart;
        if (after > plan.window) break;
        const at40 = Math.abs(after - 40) < 0.5;
        if (sbp !== undefined) {
          if (sbp > v.maxSbp) v.maxSbp = sbp;
          v.post++;
          if (sbp >= SEVERE_HYPERTENSION.sbp.value) v.severe = true;
          if (sbp >= 180) v.sbp180 = true;
          if (v.pre.sbp !== undefined) {
            const rise = sbp - v.pre.sbp;
            if (rise >= 40) v.rise40 = true;
            const bin = Math.round(after);
            acc.vitals.byMinuteSum[bin]! += rise;
            acc.vitals.byMinuteN[bin]!++;
            if (at40) v.at40.sbp = rise;
          }
        }
        if (dbp !== undefined) {
          if (dbp > v.maxDbp) v.maxDbp = dbp;
          if (dbp >= SEVERE_HYPERTENSION.dbp.value) v.severe = true;
          if (dbp >= 110) v.dbp110 = true;
          if (v.pre.dbp !== undefined) {
            if (dbp - v.pre.dbp >= 25) v.rise25 = true;
            if (at40) v.at40.dbp = dbp - v.pre.dbp;
          }
        }
        if (hr !== undefined && v.pre.hr !== undefined && at40) v.at40.hr = hr - v.pre.hr;
        break;
      }
      case 'event': {
        const v = viewOf(rec.participant);
        if (v && !v.firstEvent.has(rec.name)) v.firstEvent.set(rec.name, rec.t);
        break;
      }
      case 'outcome': {
        const v = viewOf(rec.participant);
        if (!v) break;
        v.outcome = rec.outcome;
        stopRunning(v);
        break;
      }
      default:
        break;
    }
  }
  advanceStaff(end);
  if (pausedSince !== undefined) pausedMinutes += end - pausedSince;

  acc.sessions++;
  addMoment(acc.length, end);
  for (const [rule, n] of fires) {
    const r = acc.rules[rule];
    if (!r) continue;
    r.sessions++;
    r.fires += n;
    r.firesSq += n * n;
    if (session !== undefined && acc.examples !== null && acc.examples.rules[rule] === -1) acc.examples.rules[rule] = session;
  }
  if (pausedMinutes > 0) acc.pause.sessions++;
  addMoment(acc.pause.minutes, pausedMinutes);
  acc.pause.histogram[Math.min(PAUSE_HISTOGRAM_MINUTES, Math.floor(pausedMinutes))]!++;
  if (violation) acc.violations++;
  for (const role of plan.roles) {
    const s = acc.staff[role]!;
    if (presentMin[role]! > 0) addMoment(s.share, busyMin[role]! / presentMin[role]!);
    if (violatedRoles.has(role)) {
      s.violations++;
      if (session !== undefined && acc.examples !== null && acc.examples.staffing[role] === -1) acc.examples.staffing[role] = session;
    }
  }
  if (facts !== undefined) {
    for (const rule of fires.keys()) facts.fired.add(rule);
    facts.paused ||= pausedMinutes > 0;
    facts.violation ||= violation;
  }
  for (const v of views.values()) {
    addParticipant(acc, plan, v, index);
    const outcome = v.outcome ?? 'none';
    if (session !== undefined && acc.examples !== null && acc.examples.outcomes[outcome] === -1) acc.examples.outcomes[outcome] = session;
  }
  return [...views.values()];
}

function addParticipant(acc: StatsAccumulator, plan: Plan, v: ParticipantView, index: number): void {
  acc.participantSessions++;
  acc.outcomes[v.outcome ?? 'none']!++;
  if (v.doseStart === undefined) return;
  const vit = acc.vitals;
  vit.dosed++;
  if ([...v.admins.values()].some((a) => a.status === 'stopped')) vit.discontinued++;
  // Adverse events of the session, against the model's per-session probability (at its place in the course).
  const dosing = plannedDosing(plannedExposure(plan.session), v.profile.weightKg);
  const r = dosing?.relative ?? 0;
  for (const [kind, e] of Object.entries(vit.events)) {
    const name = plan.events[kind as EventKind]!;
    const t = v.firstEvent.get(name);
    if (t !== undefined) e.count++;
    if (kind === 'sedation') {
      e.expected += expectedSedation(r);
      if (t !== undefined) {
        const bin = Math.floor(Math.max(0, t - v.doseStart) / ONSET_BIN_MINUTES);
        vit.sedationOnset[Math.min(vit.sedationOnset.length - 1, bin)]!++;
      }
    } else {
      const rates = sessionRates(kind as CourseKind);
      e.expected += 1 - (1 - rates.background) * (1 - drugPart(rates, index, r));
    }
  }
  if (v.pre.sbp === undefined || v.post === 0) return;
  vit.read++;
  const riseS = v.maxSbp - v.pre.sbp;
  addMoment(vit.sbpRise, riseS);
  if (v.pre.dbp !== undefined && v.maxDbp > -Infinity) addMoment(vit.dbpRise, v.maxDbp - v.pre.dbp);
  if (v.severe) vit.severe++;
  if (v.at40.sbp !== undefined) addMoment(vit.rise40.sbp, v.at40.sbp);
  if (v.at40.dbp !== undefined) addMoment(vit.rise40.dbp, v.at40.dbp);
  if (v.at40.hr !== undefined) addMoment(vit.rise40.hr, v.at40.hr);
  addMoment(v.profile.age >= 50 ? vit.older : vit.younger, riseS);
  if (plan.htnFlag !== undefined) addMoment(v.profile.flags.includes(plan.htnFlag) ? vit.htn : vit.noHtn, riseS);
  const dis = plan.events.dissociation;
  if (dis !== undefined) addMoment(v.firstEvent.has(dis) ? vit.dissociation : vit.noDissociation, riseS);
  const s = v.profile.age < 65 ? vit.under65 : vit.over65;
  s.n++;
  if (v.sbp180) s.sbp180++;
  if (v.dbp110) s.dbp110++;
  if (v.rise40) s.rise40++;
  if (v.rise25) s.rise25++;
}

/**
 * Expected observed-sedation probability of a first session at relative dose
 * r: E[max(background, 1 − (1 − p)^r)] for the per-patient propensity
 * p ~ Beta(a, b) (adverse.ts). Exact for r = 1 up to the background term;
 * computed by a fixed 200-point midpoint rule over the Beta quantiles' mean
 * otherwise (deterministic).
 */
const sedationCache = new Map<number, number>();
function expectedSedation(r: number): number {
  const hit = sedationCache.get(r);
  if (hit !== undefined) return hit;
  const m = sedationModel();
  // E over p ~ Beta(a, b) by a fixed midpoint rule on [0, 1] with the Beta density.
  const steps = 2000;
  let num = 0;
  let den = 0;
  for (let i = 0; i < steps; i++) {
    const p = (i + 0.5) / steps;
    const w = Math.exp((m.a - 1) * Math.log(p) + (m.b - 1) * Math.log(1 - p));
    num += w * Math.max(m.background, r > 0 ? 1 - Math.pow(1 - p, r) : 0);
    den += w;
  }
  const e = num / den;
  sedationCache.set(r, e);
  return e;
}

/**
 * The seed of session `index` (1-based) of course participant i, whose seed
 * is `statsSessionSeed(seed, i)`: that seed itself for the first session (so
 * a course's first session is the same as session i without courses), then
 * `statsSessionSeed(that seed, index)` for the measurement noise of the
 * later ones.
 */
export function courseSessionSeed(participantSeed: number, index: number): number {
  return index === 1 ? participantSeed : statsSessionSeed(participantSeed, index);
}

/** Per-participant state over one course. */
interface CourseView {
  dosed: boolean;
  read: boolean;
  severe: boolean;
  readonly events: Set<string>;
  sbp180: boolean;
  dbp110: boolean;
  rise40: boolean;
  rise25: boolean;
}

/** Simulates participants [start, end) through their courses into `acc`, in index order. */
function runCourses(ir: IR, plan: Plan, acc: StatsAccumulator, seed: number, start: number, end: number, progress?: () => void): void {
  const name = plan.session.name;
  const c = acc.course!;
  for (let i = start; i < end; i++) {
    const s = statsSessionSeed(seed, i);
    const view: CourseView = { dosed: false, read: false, severe: false, events: new Set(), sbp180: false, dbp110: false, rise40: false, rise25: false };
    const outcomes = new Set<string>();
    const facts: SessionFacts = { fired: new Set(), paused: false, violation: false };
    let age = 0;
    for (let j = 1; j <= c.length; j++) {
      // After a severe episode the calibrated model's next sessions are managed (parameters.ts MANAGEMENT).
      const scenario = calibratedModel(ir, { session: name, seed: s, profile: plan.profile, participants: 1, sessionIndex: j, afterSevereEpisode: view.severe, ...(plan.staff ? { staff: plan.staff } : {}) });
      const trace = simulate(ir, { session: name, scenario, seed: courseSessionSeed(s, j), stepper: 'engine', lean: true, leanReadings: plan.readings });
      const v = addSession(acc, plan, trace, j, undefined, facts)[0]!;
      age = v.profile.age;
      outcomes.add(v.outcome ?? 'none');
      if (v.doseStart === undefined) continue;
      view.dosed = true;
      for (const [kind, event] of Object.entries(plan.events)) if (event !== undefined && v.firstEvent.has(event)) view.events.add(kind);
      if (v.pre.sbp === undefined || v.post === 0) continue;
      view.read = true;
      addMoment(c.riseByIndex[j - 1]!, v.maxSbp - v.pre.sbp);
      if (v.severe) {
        c.severeByIndex[j - 1]!++;
        view.severe = true;
      }
      view.sbp180 ||= v.sbp180;
      view.dbp110 ||= v.dbp110;
      view.rise40 ||= v.rise40;
      view.rise25 ||= v.rise25;
    }
    c.patients++;
    for (const o of outcomes) c.outcomes[o]!++;
    if (outcomes.size === 1 && outcomes.has('discharged')) c.allDischarged++;
    for (const rule of facts.fired) if (c.rules[rule] !== undefined) c.rules[rule]!++;
    if (facts.paused) c.paused++;
    if (facts.violation) c.violations++;
    if (view.dosed) {
      c.dosed++;
      for (const kind of Object.keys(c.events)) if (view.events.has(kind)) c.events[kind]!++;
    }
    if (view.read) {
      c.read++;
      if (view.severe) c.severePatients++;
      const st = age < 65 ? c.under65 : c.over65;
      st.n++;
      if (view.sbp180) st.sbp180++;
      if (view.dbp110) st.dbp110++;
      if (view.rise40) st.rise40++;
      if (view.rise25) st.rise25++;
    }
    progress?.();
  }
}

/** Simulates sessions (in course mode: participants' courses) [start, end) into a fresh accumulator, in index order. */
function runRange(ir: IR, plan: Plan, seed: number, start: number, end: number, progress?: () => void): StatsAccumulator {
  const acc = emptyAccumulator(plan);
  if (plan.course !== undefined) {
    runCourses(ir, plan, acc, seed, start, end, progress);
    return acc;
  }
  const name = plan.session.name;
  const { profile, participants, staff } = plan;
  for (let i = start; i < end; i++) {
    const s = statsSessionSeed(seed, i);
    // Literals without spreads (a spread takes V8's slow path, once per session here).
    const scenario = calibratedModel(
      ir,
      staff ? { session: name, seed: s, profile, participants, staff } : { session: name, seed: s, profile, participants },
    );
    const trace = simulate(ir, { session: name, scenario, seed: s, stepper: 'engine', lean: true, leanReadings: plan.readings });
    addSession(acc, plan, trace, 1, i);
    progress?.();
  }
  return acc;
}

// ── Worker-side entry (used by stats-worker.ts) ─────────────────────────

/** Messages between `runStats` and stats-worker.ts. */
export type StatsWorkerRequest = { readonly type: 'chunk'; readonly index: number; readonly start: number; readonly end: number } | { readonly type: 'close' };
export type StatsWorkerReply =
  | { readonly type: 'progress'; readonly sessions: number }
  | { readonly type: 'result'; readonly index: number; readonly acc: StatsAccumulator }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly stack?: string };
export interface StatsWorkerData {
  readonly ir: IR;
  readonly seed: number;
  readonly session?: string;
  readonly profile?: IvProfile;
  readonly participants?: number;
  readonly course?: boolean;
  readonly staff?: StatsOptions['staff'];
}

/** The worker's handler: runs one chunk, reporting progress at most every `PROGRESS_MS`. */
export function statsWorkerHandler(data: StatsWorkerData, post: (m: StatsWorkerReply) => void): (m: StatsWorkerRequest) => void {
  const plan = makePlan(data.ir, data);
  const PROGRESS_MS = 50;
  return (m) => {
    if (m.type !== 'chunk') return;
    try {
      let pending = 0;
      let last = Date.now();
      const acc = runRange(data.ir, plan, data.seed, m.start, m.end, () => {
        pending++;
        const now = Date.now();
        if (now - last >= PROGRESS_MS) {
          post({ type: 'progress', sessions: pending });
          pending = 0;
          last = now;
        }
      });
      if (pending > 0) post({ type: 'progress', sessions: pending });
      post({ type: 'result', index: m.index, acc });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      post({ type: 'error', name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) });
    }
  };
}

/** The worker entry file: next to this module, or in the built dist when this module runs from source (tests). */
export function statsWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../dist/stats-worker.js', here) : new URL('./stats-worker.js', here);
}

/**
 * This process's Node flags without `--conditions @kapspec/source` (the
 * worker is compiled JavaScript, dist or the CLI bundle, and that condition,
 * set by the test runner, would send its imports to TypeScript sources) and
 * without the flags worker threads refuse (`--input-type`, `--eval`).
 */
export function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--conditions' || a === '-C') && argv[i + 1] === '@kapspec/source') {
      i++;
      continue;
    }
    if (a === '--conditions=@kapspec/source' || a === '-C=@kapspec/source') continue;
    // Flags a worker refuses (`node --input-type=module -e …` parents).
    if (a.startsWith('--input-type')) {
      if (a === '--input-type') i++;
      continue;
    }
    if (a === '-e' || a === '--eval' || a === '-p' || a === '--print') {
      i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

// ── runStats ────────────────────────────────────────────────────────────

function checkOptions(options: StatsOptions): void {
  const { sessions, seed } = options;
  if (!Number.isSafeInteger(sessions) || sessions < 1) throw new StatsError(`sessions must be a positive integer, got ${String(sessions)}`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) throw new StatsError(`seed must be an integer from 0 to 4294967295, got ${String(seed)}`);
  const w = options.workers ?? 1;
  if (!Number.isSafeInteger(w) || w < 1) throw new StatsError(`workers must be a positive integer, got ${String(w)}`);
  const c = options.chunkSize ?? STATS_CHUNK_SIZE;
  if (!Number.isSafeInteger(c) || c < 1) throw new StatsError(`chunkSize must be a positive integer, got ${String(c)}`);
}

/** Accumulates all sessions (in this thread or in workers); the raw accumulator, for tests and tools. */
export async function accumulateStats(ir: IR, options: StatsOptions): Promise<StatsAccumulator> {
  checkOptions(options);
  const plan = makePlan(ir, options);
  const total = options.sessions;
  const size = options.chunkSize ?? STATS_CHUNK_SIZE;
  const chunks = Math.ceil(total / size);
  const workers = Math.min(options.workers ?? 1, chunks);
  let done = 0;
  const report = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  const bounds = (k: number) => [k * size, Math.min(total, (k + 1) * size)] as const;
  if (workers <= 1) {
    const acc = emptyAccumulator(plan);
    for (let k = 0; k < chunks; k++) {
      const [a, b] = bounds(k);
      mergeAccumulators(acc, runRange(ir, plan, options.seed, a, b, () => report(1)));
      // Let the event loop breathe between chunks (progress output, signals).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return acc;
  }
  // Fail fast in this thread on options the model refuses.
  calibratedModel(ir, { session: plan.session.name, seed: 0, profile: plan.profile, participants: plan.participants, ...(plan.staff ? { staff: plan.staff } : {}) });
  return runInWorkers(ir, plan, options, workers, chunks, bounds, report);
}

function runInWorkers(
  ir: IR,
  plan: Plan,
  options: StatsOptions,
  count: number,
  chunks: number,
  bounds: (k: number) => readonly [number, number],
  report: (n: number) => void,
): Promise<StatsAccumulator> {
  const data: StatsWorkerData = {
    ir,
    seed: options.seed,
    session: plan.session.name,
    profile: plan.profile,
    participants: plan.participants,
    course: plan.course !== undefined,
    ...(plan.staff ? { staff: plan.staff } : {}),
  };
  const url = options.workerUrl ?? statsWorkerUrl();
  const acc = emptyAccumulator(plan);
  const waiting = new Map<number, StatsAccumulator>();
  let merged = 0; // chunks merged into acc (a prefix)
  let next = 0; // next chunk to hand out
  const window = STATS_WINDOW_PER_WORKER * count;
  const pool: Worker[] = [];
  // Chunks handed to each worker and not yet answered.
  const queued = new Map<Worker, number>();
  return new Promise<StatsAccumulator>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of pool) void w.terminate();
      if (error) reject(error);
      else resolve(acc);
    };
    const dispatch = () => {
      // Round after round: each worker's queue is topped up evenly.
      for (let round = 1; round <= STATS_QUEUE_PER_WORKER; round++) {
        for (const w of pool) {
          if (next >= chunks || next >= merged + window) return;
          if (queued.get(w)! >= round) continue;
          const [start, end] = bounds(next);
          w.postMessage({ type: 'chunk', index: next, start, end } satisfies StatsWorkerRequest);
          queued.set(w, queued.get(w)! + 1);
          next++;
        }
      }
    };
    for (let i = 0; i < count; i++) {
      let w: Worker;
      try {
        w = new Worker(url, {
          workerData: data,
          execArgv: workerExecArgv(),
          resourceLimits: { maxOldGenerationSizeMb: STATS_WORKER_HEAP_MB.oldGeneration, maxYoungGenerationSizeMb: STATS_WORKER_HEAP_MB.youngGeneration },
        });
      } catch (error) {
        finish(new StatsError(`cannot start a stats worker from ${String(url)}: ${error instanceof Error ? error.message : String(error)}`));
        return;
      }
      pool.push(w);
      queued.set(w, 0);
      w.on('message', (m: StatsWorkerReply) => {
        if (settled) return;
        if (m.type === 'progress') report(m.sessions);
        else if (m.type === 'error') {
          const e = new Error(m.message);
          e.name = m.name;
          if (m.stack !== undefined) e.stack = m.stack;
          finish(e);
        } else {
          waiting.set(m.index, m.acc);
          while (waiting.has(merged)) {
            mergeAccumulators(acc, waiting.get(merged)!);
            waiting.delete(merged);
            merged++;
          }
          queued.set(w, queued.get(w)! - 1);
          if (merged === chunks) finish();
          else dispatch();
        }
      });
      w.on('error', (error) => {
        if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
          finish(new StatsError(`a stats worker ran out of its ${STATS_WORKER_HEAP_MB.oldGeneration} MiB heap; run with one worker (workers: 1, --workers 1), which has no such limit`));
        } else finish(error instanceof Error ? error : new Error(String(error)));
      });
      w.on('exit', (code) => {
        if (!settled) finish(new StatsError(`a stats worker stopped (exit code ${code}) before the run was complete`));
      });
    }
    dispatch();
  });
}

/** Runs N sessions and summarises them (see the module comment). */
export async function runStats(ir: IR, options: StatsOptions): Promise<StatsReport> {
  const acc = await accumulateStats(ir, options);
  return buildReport(ir, makePlan(ir, options), options, acc);
}

// ── The report ──────────────────────────────────────────────────────────

export type Interval = readonly [number, number];

export interface StatsReport {
  readonly kapspecStats: typeof STATS_VERSION;
  readonly protocol: string;
  readonly session: string;
  readonly seed: number;
  /** Sessions simulated (with `course`, every session of every participant's course). */
  readonly sessions: number;
  /** Participants per session. */
  readonly participantsPerSession: number;
  /**
   * Distinct participants simulated: `sessions` × `participantsPerSession`
   * (each session draws new people), or with `course` the participants
   * followed through their course (`course.participants`).
   */
  readonly participants: number;
  /**
   * A participant in a session, counted once per session: the denominator
   * of `outcomes`. Equal to `participants` without `course`; with it,
   * `participants` × `course.sessionsPerParticipant`.
   */
  readonly participantSessions: number;
  readonly model: 'calibrated';
  readonly profile: IvProfile;
  /**
   * Share of participant-sessions reaching each outcome (`none`: no outcome
   * by the horizon); rates sum to 1. Without `course` a participant has one
   * session, so these are shares of participants; with `course` they are
   * shares of sessions (see `course.perParticipant` for participants).
   */
  readonly outcomes: readonly { readonly outcome: string; readonly count: number; readonly rate: number; readonly ci: Interval }[];
  /** Per rule, in declaration order: share of sessions in which it fired (Wilson CI) and mean fires per session (normal CI). */
  readonly rules: readonly { readonly rule: string; readonly sessions: number; readonly rate: number; readonly ci: Interval; readonly fires: number; readonly meanFires: number; readonly meanFiresCi: Interval }[];
  readonly pause: {
    readonly sessions: number;
    readonly rate: number;
    readonly ci: Interval;
    /** Minutes paused per session (all sessions, zeros included). */
    readonly meanMinutes: number;
    readonly meanMinutesCi: Interval;
    readonly sdMinutes: number;
    readonly maxMinutes: number;
    /** Quantiles of minutes paused per session, from 1-minute bins (lower bin edge). */
    readonly p50Minutes: number;
    readonly p90Minutes: number;
    readonly p99Minutes: number;
    /** Mean minutes paused among sessions that paused (null when none did). */
    readonly meanMinutesWhenPaused: number | null;
  };
  readonly staff: {
    /** Share of sessions with any staffing violation (Wilson CI). */
    readonly violationSessions: number;
    readonly violationRate: number;
    readonly violationCi: Interval;
    /** Per role: mean over sessions of (person-minutes attending) / (person-minutes present), and sessions with a violation about the role. */
    readonly roles: readonly { readonly role: string; readonly meanShare: number | null; readonly ci: Interval | null; readonly violationSessions: number; readonly violationRate: number; readonly violationCi: Interval }[];
  };
  /** Minutes from the start to the end of the simulated session (outcome, or the horizon). */
  readonly sessionLength: { readonly meanMinutes: number; readonly ci: Interval; readonly sdMinutes: number; readonly minMinutes: number; readonly maxMinutes: number };
  readonly calibration: StatsCalibration;
  /**
   * Course mode only: participants followed through their course, sessions
   * each (`sessions` counts them all), and figures over participants. Every
   * other figure of the report counts sessions; a participant's sessions
   * are not independent (the same person), so the intervals of those
   * figures, which treat them as independent, are narrower than the run
   * supports and are not intervals over participants.
   */
  readonly course?: { readonly participants: number; readonly sessionsPerParticipant: number; readonly perParticipant: StatsPerParticipant };
  /** Only when staff absences were asked for: the rates the calibrated model used. */
  readonly staffAbsences?: { readonly leaveRatePerHour: number; readonly absenceMeanMinutes: number };
  /**
   * The first session of the run that reached each outcome, in which each
   * rule fired, and with a staffing violation about each role (only those
   * that happened), with the seed that simulates it alone (`kapspec
   * simulate --seed`); absent in course mode.
   */
  readonly examples?: { readonly outcomes: readonly StatsExample[]; readonly rules: readonly StatsExample[]; readonly staffing: readonly StatsExample[] };
}

/** How many of the course's participants had something, as a share of them with its Wilson 95 % interval. */
export interface StatsShare {
  readonly participants: number;
  readonly rate: number;
  readonly ci: Interval;
}

/**
 * Figures over the participants of a course run (denominator: every
 * participant followed, `course.participants`). Every session of the course
 * is simulated whatever the one before it ended in.
 */
export interface StatsPerParticipant {
  /** Given a ketamine-like dose in at least one session. */
  readonly dosed: StatsShare;
  /** Discharged in every session of the course. */
  readonly allDischarged: StatsShare;
  /** At least one session reaching each outcome (a participant may have several: they do not sum to 1). */
  readonly outcomes: readonly ({ readonly outcome: string } & StatsShare)[];
  /** Per rule, in declaration order: fired in at least one session. */
  readonly rules: readonly ({ readonly rule: string } & StatsShare)[];
  /** At least one session with a pause. */
  readonly paused: StatsShare;
  /** At least one session with a staffing violation. */
  readonly staffingViolation: StatsShare;
}

/** A session of a `stats` run, to look at on its own. */
export interface StatsExample {
  /** The outcome reached, the rule that fired, or the role of the staffing violation. */
  readonly of: string;
  /** Its number in the run (0-based). */
  readonly session: number;
  /** `statsSessionSeed(seed, session)`: `simulate` with this seed and the calibrated model gives this very session. */
  readonly seed: number;
}

export interface StatsCalibration {
  /** Route of the session's first ketamine-like administration (undefined: none). */
  readonly route: Route | null;
  /**
   * Participants who were dosed, counted once per session (over courses,
   * the dosed sessions), and of them those with a pre-dose and a post-dose
   * blood pressure reading.
   */
  readonly dosed: number;
  readonly withReadings: number;
  readonly rows: readonly StatsCalibrationRow[];
  /** CALIBRATION.md figures of this route that are not computed from single simulated sessions, and why. */
  readonly notComputed: readonly { readonly id: string; readonly figure: string; readonly reason: string }[];
}

export interface StatsCalibrationRow {
  /** CALIBRATION.md row id (IV1 … ES13). */
  readonly id: string;
  readonly figure: string;
  /** null when no session contributed. */
  readonly value: number | null;
  readonly ci: Interval | null;
  /** Participants (sessions) the value is computed over. */
  readonly n: number;
  readonly unit: string;
  /** The published figure as CALIBRATION.md states it (or the model's implied per-session rate, said so). */
  readonly published: string;
  /** The published figure as a number in `unit`, when there is one. */
  readonly publishedValue: number | null;
  /** True when the simulated value measures the same thing as the published one (see `note`). */
  readonly comparable: boolean;
  readonly note: string;
}

const share = (k: number, n: number) => (n > 0 ? k / n : 0);
function meanOf(m: Moments): number | null {
  return m.n > 0 ? m.sum / m.n : null;
}
function sdOf(m: Moments): number {
  if (m.n < 2) return 0;
  return Math.sqrt(Math.max(0, (m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1)));
}
/** Normal 95 % interval of the mean, cut to the observed range (a mean cannot leave [min, max]). */
function meanCi(m: Moments): Interval | null {
  const mean = meanOf(m);
  if (mean === null) return null;
  const h = (Z95 * sdOf(m)) / Math.sqrt(m.n);
  return [Math.max(m.min, mean - h), Math.min(m.max, mean + h)];
}
function ratioOf(a: Moments, b: Moments): { value: number | null; ci: Interval | null; n: number } {
  const ma = meanOf(a);
  const mb = meanOf(b);
  if (ma === null || mb === null || a.n < 2 || b.n < 2 || mb === 0) return { value: null, ci: null, n: a.n + b.n };
  const r = ma / mb;
  const sa = sdOf(a) / Math.sqrt(a.n);
  const sb = sdOf(b) / Math.sqrt(b.n);
  const se = Math.abs(r) * Math.sqrt((sa / ma) ** 2 + (sb / mb) ** 2);
  return { value: r, ci: [r - Z95 * se, r + Z95 * se], n: a.n + b.n };
}
function quantile(hist: readonly number[], total: number, q: number, width = 1): number {
  if (total <= 0) return 0;
  const target = q * total;
  let cum = 0;
  for (let i = 0; i < hist.length; i++) {
    cum += hist[i]!;
    if (cum >= target && hist[i]! > 0) return i * width;
  }
  return (hist.length - 1) * width;
}

function perParticipant(plan: Plan, c: CourseAccumulator): StatsPerParticipant {
  const n = c.patients;
  const of = (k: number): StatsShare => ({ participants: k, rate: share(k, n), ci: wilson(k, n) as Interval });
  return {
    dosed: of(c.dosed),
    allDischarged: of(c.allDischarged),
    outcomes: [...OUTCOMES, 'none'].map((outcome) => ({ outcome, ...of(c.outcomes[outcome] ?? 0) })),
    rules: plan.rules.map((rule) => ({ rule, ...of(c.rules[rule] ?? 0) })),
    paused: of(c.paused),
    staffingViolation: of(c.violations),
  };
}

function buildReport(ir: IR, plan: Plan, options: StatsOptions, acc: StatsAccumulator): StatsReport {
  const N = acc.sessions;
  const P = acc.participantSessions;
  const outcomes = [...OUTCOMES, 'none'].map((o) => {
    const count = acc.outcomes[o] ?? 0;
    return { outcome: o, count, rate: share(count, P), ci: wilson(count, P) as Interval };
  });
  const rules = plan.rules.map((rule) => {
    const r = acc.rules[rule]!;
    const mean = share(r.fires, N);
    const sd = N > 1 ? Math.sqrt(Math.max(0, (r.firesSq - (r.fires * r.fires) / N) / (N - 1))) : 0;
    const h = N > 0 ? (Z95 * sd) / Math.sqrt(N) : 0;
    return { rule, sessions: r.sessions, rate: share(r.sessions, N), ci: wilson(r.sessions, N) as Interval, fires: r.fires, meanFires: mean, meanFiresCi: [Math.max(0, mean - h), mean + h] as Interval };
  });
  const pm = acc.pause.minutes;
  const pauseMean = meanOf(pm) ?? 0;
  const pauseCi = meanCi(pm) ?? [0, 0];
  const pause = {
    sessions: acc.pause.sessions,
    rate: share(acc.pause.sessions, N),
    ci: wilson(acc.pause.sessions, N) as Interval,
    meanMinutes: pauseMean,
    meanMinutesCi: [Math.max(0, pauseCi[0]), pauseCi[1]] as Interval,
    sdMinutes: sdOf(pm),
    maxMinutes: pm.n > 0 ? pm.max : 0,
    p50Minutes: quantile(acc.pause.histogram, N, 0.5),
    p90Minutes: quantile(acc.pause.histogram, N, 0.9),
    p99Minutes: quantile(acc.pause.histogram, N, 0.99),
    meanMinutesWhenPaused: acc.pause.sessions > 0 ? pm.sum / acc.pause.sessions : null,
  };
  const staff = {
    violationSessions: acc.violations,
    violationRate: share(acc.violations, N),
    violationCi: wilson(acc.violations, N) as Interval,
    roles: plan.roles.map((role) => {
      const s = acc.staff[role]!;
      return { role, meanShare: meanOf(s.share), ci: meanCi(s.share), violationSessions: s.violations, violationRate: share(s.violations, N), violationCi: wilson(s.violations, N) as Interval };
    }),
  };
  const lm = acc.length;
  const sessionLength = { meanMinutes: meanOf(lm) ?? 0, ci: meanCi(lm) ?? ([0, 0] as Interval), sdMinutes: sdOf(lm), minMinutes: lm.n > 0 ? lm.min : 0, maxMinutes: lm.n > 0 ? lm.max : 0 };
  return {
    kapspecStats: STATS_VERSION,
    protocol: ir.protocol.title,
    session: plan.session.name,
    seed: options.seed,
    sessions: N,
    participantsPerSession: plan.participants,
    participants: acc.course !== null ? acc.course.patients : P,
    participantSessions: P,
    model: 'calibrated',
    profile: plan.profile,
    outcomes,
    rules,
    pause,
    staff,
    sessionLength,
    calibration: calibrationRows(plan, acc),
    ...(acc.course !== null ? { course: { participants: acc.course.patients, sessionsPerParticipant: acc.course.length, perParticipant: perParticipant(plan, acc.course) } } : {}),
    ...(plan.staff
      ? { staffAbsences: { leaveRatePerHour: plan.staff.leaveRatePerHour ?? STAFF.leaveRatePerHour.value, absenceMeanMinutes: plan.staff.absenceMeanMinutes ?? STAFF.absenceMeanMinutes.value } }
      : {}),
    ...(acc.examples !== null
      ? {
          examples: {
            outcomes: examplesOf(acc.examples.outcomes, options.seed),
            rules: examplesOf(acc.examples.rules, options.seed),
            staffing: examplesOf(acc.examples.staffing, options.seed),
          },
        }
      : {}),
  };
}

/** The sessions found (index >= 0), in the order of `first`'s keys, with their seeds. */
function examplesOf(first: Readonly<Record<string, number>>, seed: number): StatsExample[] {
  const out: StatsExample[] = [];
  for (const [of, session] of Object.entries(first)) if (session >= 0) out.push({ of, session, seed: statsSessionSeed(seed, session) });
  return out;
}

function calibrationRows(plan: Plan, acc: StatsAccumulator): StatsCalibration {
  const v = acc.vitals;
  const course = plan.course;
  const rows: StatsCalibrationRow[] = [];
  const notComputed: { id: string; figure: string; reason: string }[] = [];
  const base = { route: plan.anyRoute ?? null, dosed: v.dosed, withReadings: v.read };
  if (plan.route === undefined) {
    const reason = plan.anyRoute === undefined ? 'the session administers no ketamine-like drug' : `CALIBRATION.md has no figures for the ${plan.anyRoute} route (only IV racemic ketamine and intranasal esketamine)`;
    notComputed.push({ id: '—', figure: 'every CALIBRATION.md figure', reason });
    return { ...base, rows, notComputed };
  }
  const win = plan.window;
  const readingNote = `max of this protocol's readings from the first dose to ${win} min after it, minus the last reading at or before the dose (readings as the protocol schedules them; pauses, stops and deferrals change who is dosed and how much)`;
  const mean = (m: Moments) => ({ value: meanOf(m), ci: meanCi(m), n: m.n });
  const prop = (k: number, n: number) => ({ value: n > 0 ? k / n : null, ci: n > 0 ? (wilson(k, n) as Interval) : null, n });
  const peakMinute = (): { value: number | null; n: number } => {
    let best = -1;
    let bestMean = -Infinity;
    for (let i = 1; i < v.byMinuteN.length; i++) {
      const n = v.byMinuteN[i]!;
      // Reading times most sessions share (at least a tenth of the readers), not stray ones.
      if (n === 0 || n < 0.1 * v.read) continue;
      const m = v.byMinuteSum[i]! / n;
      if (m > bestMean) {
        bestMean = m;
        best = i;
      }
    }
    return { value: best >= 0 ? best : null, n: v.read };
  };
  if (plan.route === 'iv') {
    const regimen = plan.session.stages.flatMap((s) => s.administer).find((a) => plan.drugs.includes(a.drug));
    const reference = regimen !== undefined && regimen.route === 'iv' && regimen.dose.unit === 'mg/kg' && regimen.dose.value === 0.5 && regimen.delivery.kind === 'over' && regimen.delivery.minutes === 40;
    const regimenNote = reference ? 'same regimen (0.5 mg/kg over 40 min)' : 'NOT the cohorts’ regimen of 0.5 mg/kg over 40 min';
    const yale = plan.profile === 'yale';
    const profileNote = yale ? '' : '; the cohort741 profile is simulated, whose own figure is IV5';
    rows.push(
      { id: 'IV1', figure: 'mean peak SBP rise', ...mean(v.sbpRise), unit: 'mmHg', published: '+16.0 mmHg (SD 11.2), 2,342 infusions', publishedValue: 16.0, comparable: reference && yale, note: `${regimenNote}${profileNote}; ${readingNote}; Yale read every 10 min during the infusion, every 15 min after` },
      { id: 'IV1', figure: 'SD of peak SBP rise', value: v.sbpRise.n > 1 ? sdOf(v.sbpRise) : null, ci: null, n: v.sbpRise.n, unit: 'mmHg', published: '11.2 mmHg', publishedValue: 11.2, comparable: reference && yale, note: 'as above' },
      { id: 'IV2', figure: 'mean peak DBP rise', ...mean(v.dbpRise), unit: 'mmHg', published: '+11.0 mmHg (SD 8.45), 2,342 infusions', publishedValue: 11.0, comparable: reference && yale, note: 'as IV1, diastolic' },
      { id: 'IV2', figure: 'SD of peak DBP rise', value: v.dbpRise.n > 1 ? sdOf(v.dbpRise) : null, ci: null, n: v.dbpRise.n, unit: 'mmHg', published: '8.45 mmHg', publishedValue: 8.45, comparable: reference && yale, note: 'as above' },
      { id: 'IV3', figure: 'time of BP peak (reading time with the largest mean SBP rise)', ...peakMinute(), ci: null, unit: 'min', published: '40 min after infusion start (30–40 in other cohorts)', publishedValue: 40, comparable: reference, note: 'minutes after the first dose, among reading times shared by at least 10 % of the dosed sessions: only as fine as the protocol’s reading schedule' },
      { id: 'IV4', figure: 'severe hypertensive episodes per infusion', ...prop(v.severe, v.read), unit: 'fraction', published: '0.98 % (23/2,342)', publishedValue: 23 / 2342, comparable: reference && yale, note: `any reading within ${win} min of the dose with SBP ≥ ${SEVERE_HYPERTENSION.sbp.value} or DBP ≥ ${SEVERE_HYPERTENSION.dbp.value} (the threshold is a fitted parameter: Yale did not publish it); ${course === undefined ? 'first session of a course (Yale: 17 per patient, later ones managed)' : `every session of ${course}-session courses (after a severe episode the next ones are managed; Yale: 17 per patient)`}` },
    );
    if (!yale) {
      rows.push(
        { id: 'IV5', figure: 'mean SBP rise at the 40-min reading', ...mean(v.rise40.sbp), unit: 'mmHg', published: '+7.4 mmHg (741-infusion cohort)', publishedValue: 7.4, comparable: reference, note: 'sessions with a reading 40 min after the dose (the cohort’s definition of peak rise is not published)' },
        { id: 'IV5', figure: 'mean DBP rise at the 40-min reading', ...mean(v.rise40.dbp), unit: 'mmHg', published: '+6.0 mmHg', publishedValue: 6.0, comparable: reference, note: 'as above' },
        { id: 'IV5', figure: 'mean pulse rise at the 40-min reading', ...mean(v.rise40.hr), unit: 'bpm', published: '+1.9 bpm', publishedValue: 1.9, comparable: reference, note: 'as above' },
      );
    }
    rows.push(
      { id: 'IV6', figure: 'mean peak SBP rise (meta-analysis)', ...mean(v.sbpRise), unit: 'mmHg', published: '+12.6 mmHg (95 % CI 10.4–14.8)', publishedValue: 12.6, comparable: false, note: 'a pooled figure across cohorts, not claimed: the yale and cohort741 profiles bracket it' },
      { id: 'IV8', figure: 'infusions discontinued (stopped by a rule or by the session ending while running)', ...prop(v.discontinued, v.dosed), unit: 'fraction', published: '0 of 684 infusions', publishedValue: 0, comparable: false, note: 'a protocol outcome: this protocol’s stop rules against Riva-Posse’s (not published), with every discontinuation counted, not only those for vitals or psychotomimetic effects' },
    );
    const age = ratioOf(v.older, v.younger);
    rows.push({ id: 'IV9', figure: 'peak SBP rise, age ≥ 50 / < 50', ...age, unit: 'ratio', published: 'larger with age ≥ 50', publishedValue: null, comparable: true, note: 'direction only (ratio > 1)' });
    if (plan.htnFlag !== undefined) {
      rows.push({ id: 'IV9', figure: 'peak SBP rise, hypertension history / none', ...ratioOf(v.htn, v.noHtn), unit: 'ratio', published: 'larger with hypertension history', publishedValue: null, comparable: true, note: `direction only; history from the caution flag \`${plan.htnFlag}\`` });
    } else notComputed.push({ id: 'IV9', figure: 'rise with hypertension history', reason: 'the protocol declares no hypertension caution flag, so the trace does not say who has the history' });
    if (plan.events.dissociation !== undefined) {
      rows.push({ id: 'IV9', figure: 'peak SBP rise, sessions with dissociation / without', ...ratioOf(v.dissociation, v.noDissociation), unit: 'ratio', published: 'larger with dissociation', publishedValue: null, comparable: true, note: 'direction only; dissociation = the declared event was observed' });
    } else notComputed.push({ id: 'IV9', figure: 'rise with dissociation', reason: 'the protocol declares no dissociation event, so the trace does not show it' });
    const c = acc.course;
    if (c !== null) {
      const yaleCourse = c.length >= 17;
      const courseNote = `${c.length} sessions per participant${yaleCourse ? '' : ' (Yale’s patients had 17 infusions on average, so fewer episodes are expected: not comparable)'}`;
      const episodes = c.severeByIndex.reduce((x, y) => x + y, 0);
      const early = c.severeByIndex.slice(0, 3).reduce((x, y) => x + y, 0);
      rows.push(
        { id: 'IV4', figure: 'participants with a severe episode over the course', ...prop(c.severePatients, c.read), unit: 'fraction', published: '12.5 % of patients (17/138)', publishedValue: 17 / 138, comparable: reference && yale && yaleCourse, note: `${courseNote}; participants with readings in at least one session` },
        { id: 'IV4', figure: 'severe episodes within the first 3 sessions of the course', ...prop(early, episodes), unit: 'fraction', published: '43 % of episodes (10/23)', publishedValue: 10 / 23, comparable: reference && yale && yaleCourse, note: courseNote },
      );
      const last = Math.min(6, c.length);
      if (last >= 2) {
        rows.push({ id: 'IV10', figure: `peak SBP rise, session ${last} / session 1`, ...ratioOf(c.riseByIndex[last - 1]!, c.riseByIndex[0]!), unit: 'ratio', published: 'no attenuation across infusions 1–6', publishedValue: 1, comparable: reference && last === 6, note: `${regimenNote}; sessions with readings at each place in the course${last === 6 ? '' : ` (the course has ${c.length} sessions, not 6)`}` });
      } else notComputed.push({ id: 'IV10', figure: 'no attenuation across infusions 1–6', reason: 'the course gives this session once' });
    } else {
      notComputed.push(
        { id: 'IV4', figure: 'patients with a severe episode over the course; episodes within the first 3 infusions', reason: 'course figures: run stats with --course' },
        { id: 'IV10', figure: 'no attenuation across infusions 1–6', reason: 'course figure: run stats with --course' },
      );
    }
    notComputed.push(
      { id: 'IV7', figure: 'return to baseline within 90 min of the infusion end', reason: 'needs the drug-induced part of the true SBP, which a trace does not separate from baseline variation (docs/calibration.md computes it from the model)' },
      { id: 'IV9', figure: 'odds ratio per year of age', reason: 'a logistic regression over Yale’s patients, not a rate stats can count (docs/calibration.md checks it on the model)' },
    );
    return { ...base, rows, notComputed };
  }
  // Intranasal.
  const regimen = plan.session.stages.flatMap((s) => s.administer).find((a) => plan.drugs.includes(a.drug));
  const labelDose = regimen !== undefined && /esketamine/i.test(regimen.drug) && regimen.dose.unit === 'mg' && (regimen.dose.value === 56 || regimen.dose.value === 84);
  const doseNote = labelDose ? 'label dose' : 'NOT the label’s 56/84 mg esketamine';
  for (const kind of [...COURSE_KINDS] as CourseKind[]) {
    const e = v.events[kind];
    const name = plan.events[kind];
    if (!e || name === undefined) {
      notComputed.push({ id: ES_ROW[kind], figure: kind, reason: `the protocol declares no ${kind} event, so the trace does not show it` });
      continue;
    }
    const implied = v.dosed > 0 ? e.expected / v.dosed : null;
    rows.push({
      id: ES_ROW[kind],
      figure: `${kind} (event \`${name}\`), per dosed session`,
      ...prop(e.count, v.dosed),
      unit: 'fraction',
      published: `model: ${implied === null ? '—' : `${(implied * 100).toFixed(1)} %`} per ${course === undefined ? 'first session' : 'session'} (from ${Math.round(100 * perPatient(kind))} % of patients over 8 sessions)`,
      publishedValue: implied,
      comparable: true,
      note: `${doseNote}; the published figure is per patient over the 8-session induction: compared with the per-session probability the model derives from it (${course === undefined ? 'session 1 of a course' : `averaged over the places in ${course}-session courses`}, this dose); events after the session ended are not observed`,
    });
  }
  const sed = v.events['sedation'];
  if (sed && plan.events.sedation !== undefined) {
    rows.push({ id: 'ES13', figure: `observed sedation (event \`${plan.events.sedation}\`), per dosed session`, ...prop(sed.count, v.dosed), unit: 'fraction', published: '34.7 % of sessions (REMS)', publishedValue: 0.347, comparable: true, note: `${doseNote}; REMS sessions are of every course position, ${course === undefined ? 'these are first sessions' : `these are all sessions of ${course}-session courses`} (the model’s per-session rate at this dose: ${v.dosed > 0 ? ((100 * sed.expected) / v.dosed).toFixed(1) : '—'} %)` });
    const total = v.sedationOnset.reduce((s, x) => s + x, 0);
    rows.push({ id: 'ES12', figure: 'sedation onset after dosing (median)', value: total > 0 ? quantile(v.sedationOnset, total, 0.5, ONSET_BIN_MINUTES) + ONSET_BIN_MINUTES / 2 : null, ci: null, n: total, unit: 'min', published: '~15 min', publishedValue: 15, comparable: true, note: `from ${ONSET_BIN_MINUTES}-min bins` });
  } else notComputed.push({ id: 'ES13', figure: 'observed sedation', reason: 'the protocol declares no sedation event' });
  rows.push({ id: 'ES12', figure: 'time of BP peak (reading time with the largest mean SBP rise)', ...peakMinute(), ci: null, unit: 'min', published: '~40 min after dosing', publishedValue: 40, comparable: true, note: 'only as fine as the protocol’s reading schedule' });
  const u = v.under65;
  const o = v.over65;
  const perSession = 'per dosed session; the label counts patients over 8 sessions, so a per-session share is lower: not comparable';
  // Over courses these rows stand next to the per-participant ones: their names say which is which.
  const unit = course === undefined ? '' : ', per dosed session';
  rows.push(
    { id: 'ES8', figure: `SBP ≥ 180 mmHg, age < 65${unit}`, ...prop(u.sbp180, u.n), unit: 'fraction', published: '3 % of patients', publishedValue: 0.03, comparable: false, note: perSession },
    { id: 'ES9', figure: `DBP ≥ 110 mmHg, age < 65${unit}`, ...prop(u.dbp110, u.n), unit: 'fraction', published: '4 % of patients', publishedValue: 0.04, comparable: false, note: perSession },
    { id: 'ES10', figure: `SBP rise ≥ 40 mmHg, age < 65${unit}`, ...prop(u.rise40, u.n), unit: 'fraction', published: '8 % of patients', publishedValue: 0.08, comparable: false, note: perSession },
    { id: 'ES10', figure: `SBP rise ≥ 40 mmHg, age ≥ 65${unit}`, ...prop(o.rise40, o.n), unit: 'fraction', published: '17 % of patients', publishedValue: 0.17, comparable: false, note: perSession },
    { id: 'ES11', figure: `DBP rise ≥ 25 mmHg, age < 65${unit}`, ...prop(u.rise25, u.n), unit: 'fraction', published: '13 % of patients', publishedValue: 0.13, comparable: false, note: perSession },
    { id: 'ES11', figure: `DBP rise ≥ 25 mmHg, age ≥ 65${unit}`, ...prop(o.rise25, o.n), unit: 'fraction', published: '14 % of patients', publishedValue: 0.14, comparable: false, note: perSession },
  );
  const c = acc.course;
  if (c !== null) {
    const induction = c.length === 8;
    const courseNote = `${doseNote}; per participant over ${c.length}-session courses${induction ? '' : ' (the label counts patients over the 8-session induction: not comparable)'}`;
    for (const kind of COURSE_KINDS) {
      const n = c.events[kind];
      if (n === undefined) continue;
      rows.push({ id: ES_ROW[kind], figure: `${kind} (event \`${plan.events[kind]}\`), per participant over the course`, ...prop(n, c.dosed), unit: 'fraction', published: `${Math.round(100 * perPatient(kind))} % of patients`, publishedValue: perPatient(kind), comparable: labelDose && induction, note: courseNote });
    }
    if (c.events['sedation'] !== undefined) {
      rows.push({ id: 'ES13', figure: `observed sedation (event \`${plan.events.sedation}\`), per participant over the course`, ...prop(c.events['sedation'], c.dosed), unit: 'fraction', published: '61.9 % of patients (REMS)', publishedValue: 0.619, comparable: labelDose && induction, note: courseNote });
    }
    const cu = c.under65;
    const co = c.over65;
    rows.push(
      { id: 'ES8', figure: 'SBP ≥ 180 mmHg in some session, age < 65, per participant', ...prop(cu.sbp180, cu.n), unit: 'fraction', published: '3 % of patients', publishedValue: 0.03, comparable: labelDose && induction, note: courseNote },
      { id: 'ES9', figure: 'DBP ≥ 110 mmHg in some session, age < 65, per participant', ...prop(cu.dbp110, cu.n), unit: 'fraction', published: '4 % of patients', publishedValue: 0.04, comparable: labelDose && induction, note: courseNote },
      { id: 'ES10', figure: 'SBP rise ≥ 40 mmHg in some session, age < 65, per participant', ...prop(cu.rise40, cu.n), unit: 'fraction', published: '8 % of patients', publishedValue: 0.08, comparable: labelDose && induction, note: courseNote },
      { id: 'ES10', figure: 'SBP rise ≥ 40 mmHg in some session, age ≥ 65, per participant', ...prop(co.rise40, co.n), unit: 'fraction', published: '17 % of patients', publishedValue: 0.17, comparable: labelDose && induction, note: courseNote },
      { id: 'ES11', figure: 'DBP rise ≥ 25 mmHg in some session, age < 65, per participant', ...prop(cu.rise25, cu.n), unit: 'fraction', published: '13 % of patients', publishedValue: 0.13, comparable: labelDose && induction, note: courseNote },
      { id: 'ES11', figure: 'DBP rise ≥ 25 mmHg in some session, age ≥ 65, per participant', ...prop(co.rise25, co.n), unit: 'fraction', published: '14 % of patients', publishedValue: 0.14, comparable: labelDose && induction, note: courseNote },
    );
  } else {
    notComputed.push({ id: 'ES1–ES13', figure: 'per-patient figures over the induction', reason: 'course figures: run stats with --course' });
  }
  notComputed.push(
    { id: 'ES4', figure: 'sedation as a reported adverse reaction', reason: 'the trace shows observed sedation (ES13); which of it the trials reported is not in the trace' },
    { id: 'ES1–ES11', figure: 'placebo columns', reason: 'stats simulates the drug arm only' },
    { id: 'ES12', figure: 'BP back to pre-dose by 2 h; dissociation resolved by 90 min', reason: 'needs the drug-induced part of the true values, which a trace does not separate from baseline variation' },
  );
  return { ...base, rows, notComputed };
}

function perPatient(kind: CourseKind): number {
  return PER_PATIENT[kind].drug.value;
}

// ── Flat figures (text table, CSV) ──────────────────────────────────────

export interface StatsFigure {
  /** `participants`: course mode only, figures over participants (the others count sessions). */
  readonly section: 'outcomes' | 'rules' | 'pause' | 'staff' | 'session' | 'participants' | 'calibration';
  readonly name: string;
  readonly value: number | null;
  readonly ciLow: number | null;
  readonly ciHigh: number | null;
  /** The published figure's text, when there is one (calibration rows). */
  readonly published: string | null;
  /** The published figure as a number in `unit`, when there is one. */
  readonly publishedValue: number | null;
  readonly unit: string;
  /** Calibration rows: comparable with the published figure. */
  readonly comparable?: boolean;
}

/** Every figure of a report as one flat list, in report order (text and CSV output). */
export function statsFigures(report: StatsReport): StatsFigure[] {
  const out: StatsFigure[] = [];
  const f = (section: StatsFigure['section'], name: string, value: number | null, ci: Interval | null, unit: string, extra: Partial<StatsFigure> = {}) =>
    out.push({ section, name, value, ciLow: ci?.[0] ?? null, ciHigh: ci?.[1] ?? null, published: null, publishedValue: null, unit, ...extra });
  // With --course the outcomes are shares of sessions, and their names say so (the CSV has no section titles).
  const course = report.course;
  const sessionOutcome = (o: string) => (o === 'none' ? 'sessions without an outcome' : `sessions ${o}`);
  for (const o of report.outcomes) f('outcomes', course ? sessionOutcome(o.outcome) : o.outcome, o.rate, o.ci, 'fraction');
  for (const r of report.rules) {
    f('rules', `${r.rule}: sessions fired`, r.rate, r.ci, 'fraction');
    f('rules', `${r.rule}: fires per session`, r.meanFires, r.meanFiresCi, 'fires');
  }
  const p = report.pause;
  f('pause', 'sessions paused', p.rate, p.ci, 'fraction');
  f('pause', 'minutes paused per session (mean)', p.meanMinutes, p.meanMinutesCi, 'min');
  f('pause', 'minutes paused per session (SD)', p.sdMinutes, null, 'min');
  f('pause', 'minutes paused per session (median)', p.p50Minutes, null, 'min');
  f('pause', 'minutes paused per session (90th percentile)', p.p90Minutes, null, 'min');
  f('pause', 'minutes paused per session (99th percentile)', p.p99Minutes, null, 'min');
  f('pause', 'minutes paused per session (max)', p.maxMinutes, null, 'min');
  f('pause', 'minutes paused when paused (mean)', p.meanMinutesWhenPaused, null, 'min');
  f('staff', 'sessions with a staffing violation', report.staff.violationRate, report.staff.violationCi, 'fraction');
  for (const r of report.staff.roles) {
    f('staff', `${r.role}: share of time attending`, r.meanShare, r.ci, 'fraction');
    f('staff', `${r.role}: sessions with a violation`, r.violationRate, r.violationCi, 'fraction');
  }
  const l = report.sessionLength;
  f('session', 'length (mean)', l.meanMinutes, l.ci, 'min');
  f('session', 'length (SD)', l.sdMinutes, null, 'min');
  f('session', 'length (min)', l.minMinutes, null, 'min');
  f('session', 'length (max)', l.maxMinutes, null, 'min');
  if (course) {
    const pp = course.perParticipant;
    const g = (name: string, x: StatsShare) => f('participants', name, x.rate, x.ci, 'fraction');
    g('participants dosed in at least one session', pp.dosed);
    g('participants discharged in every session', pp.allDischarged);
    for (const o of pp.outcomes) g(`participants with at least one session ${o.outcome === 'none' ? 'without an outcome' : o.outcome}`, o);
    for (const r of pp.rules) g(`${r.rule}: participants with at least one firing`, r);
    g('participants with at least one session paused', pp.paused);
    g('participants with at least one staffing violation', pp.staffingViolation);
  }
  for (const r of report.calibration.rows) {
    f('calibration', `${r.id} ${r.figure}`, r.value, r.ci, r.unit, { published: r.published, publishedValue: r.publishedValue, comparable: r.comparable });
  }
  return out;
}
