/**
 * The built-in properties (LANGUAGE.md §5), checked for every protocol
 * without being written. Each has a stable name and carries the span of the
 * line it checks.
 *
 * - `builtin.staffing`: at every sample point, every staffing line that
 *   applies (no `during`, or the session is in one of its stages) holds:
 *   an individual session counts the staff present, a group the free pool
 *   (LANGUAGE.md §7), `per N participants` scales with the participants still
 *   in session, rounded up. Any `staffing.violation` emitted by the machine
 *   (a line, or an `attend` no one was free for) fails it too.
 * - `builtin.terminates`: every participant reaches an outcome. Failed when
 *   the trace ends with `end` reason `horizon`; inconclusive when it ends
 *   with no `end` record and someone without an outcome.
 * - `builtin.unhandled-events`: every event that occurred has a rule of the
 *   session whose `when` mentions it (as an atom or in `count(…)`).
 * - `builtin.monitoring-gaps`: for every `monitor … every T` line, in every
 *   run of its stage (entry to exit, or the participant's outcome, or the end
 *   of the trace), the times [stage entry, each observation of the measure,
 *   stage end] are never more than T + tolerance apart. Pauses do not stop
 *   monitoring (the machine keeps requesting), so paused time counts.
 *   `monitor … continuously` lines are checked the same way with T = the
 *   trace header's numeric `resolution` parameter, when it has one.
 * - `builtin.excluded-never-dosed`: a participant the population block
 *   excludes (age range, `exclude` flag, `exclude when`, evaluated on the
 *   profile as the runtime does) has no `administer` start and no `give`.
 * - `builtin.dose-limits`: the dose of each drug with a declared `max`
 *   delivered to a participant never exceeds it (converted to the drug's
 *   tracking unit with the participant's weight when the units differ).
 */
import { populationExclusion, staffCompare, staffRequired, type IR, type Session, type SourceSpan, type StaffLine } from '@kapspec/runtime';
import { about, type View } from './joint.js';
import type { CheckOptions } from './properties.js';
import { combine, recordsBetween, type PropertyResult, type Verdict } from './verdict.js';
import { eventsIn, showMinutes, showNumber, showTime } from './show.js';
import type { Trace } from './trace.js';

export const BUILTIN_NAMES = [
  'builtin.staffing',
  'builtin.terminates',
  'builtin.unhandled-events',
  'builtin.monitoring-gaps',
  'builtin.excluded-never-dosed',
  'builtin.dose-limits',
] as const;
export type BuiltinName = (typeof BUILTIN_NAMES)[number];

const EPS = 1e-6;

const passed = (message: string, span?: SourceSpan): Verdict => ({ status: 'passed', message, triggered: true, ...(span ? { span } : {}) });

function result(name: BuiltinName, text: string, fallback: SourceSpan | undefined, verdicts: { participant: string | undefined; verdict: Verdict }[], group: boolean): PropertyResult {
  return combine(name, 'builtin', text, fallback, verdicts, group);
}

export function checkBuiltins(ir: IR, session: Session, trace: Trace, vs: readonly View[], options: CheckOptions): PropertyResult[] {
  const group = vs.length > 1 || ir.setting.mode === 'group';
  const one = (v: Verdict) => [{ participant: undefined, verdict: v }];
  return [
    result('builtin.staffing', 'every staffing line holds throughout', session.staffing[0]?.span ?? session.span, one(staffing(session, trace, vs[0]!, group)), false),
    result('builtin.terminates', 'every participant reaches an outcome', session.span, one(terminates(trace, vs)), false),
    result('builtin.unhandled-events', 'every event that occurs has a rule that handles it', session.span, one(unhandled(ir, session, trace)), false),
    result(
      'builtin.monitoring-gaps',
      'readings are never further apart than the declared interval',
      session.span,
      vs.map((v) => ({ participant: v.participant, verdict: gaps(session, trace, v, group, options) })),
      group,
    ),
    result(
      'builtin.excluded-never-dosed',
      'no excluded participant is dosed',
      ir.population?.span ?? session.span,
      vs.map((v) => ({ participant: v.participant, verdict: excluded(ir, trace, v, group) })),
      group,
    ),
    result(
      'builtin.dose-limits',
      'no drug exceeds its declared maximum',
      ir.drugs.find((d) => d.max)?.span ?? session.span,
      vs.map((v) => ({ participant: v.participant, verdict: doseLimits(ir, trace, v) })),
      group,
    ),
  ];
}

