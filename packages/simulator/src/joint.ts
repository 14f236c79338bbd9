/**
 * The joint trace replayed as a sequence of snapshots, one per sample point
 * (every distinct record time), for one participant's view. The property
 * checker, the vignette and coverage read traces only through this.
 *
 * A snapshot is the state *after* every record at its time (records at the
 * same `t` are one instant: the input, what the machine emitted, the state
 * after it). Its sources, for the view of participant `p`:
 * - true values: the last `truth` record of `p` at or before `t`;
 * - observed values: the last `observe` record of `p` carrying the measure;
 * - stage: the last `state.stage`, else the last `emit stage` enter/exit
 *   (stages are common to a group: lock-step);
 * - paused: `emit stage` pause/resume of `p` (a group's emits name the
 *   participant); in an individual session `state.paused` too;
 * - present/free: the last `state` record (before any: the header's staff,
 *   adjusted by `staff` records);
 * - dose: `state.dose` in an individual session, `state.doses[p]` in a
 *   group; at least what `p`'s `administer` (`delivered`) and `give` emits
 *   add up to;
 * - outcome: `p`'s `outcome` record (or one naming no participant).
 * Records naming no participant are about everyone; in an individual session
 * every record is about the one participant.
 */
import type { DoseUnit, IR, Outcome } from '@kapspec/runtime';
import type { Trace, TraceParticipant, TraceRecord } from './trace.js';

export interface Reading {
  readonly value: number;
  readonly at: number;
}

export interface Snapshot {
  readonly t: number;
  /** Index of the first record at this time and one past the last. */
  readonly from: number;
  readonly to: number;
  /** Current (common) stage; undefined before the first stage and once the session is over. */
  readonly stage: string | undefined;
  /** The session's (common) stage, whether or not this participant is still in session. */
  readonly sessionStage: string | undefined;
  /** Stages this participant holds paused. */
  readonly paused: ReadonlySet<string>;
  readonly present: Readonly<Record<string, number>>;
  readonly free: Readonly<Record<string, number>>;
  readonly dose: Readonly<Record<string, number>>;
  readonly outcome: Outcome | undefined;
  readonly truth: Readonly<Record<string, Reading>>;
  readonly observed: Readonly<Record<string, Reading>>;
  /** First observation of each measure (the runtime's fallback for `baseline`). */
  readonly first: Readonly<Record<string, number>>;
  /** Events of this participant at this instant. */
  readonly events: readonly string[];
  /** Events of this participant so far, by name. */
  readonly counts: Readonly<Record<string, number>>;
  /** Participants (in a group) still in session: no outcome yet. */
  readonly live: number;
}

export interface View {
  /** Participant id; undefined when the trace has no participant. */
  readonly participant: string | undefined;
  readonly profile: TraceParticipant | undefined;
  readonly snapshots: readonly Snapshot[];
  /** This participant's session is over (an outcome, or an `end` record with reason `outcome`). */
  readonly complete: boolean;
  /** Time of the last record of the trace. */
  readonly end: number;
}

const EMPTY_SET: ReadonlySet<string> = new Set();

/** Whether a record is about participant `id` (view of a trace with `n` participants). */
export function about(r: TraceRecord, id: string | undefined, group: boolean): boolean {
  const p = (r as { participant?: string }).participant ?? (r.type === 'emit' ? (r.event['participant'] as string | undefined) : undefined);
  if (p === undefined || !group) return true;
  return p === id;
}

function convert(value: number, from: DoseUnit, to: DoseUnit, weightKg: number | undefined): number | null {
  if (from === to) return value;
  if (weightKg === undefined || !(weightKg > 0)) return null;
  return to === 'mg' ? value * weightKg : value / weightKg;
}

/** Replays the trace for every participant (one view per participant; one view without a participant if the header lists none). */
export function views(ir: IR, trace: Trace): View[] {
  const ps = trace.header.participants;
  const group = ir.setting.mode === 'group' || ps.length > 1;
  if (ps.length === 0) return [replay(ir, trace, undefined, group)];
  return ps.map((p) => replay(ir, trace, p, group));
}

