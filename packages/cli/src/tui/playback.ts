/**
 * Playback of a pre-computed simulation trace, without React: what the
 * session view shows at a point of the trace (`sceneAt`), and the playback
 * state machine the keys and the timer drive (`playReducer`).
 *
 * The cursor is a count of trace records applied; the clock is the session
 * minute shown. A timer tick moves the clock by speed × real time and applies
 * every record at or before it; a step (→) applies records up to and
 * including the next one that makes a log line, plus the records of that
 * instant that do not (the state after it), so one step adds exactly one
 * happening. Semantics of stage, pause, staff and dose follow the simulator's
 * joint view (packages/simulator/src/joint.ts).
 */
import type { IR, MeasureDecl, Session } from '@kapspec/runtime';
import { describeEmitted, type EmitRecord, type Trace, type TraceRecord } from '@kapspec/simulator';
import { ruleThresholds, type Threshold } from './thresholds.js';

// ── What is shown ────────────────────────────────────────────────────────

export interface Playback {
  readonly ir: IR;
  readonly session: Session;
  readonly trace: Trace;
  readonly group: boolean;
  /** Participant ids in header order (an individual trace without one: `participant`). */
  readonly participants: readonly string[];
  /** Measures shown, in declaration order: those the trace samples or observes. */
  readonly measures: readonly MeasureDecl[];
  readonly thresholds: ReadonlyMap<string, readonly Threshold[]>;
  /** Per record: whether it makes a log line (the unit of a step). */
  readonly happening: readonly boolean[];
  /** Time of the last record. */
  readonly end: number;
}

export type LogKind = 'event' | 'rule' | 'action' | 'stage' | 'staff' | 'alert' | 'outcome';

export interface LogLine {
  readonly t: number;
  /** Participants the line is about (group sessions), merged when several at one instant did the same. */
  readonly who: readonly string[];
  readonly text: string;
  readonly kind: LogKind;
}

export type StageStatus = 'done' | 'current' | 'pending' | 'skipped';
export interface StageMark {
  readonly name: string;
  readonly status: StageStatus;
  /** The current stage, paused (for a group: by these participants). */
  readonly pausedBy: readonly string[];
}

export interface OutcomeInfo {
  readonly t: number;
  readonly outcome: 'discharged' | 'deferred' | 'ended' | 'escalated';
  readonly reason?: string;
  readonly rule?: string;
}

export interface Sample {
  readonly t: number;
  readonly v: number;
}

export interface ParticipantScene {
  readonly id: string;
  /** The participant's stage (undefined before the first and after the outcome). */
  readonly stage: string | undefined;
  readonly paused: readonly string[];
  readonly outcome: OutcomeInfo | undefined;
  /** All true samples and observations so far, by measure (time order). */
  readonly truth: Readonly<Record<string, readonly Sample[]>>;
  readonly seen: Readonly<Record<string, readonly Sample[]>>;
  readonly dose: Readonly<Record<string, number>>;
  /** Being attended now: role and until when. */
  readonly attended: readonly { readonly role: string; readonly until: number }[];
}

export interface StaffRow {
  readonly role: string;
  readonly free: number;
  readonly attending: number;
  readonly absent: number;
  /** Who is attended now, by whom until when. */
  readonly assignments: readonly { readonly participant: string; readonly until: number }[];
}

export interface Scene {
  readonly t: number;
  readonly stages: readonly StageMark[];
  /** The common stage (undefined before the first and once the session is over). */
  readonly stage: string | undefined;
  readonly participants: readonly ParticipantScene[];
  readonly staff: readonly StaffRow[];
  readonly log: readonly LogLine[];
  /** Every record has been applied. */
  readonly finished: boolean;
  /** The simulation stopped at its time horizon with the session still open. */
  readonly horizon: boolean;
}

export function makePlayback(ir: IR, trace: Trace): Playback {
  const session = ir.sessions.find((s) => s.name === trace.header.session) ?? ir.sessions[0];
  if (!session) throw new Error('the protocol declares no session');
  const group = ir.setting.mode === 'group' || trace.header.participants.length > 1;
  const participants = trace.header.participants.length ? trace.header.participants.map((p) => p.id) : ['participant'];
  const sampled = new Set<string>();
  for (const p of trace.header.participants) for (const m of Object.keys(p.baseline)) sampled.add(m);
  for (const r of trace.records) if (r.type === 'truth' || r.type === 'observe') for (const m of Object.keys(r.values)) sampled.add(m);
  const declared = ir.measures.filter((m) => sampled.has(m.name));
  const happening = trace.records.map((r) => describe(r, group) !== undefined);
  const last = trace.records[trace.records.length - 1];
  return {
    ir,
    session,
    trace,
    group,
    participants,
    measures: declared.length ? declared : ir.measures,
    thresholds: ruleThresholds(session),
    happening,
    end: last ? last.t : 0,
  };
}