// ── Staffing ─────────────────────────────────────────────────────────────


function showLine(l: StaffLine): string {
  const per = l.perParticipants ? ` per ${l.perParticipants} participants` : '';
  const during = l.during.length ? ` during ${l.during.join(', ')}` : '';
  return `${l.role} ${l.op} ${l.count}${per}${during}`;
}

function staffing(session: Session, trace: Trace, view: View, group: boolean): Verdict {
  let first: Verdict | null = null;
  let firstAt = Infinity;
  const snaps = view.snapshots;
  session.staffing.forEach((l) => {
    for (let i = 0; i < snaps.length; i++) {
      const s = snaps[i]!;
      if (s.t >= firstAt) break;
      const stage = s.sessionStage;
      if (stage === undefined || (l.during.length > 0 && !l.during.includes(stage))) continue;
      const live = group ? s.live : 1;
      if (live <= 0) continue;
      const required = staffRequired(l, live);
      const actual = group ? (s.free[l.role] ?? 0) : (s.present[l.role] ?? 0);
      if (staffCompare(actual, l.op, required)) continue;
      // The violation lasts until the line holds again (or the line stops applying).
      let j = i + 1;
      for (; j < snaps.length; j++) {
        const u = snaps[j]!;
        const st = u.sessionStage;
        if (st === undefined || (l.during.length > 0 && !l.during.includes(st))) break;
        const lv = group ? u.live : 1;
        const req = l.count * (l.perParticipants ? Math.ceil(lv / l.perParticipants) : 1);
        if (lv <= 0 || staffCompare(group ? (u.free[l.role] ?? 0) : (u.present[l.role] ?? 0), l.op, req)) break;
      }
      const to = j < snaps.length ? snaps[j]!.t : view.end;
      // The stage the violation ends in, when it outlasts the one it began in.
      const until = snaps[j - 1]!.sessionStage;
      const where = until === stage || to <= s.t ? `in ${stage} from ${showTime(s.t)}` : `from ${showTime(s.t)} (in ${stage})`;
      const end = to > s.t ? ` to ${showTime(to)}${until !== stage ? ` (in ${until})` : ''}` : '';
      const counted = group ? 'free' : 'present';
      const scale = l.perParticipants ? ` for ${live} participant${live === 1 ? '' : 's'}` : '';
      firstAt = s.t;
      first = {
        status: 'failed',
        triggered: true,
        span: l.span,
        message: `"${showLine(l)}" does not hold ${where}${end}: ${actual} ${l.role} ${counted}, ${required} needed${scale}`,
        witness: { from: s.t, to, records: recordsBetween(trace, s.t, to) },
      };
      break;
    }
  });
  // Violations the machine itself reported (lines, and `attend` with no one free in time).
  const vi = trace.records.findIndex((r) => r.type === 'emit' && r.event.type === 'staffing.violation');
  if (vi >= 0 && trace.records[vi]!.t < firstAt) {
    const r = trace.records[vi]!;
    const e = (r as { event: Record<string, unknown> }).event;
    const who = e['participant'] !== undefined ? `, participant ${String(e['participant'])}` : '';
    const rule = e['rule'] !== undefined ? ` (rule ${String(e['rule'])}${who})` : who ? ` (${who.slice(2)})` : '';
    const what =
      e['kind'] === 'attend'
        ? `no ${String(e['role'])} was free to attend${rule} at ${showTime(r.t)}`
        : `the machine reported a staffing violation${rule} at ${showTime(r.t)}: ${String(e['actual'])} ${String(e['role'])}, ${String(e['required'])} needed`;
    first = {
      status: 'failed',
      triggered: true,
      ...(e['span'] ? { span: e['span'] as SourceSpan } : {}),
      message: `${what} in ${String(e['stage'])}`,
      witness: { from: r.t, to: r.t, records: recordsBetween(trace, r.t, r.t) },
    };
  }
  if (first) return first;
  if (session.staffing.length === 0) return passed('the session has no staffing lines');
  return passed(`every staffing line held at every sample point (${snaps.length})`);
}

// ── Termination ──────────────────────────────────────────────────────────