export function replay(ir: IR, trace: Trace, profile: TraceParticipant | undefined, group: boolean): View {
  const id = profile?.id;
  const recs = trace.records;
  const snaps: Snapshot[] = [];
  let stage: string | undefined;
  let paused: ReadonlySet<string> = EMPTY_SET;
  let present: Record<string, number> = { ...trace.header.staff };
  let free: Record<string, number> = { ...trace.header.staff };
  let sawState = false;
  let stateDose: Record<string, number> = {};
  let emitDose: Record<string, number> = {};
  const given: Record<string, number> = {};
  const lines: Record<string, Record<string, number>> = {};
  let outcome: Outcome | undefined;
  let truth: Record<string, Reading> = {};
  let observed: Record<string, Reading> = {};
  let first: Record<string, number> = {};
  let counts: Record<string, number> = {};
  let complete = false;
  const outcomes = new Map<string, boolean>();
  let allOver = false;
  const unitOf = (drug: string): DoseUnit => ir.drugs.find((d) => d.name === drug)?.unit ?? 'mg';
  const recomputeEmitDose = () => {
    const d: Record<string, number> = { ...given };
    for (const [drug, byLine] of Object.entries(lines)) for (const v of Object.values(byLine)) d[drug] = (d[drug] ?? 0) + v;
    emitDose = d;
  };

  let i = 0;
  while (i < recs.length) {
    const t = recs[i]!.t;
    const start = i;
    const events: string[] = [];
    for (; i < recs.length && recs[i]!.t === t; i++) {
      const r = recs[i]!;
      const mine = about(r, id, group);
      switch (r.type) {
        case 'truth':
          if (mine) {
            truth = { ...truth };
            for (const [k, v] of Object.entries(r.values)) truth[k] = { value: v, at: t };
          }
          break;
        case 'observe':
          if (mine) {
            observed = { ...observed };
            for (const [k, v] of Object.entries(r.values)) {
              observed[k] = { value: v, at: t };
              if (!(k in first)) first = { ...first, [k]: v };
            }
          }
          break;
        case 'event':
          if (mine) {
            events.push(r.name);
            counts = { ...counts, [r.name]: (counts[r.name] ?? 0) + 1 };
          }
          break;
        case 'staff':
          present = { ...present, [r.role]: Math.max(0, (present[r.role] ?? 0) + (r.action === 'arrive' ? 1 : -1)) };
          free = { ...free, [r.role]: Math.min(present[r.role]!, Math.max(0, (free[r.role] ?? 0) + (r.action === 'arrive' ? 1 : -1))) };
          break;
        case 'state':
          sawState = true;
          stage = r.stage;
          present = { ...r.present };
          free = { ...r.free };
          if (!group) stateDose = { ...r.dose };
          else {
            // Group sessions: `doses` (by participant) when the trace has it; `dose` is the group's sum.
            const mineDose = (r as { doses?: Readonly<Record<string, Readonly<Record<string, number>>>> }).doses?.[id ?? ''];
            if (mineDose) stateDose = { ...mineDose };
          }
          if (!group) paused = new Set(r.paused);
          break;
        case 'outcome':
          if (r.participant !== undefined) outcomes.set(r.participant, true);
          else allOver = true;
          if (mine && outcome === undefined) outcome = r.outcome;
          break;
        case 'end':
          if (r.reason === 'outcome') allOver = true;
          break;
        case 'request':
          break;
        case 'emit': {
          const e = r.event;
          if (e.type === 'stage') {
            const s = String(e['stage']);
            const phase = e['phase'];
            if (!sawState) {
              if (phase === 'enter') stage = s;
              else if (phase === 'exit' && stage === s) stage = undefined;
            }
            if (mine) {
              if (phase === 'pause') {
                if (!paused.has(s)) paused = new Set([...paused, s]);
              } else if (paused.has(s) && (phase === 'resume' || phase === 'exit' || phase === 'stop' || phase === 'enter')) {
                const next = new Set(paused);
                next.delete(s);
                paused = next;
              }
            }
          } else if (mine && e.type === 'administer') {
            const drug = String(e['drug']);
            const key = `${String(e['stage'])}:${JSON.stringify(e['span'] ?? null)}`;
            const delivered = typeof e['delivered'] === 'number' ? (e['delivered'] as number) : 0;
            lines[drug] = { ...(lines[drug] ?? {}), [key]: Math.max(lines[drug]?.[key] ?? 0, delivered) };
            recomputeEmitDose();
          } else if (mine && e.type === 'give') {
            const drug = String(e['drug']);
            const dose = e['dose'] as { value?: unknown; unit?: unknown } | undefined;
            if (dose && typeof dose.value === 'number' && (dose.unit === 'mg' || dose.unit === 'mg/kg')) {
              const v = convert(dose.value, dose.unit, unitOf(drug), profile?.weightKg);
              if (v !== null) given[drug] = (given[drug] ?? 0) + v;
              recomputeEmitDose();
            }
          }
          break;
        }
      }
    }
    if (outcome !== undefined || allOver) complete = true;
    let live = 0;
    if (group) for (const p of trace.header.participants) if (!outcomes.get(p.id) && !allOver) live++;
    if (!group) live = outcome !== undefined || allOver ? 0 : 1;
    const dose = maxDose(emitDose, stateDose);
    snaps.push({
      t,
      from: start,
      to: i,
      stage: outcome !== undefined ? undefined : stage,
      sessionStage: stage,
      paused: outcome !== undefined ? EMPTY_SET : paused,
      present,
      free,
      dose,
      outcome,
      truth,
      observed,
      first,
      events,
      counts,
      live,
    });
  }
  return {
    participant: id,
    profile,
    snapshots: snaps,
    complete,
    end: recs.length ? recs[recs.length - 1]!.t : 0,
  };
}

function maxDose(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}