// ── Log lines ────────────────────────────────────────────────────────────

function participantOf(r: TraceRecord): string | undefined {
  if (r.type === 'emit') return r.event['participant'] as string | undefined;
  return (r as { participant?: string }).participant;
}

/** The log line a record makes (undefined for truth samples, readings, requests and states). */
export function describe(r: TraceRecord, group: boolean): { text: string; kind: LogKind } | undefined {
  switch (r.type) {
    case 'truth':
    case 'observe':
    case 'request':
    case 'state':
      return undefined;
    case 'event':
      return { text: `EVENT ${r.name}`, kind: 'event' };
    case 'staff':
      return { text: `a ${r.role} ${r.action === 'arrive' ? 'arrives' : 'is called away'}`, kind: 'staff' };
    case 'outcome':
      return {
        text: `OUTCOME ${r.outcome}${r.reason ? ` (${r.reason})` : ''}${r.rule ? ` [rule ${r.rule}]` : ''}`,
        kind: 'outcome',
      };
    case 'end':
      return { text: r.reason === 'horizon' ? 'simulation stopped (time horizon)' : 'session over', kind: 'outcome' };
    case 'emit':
      return describeEmit(r, group);
  }
}

function describeEmit(r: EmitRecord, group: boolean): { text: string; kind: LogKind } {
  const { text, tone } = describeEmitted(r.event, { group });
  return { text, kind: tone === 'warn' ? 'alert' : tone };
}

// ── The scene at a cursor ────────────────────────────────────────────────

interface PState {
  stage: string | undefined;
  paused: Set<string>;
  outcome: OutcomeInfo | undefined;
  truth: Record<string, Sample[]>;
  seen: Record<string, Sample[]>;
  dose: Record<string, number>;
}