function terminates(trace: Trace, vs: readonly View[]): Verdict {
  const open = vs.filter((v) => !v.complete).map((v) => v.participant ?? 'the participant');
  const endIdx = trace.records.findIndex((r) => r.type === 'end');
  const end = endIdx >= 0 ? trace.records[endIdx]! : undefined;
  if (end && end.type === 'end' && end.reason === 'horizon') {
    const who = vs.length > 1 && open.length ? ` (without an outcome: ${open.join(', ')})` : '';
    const from = Math.max(0, end.t - 15);
    return {
      status: 'failed',
      triggered: true,
      message: `no outcome when the simulation stopped at ${showTime(end.t)} (time horizon)${who}`,
      witness: { from, to: end.t, records: recordsBetween(trace, from, end.t) },
    };
  }
  if (open.length === 0 || (end && end.type === 'end' && end.reason === 'outcome')) {
    const last = Math.max(...vs.map((v) => v.snapshots.find((s) => s.outcome !== undefined)?.t ?? v.end));
    return passed(`every participant reached an outcome (by ${showTime(last)})`);
  }
  const t = vs[0]?.end ?? 0;
  return {
    status: 'inconclusive',
    triggered: true,
    message: `the trace ends at ${showTime(t)} with no end record, before ${open.join(', ')} reached an outcome`,
    witness: { from: t, to: t, records: recordsBetween(trace, t, t) },
  };
}

// ── Unhandled events ─────────────────────────────────────────────────────

function unhandled(ir: IR, session: Session, trace: Trace): Verdict {
  const handled = new Set<string>();
  for (const r of session.rules) eventsIn(r.when, handled);
  const i = trace.records.findIndex((r) => r.type === 'event' && !handled.has(r.name));
  if (i < 0) {
    const n = trace.records.filter((r) => r.type === 'event').length;
    return passed(n ? `every event that occurred (${n}) has a rule that mentions it` : 'no event occurred');
  }
  const r = trace.records[i]!;
  if (r.type !== 'event') throw new Error('unreachable');
  const decl = ir.events.find((e) => e.name === r.name);
  const who = r.participant !== undefined ? ` (participant ${r.participant})` : '';
  return {
    status: 'failed',
    triggered: true,
    ...(decl ? { span: decl.span } : {}),
    message: `event "${r.name}" at ${showTime(r.t)}${who} has no rule whose condition mentions it`,
    witness: { from: r.t, to: r.t, records: [i] },
  };
}

// ── Monitoring gaps ──────────────────────────────────────────────────────

function gaps(session: Session, trace: Trace, view: View, group: boolean, options: CheckOptions): Verdict {
  const resolution = trace.header.parameters['resolution'];
  const res = typeof resolution === 'number' && resolution > 0 ? resolution : undefined;
  const tol = Math.max(0, options.gapTolerance ?? res ?? 0) + EPS;
  const snaps = view.snapshots;
  // Runs of each stage: [from, to] in session minutes (clipped at this participant's outcome).
  const runs: { stage: string; from: number; to: number }[] = [];
  for (let i = 0; i < snaps.length; i++) {
    const st = snaps[i]!.stage;
    const cur = runs[runs.length - 1];
    const open = cur !== undefined && cur.to < 0;
    if (open && cur.stage !== st) cur.to = snaps[i]!.t;
    if (st !== undefined && (!open || cur.stage !== st)) runs.push({ stage: st, from: snaps[i]!.t, to: -1 });
  }
  const lastRun = runs[runs.length - 1];
  if (lastRun && lastRun.to < 0) lastRun.to = view.end;
  const skipped = new Set<string>();
  trace.records.forEach((r) => {
    if (r.type === 'emit' && r.event.type === 'stage' && r.event['phase'] === 'skip' && about(r, view.participant, group)) skipped.add(String(r.event['stage']));
  });
  const readings = new Map<string, number[]>();
  for (const r of trace.records) {
    if (r.type !== 'observe' || !about(r, view.participant, group)) continue;
    for (const m of Object.keys(r.values)) {
      let a = readings.get(m);
      if (!a) readings.set(m, (a = []));
      a.push(r.t);
    }
  }
  let worst: Verdict | null = null;
  let worstAt = Infinity;
  let checked = 0;
  for (const run of runs) {
    if (skipped.has(run.stage)) continue;
    const stage = session.stages.find((s) => s.name === run.stage);
    if (!stage) continue;
    for (const line of stage.monitors) {
      const every = line.schedule.kind === 'every' ? line.schedule.minutes : line.schedule.kind === 'continuously' ? res : undefined;
      if (every === undefined) continue;
      for (const m of line.measures) {
        checked++;
        const ts = (readings.get(m) ?? []).filter((t) => t >= run.from - EPS && t <= run.to + EPS);
        const points = [run.from, ...ts, run.to];
        for (let k = 1; k < points.length; k++) {
          const a = points[k - 1]!;
          const b = points[k]!;
          if (b - a <= every + tol || a >= worstAt) continue;
          worstAt = a;
          const sched = line.schedule.kind === 'every' ? `every ${showMinutes(every)}` : `continuously (resolution ${showMinutes(every)})`;
          const tolText = tol > 2 * EPS ? ` plus ${showMinutes(tol - EPS)} tolerance` : '';
          worst = {
            status: 'failed',
            triggered: true,
            span: line.span,
            message: `"monitor ${line.measures.join(', ')} ${sched}" in ${run.stage}: no ${m} reading between ${showTime(a)} and ${showTime(b)} (${showMinutes(b - a)}; allowed ${showMinutes(every)}${tolText})`,
            witness: { from: a, to: b, records: recordsBetween(trace, a, b) },
          };
          break;
        }
      }
    }
  }
  return worst ?? passed(checked ? `no gap longer than the declared interval (${checked} measure runs checked)` : 'no interval monitoring to check');
}