/** What the view shows once `cursor` records are applied, at session minute `t` (≥ the last applied record's time). */
export function sceneAt(p: Playback, cursor: number, t: number): Scene {
  const { trace, group } = p;
  const recs = trace.records;
  const n = Math.max(0, Math.min(cursor, recs.length));
  const ps = new Map<string, PState>();
  for (const id of p.participants) ps.set(id, { stage: undefined, paused: new Set(), outcome: undefined, truth: {}, seen: {}, dose: {} });
  const all = [...ps.values()];
  const whom = (r: TraceRecord): PState[] => {
    const id = participantOf(r);
    if (id === undefined || !group) return all;
    const s = ps.get(id);
    return s ? [s] : [];
  };
  const baseline: Record<string, number> = { ...trace.header.staff };
  let present: Record<string, number> = { ...baseline };
  let free: Record<string, number> = { ...baseline };
  let common: string | undefined;
  let sawState = false;
  let over = false;
  let horizon = false;
  const entered = new Set<string>();
  const skipped = new Set<string>();
  const attends: { role: string; participant: string; until: number }[] = [];
  const log: LogLine[] = [];

  for (let i = 0; i < n; i++) {
    const r = recs[i]!;
    switch (r.type) {
      case 'truth':
      case 'observe':
        for (const s of whom(r)) {
          const into = r.type === 'truth' ? s.truth : s.seen;
          for (const [m, v] of Object.entries(r.values)) (into[m] ??= []).push({ t: r.t, v });
        }
        break;
      case 'staff':
        present = { ...present, [r.role]: Math.max(0, (present[r.role] ?? 0) + (r.action === 'arrive' ? 1 : -1)) };
        free = { ...free, [r.role]: Math.min(present[r.role]!, Math.max(0, (free[r.role] ?? 0) + (r.action === 'arrive' ? 1 : -1))) };
        break;
      case 'state': {
        sawState = true;
        common = r.stage;
        present = { ...r.present };
        free = { ...r.free };
        if (!group) {
          const s = all[0];
          if (s) {
            s.dose = { ...r.dose };
            s.paused = new Set(r.paused);
          }
        } else if (r.doses) {
          for (const [id, d] of Object.entries(r.doses)) {
            const s = ps.get(id);
            if (s) s.dose = { ...d };
          }
        }
        break;
      }
      case 'outcome':
        for (const s of whom(r)) {
          if (s.outcome) continue;
          s.outcome = { t: r.t, outcome: r.outcome, ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.rule !== undefined ? { rule: r.rule } : {}) };
          s.stage = undefined;
          s.paused = new Set();
        }
        if (participantOf(r) === undefined || !group) over = true;
        break;
      case 'end':
        over = true;
        if (r.reason === 'horizon') horizon = true;
        break;
      case 'emit': {
        const e = r.event;
        if (e.type === 'stage') {
          const st = String(e['stage']);
          const phase = e['phase'];
          if (phase === 'enter') entered.add(st);
          if (phase === 'skip') skipped.add(st);
          // The stage follows the emits as they come (a step may stop before the state record of the
          // instant); a group's common stage only until its first state record (emits name one participant).
          if (!sawState || !group) {
            if (phase === 'enter') common = st;
            else if (phase === 'exit' && common === st) common = undefined;
          }
          for (const s of whom(r)) {
            if (s.outcome) continue;
            if (phase === 'enter') s.stage = st;
            else if (phase === 'exit' && s.stage === st) s.stage = undefined;
            if (phase === 'pause') s.paused.add(st);
            else if (phase === 'resume' || phase === 'exit' || phase === 'stop' || phase === 'enter') s.paused.delete(st);
          }
        } else if (e.type === 'attend' && e['status'] === 'assigned' && typeof e['minutes'] === 'number') {
          const who = participantOf(r) ?? p.participants[0]!;
          const until = r.t + (e['minutes'] as number);
          const same = e['continues'] === true ? attends.find((a) => a.role === String(e['role']) && a.participant === who && a.until > r.t) : undefined;
          if (same) same.until = Math.max(same.until, until);
          else attends.push({ role: String(e['role']), participant: who, until });
        }
        break;
      }
      case 'event':
      case 'request':
        break;
    }
    const d = describe(r, group);
    if (d) {
      const who = group ? participantOf(r) : undefined;
      // Group: the same happening to several participants at one instant is one line.
      let k = -1;
      if (who !== undefined) {
        for (let j = log.length - 1; j >= 0 && log[j]!.t === r.t; j--) {
          if (log[j]!.text === d.text && log[j]!.who.length > 0) {
            k = j;
            break;
          }
        }
      }
      if (k >= 0) {
        const prev = log[k]!;
        if (!prev.who.includes(who!)) log[k] = { ...prev, who: [...prev.who, who!] };
      } else log.push({ t: r.t, who: who !== undefined ? [who] : [], text: d.text, kind: d.kind });
    }
  }
  if (over || all.every((s) => s.outcome)) common = undefined;

  const pausedBy = (stage: string) => p.participants.filter((id) => ps.get(id)!.paused.has(stage));
  const stages: StageMark[] = p.session.stages.map((s) => {
    const status: StageStatus =
      s.name === common ? 'current' : skipped.has(s.name) && !entered.has(s.name) ? 'skipped' : entered.has(s.name) ? 'done' : 'pending';
    return { name: s.name, status, pausedBy: status === 'current' ? pausedBy(s.name) : [] };
  });

  const roles = [...new Set([...p.ir.roles.map((r) => r.name).filter((r) => r in baseline || r in present), ...Object.keys(baseline), ...Object.keys(present)])];
  const active = attends.filter((a) => a.until > t + 1e-9);
  const staff: StaffRow[] = roles.map((role) => {
    const pr = present[role] ?? 0;
    const fr = Math.min(pr, free[role] ?? 0);
    return {
      role,
      free: fr,
      attending: pr - fr,
      absent: Math.max(0, (baseline[role] ?? 0) - pr),
      assignments: active.filter((a) => a.role === role).map((a) => ({ participant: a.participant, until: a.until })),
    };
  });

  const participants: ParticipantScene[] = p.participants.map((id) => {
    const s = ps.get(id)!;
    return {
      id,
      stage: s.outcome ? undefined : group ? s.stage : (common ?? s.stage),
      paused: [...s.paused],
      outcome: s.outcome,
      truth: s.truth,
      seen: s.seen,
      dose: s.dose,
      attended: active.filter((a) => a.participant === id).map((a) => ({ role: a.role, until: a.until })),
    };
  });

  return { t, stages, stage: common, participants, staff, log, finished: n >= recs.length, horizon };
}