// ── Population ───────────────────────────────────────────────────────────

function excluded(ir: IR, trace: Trace, view: View, group: boolean): Verdict {
  const p = view.profile;
  if (!p) return passed('no participant profile');
  const why = populationExclusion(ir, { id: p.id, age: p.age, weightKg: p.weightKg, flags: p.flags, baseline: p.baseline });
  if (!why) return passed('no participant is excluded');
  const i = trace.records.findIndex(
    (r) =>
      r.type === 'emit' &&
      about(r, view.participant, group) &&
      ((r.event.type === 'administer' && r.event['phase'] === 'start') || r.event.type === 'give'),
  );
  if (i < 0) return { ...passed(`${p.id} is excluded (${why.reason}) and was not dosed`), span: why.span };
  const r = trace.records[i]!;
  const e = (r as { event: Record<string, unknown> }).event;
  const what = e.type === 'give' ? `was given ${String(e['drug'])}` : `was administered ${String(e['drug'])}`;
  return {
    status: 'failed',
    triggered: true,
    span: why.span,
    message: `${p.id} is excluded (${why.reason.replace(/^participant excluded: /, '')}) but ${what} at ${showTime(r.t)}`,
    witness: { from: r.t, to: r.t, records: [i] },
  };
}

// ── Dose limits ──────────────────────────────────────────────────────────

function doseLimits(ir: IR, trace: Trace, view: View): Verdict {
  let worst: Verdict | null = null;
  let worstAt = Infinity;
  let unknown: Verdict | null = null;
  for (const d of ir.drugs) {
    if (!d.max) continue;
    let limit: number | null = d.max.value;
    if (d.max.unit !== d.unit) {
      const w = view.profile?.weightKg;
      limit = w !== undefined && w > 0 ? (d.unit === 'mg' ? d.max.value * w : d.max.value / w) : null;
    }
    if (limit === null) {
      unknown ??= {
        status: 'inconclusive',
        triggered: true,
        span: d.span,
        message: `the ${d.name} limit is in ${d.max.unit} and the participant's weight is unknown`,
      };
      continue;
    }
    const over = view.snapshots.find((s) => (s.dose[d.name] ?? 0) > limit * (1 + 1e-9) + 1e-12);
    if (!over || over.t >= worstAt) continue;
    worstAt = over.t;
    worst = {
      status: 'failed',
      triggered: true,
      span: d.span,
      message: `${d.name} delivered reached ${showNumber(over.dose[d.name]!)} ${d.unit} at ${showTime(over.t)}, above the declared max ${showNumber(d.max.value)} ${d.max.unit}`,
      witness: { from: over.t, to: over.t, records: recordsBetween(trace, over.t, over.t) },
    };
  }
  if (worst) return worst;
  if (unknown) return unknown;
  const n = ir.drugs.filter((d) => d.max).length;
  return passed(n ? `every drug stayed within its declared maximum (${n} checked)` : 'no drug declares a maximum');
}