/**
 * The values of `samples` on `width` columns, one per `step` minutes, the
 * last column at `t`: each column the last sample at or before its time
 * (sample-and-hold), undefined before the first sample.
 */
export function windowValues(samples: readonly Sample[] | undefined, t: number, width: number, step = 1): (number | undefined)[] {
  const out: (number | undefined)[] = new Array(width).fill(undefined);
  if (!samples || samples.length === 0) return out;
  const first = t - (width - 1) * step;
  // Start from the last sample at or before the first column.
  let j = 0;
  while (j + 1 < samples.length && samples[j + 1]!.t <= first + 1e-9) j++;
  for (let k = 0; k < width; k++) {
    const c = first + k * step;
    if (c < -1e-9) continue;
    while (j + 1 < samples.length && samples[j + 1]!.t <= c + 1e-9) j++;
    const s = samples[j]!;
    if (s.t <= c + 1e-9) out[k] = s.v;
  }
  return out;
}

/** The last sample at or before `t`. */
export function lastSample(samples: readonly Sample[] | undefined): Sample | undefined {
  return samples && samples.length ? samples[samples.length - 1] : undefined;
}

// ── Playback state (keys and timer) ──────────────────────────────────────

/** Speeds in simulated minutes per real second. */
export const SPEEDS: readonly number[] = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200];
export const DEFAULT_SPEED = 10;

export interface PlayState {
  readonly cursor: number;
  readonly clock: number;
  readonly playing: boolean;
  readonly speed: number;
  readonly quit: boolean;
}

export type PlayAction =
  | { readonly type: 'tick'; readonly ms: number }
  | { readonly type: 'toggle' }
  | { readonly type: 'step' }
  | { readonly type: 'faster' }
  | { readonly type: 'slower' }
  | { readonly type: 'quit' };

/** Records with `t <= clock`. */
function upTo(p: Playback, clock: number): number {
  const recs = p.trace.records;
  let lo = 0;
  let hi = recs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (recs[mid]!.t <= clock + 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The nearest speed of `SPEEDS` to `speed`. */
export function nearestSpeed(speed: number): number {
  let best = SPEEDS[0]!;
  for (const s of SPEEDS) if (Math.abs(Math.log(s / speed)) < Math.abs(Math.log(best / speed))) best = s;
  return best;
}

export function initialPlayState(p: Playback, options: { speed?: number; paused?: boolean } = {}): PlayState {
  const first = p.trace.records[0]?.t ?? 0;
  const clock = Math.min(0, first);
  const cursor = upTo(p, clock);
  return {
    cursor,
    clock,
    playing: options.paused !== true && cursor < p.trace.records.length,
    speed: options.speed !== undefined && options.speed > 0 ? options.speed : DEFAULT_SPEED,
    quit: false,
  };
}

export function playReducer(p: Playback, s: PlayState, a: PlayAction): PlayState {
  const total = p.trace.records.length;
  switch (a.type) {
    case 'tick': {
      if (!s.playing || s.quit) return s;
      const clock = Math.min(p.end, s.clock + (s.speed * a.ms) / 1000);
      const cursor = Math.max(s.cursor, upTo(p, clock));
      return { ...s, clock, cursor, playing: cursor < total };
    }
    case 'toggle':
      if (s.quit || s.cursor >= total) return s;
      return { ...s, playing: !s.playing };
    case 'step': {
      if (s.quit || s.cursor >= total) return { ...s, playing: false };
      const recs = p.trace.records;
      let i = s.cursor;
      while (i < total && !p.happening[i]) i++;
      if (i >= total) return { ...s, cursor: total, clock: Math.max(s.clock, p.end), playing: false };
      const t = recs[i]!.t;
      let j = i + 1;
      while (j < total && recs[j]!.t === t && !p.happening[j]) j++;
      return { ...s, cursor: j, clock: Math.max(s.clock, t), playing: false };
    }
    case 'faster': {
      const next = SPEEDS.find((x) => x > s.speed);
      return next === undefined ? s : { ...s, speed: next };
    }
    case 'slower': {
      const prev = [...SPEEDS].reverse().find((x) => x < s.speed);
      return prev === undefined ? s : { ...s, speed: prev };
    }
    case 'quit':
      return { ...s, quit: true, playing: false };
  }
}
