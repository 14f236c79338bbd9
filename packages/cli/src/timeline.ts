/**
 * The plain timeline of one simulated session, as `kapspec simulate` prints
 * it off a terminal (and with --no-tui): stable text, one happening a line,
 * in the trace's order.
 *
 *   Protocol "Individual IV …", session dosing: seed 1, calibrated model, 1 participant.
 *   p1: age 43, 82 kg; baseline SBP 129, DBP 81, …; flags: none.
 *   Staff on duty: therapist 1, medical_provider 1.
 *
 *   time      stage               what happened
 *   t+0       predose             predose begins
 *   t+0       predose             measured SBP 131 (true 128.9) · DBP 82 (true 80.8)
 *   t+15      infusion            ketamine 0.5 mg/kg iv over 40 min started
 *   t+47      infusion PAUSED     infusion paused (rule hypertension)
 *   …
 *   Outcome: discharged at t+145 min (discharge criteria, examples/individual-iv.kap:155).
 *
 * Group sessions add a participant column after the stage (`all` for what
 * concerns the whole group). Readings of `monitor … continuously` arrive
 * every minute; they are shown when the monitor starts and on minutes where
 * something else happens to that participant, not on their own. Readings of
 * measures the participant model does not produce, and requests nobody
 * answered, are shown as "requested …: no reading".
 */
import { showMinutes, showNumber, type IR, type Session } from '@kapspec/runtime';
import { describeEmitted, showProfile, showVital, type Trace, type TraceRecord } from '@kapspec/simulator';
import { outcomeSpan, spanLine } from './protocol.js';

export interface TimelineOptions {
  /** The `.kap` path for the summary line's `file:line` (spans carry their own file when the IR has one). */
  readonly file: string;
  readonly color?: boolean;
}

const label = (m: string) => m.toUpperCase();

export function showTime(t: number): string {
  return `t+${showNumber(t)}`;
}

function staffList(s: Readonly<Record<string, number>>): string {
  const e = Object.entries(s);
  return e.length ? e.map(([r, n]) => `${r} ${n}`).join(', ') : 'none';
}

interface Painter {
  bold(s: string): string;
  alert(s: string): string;
  warn(s: string): string;
  event(s: string): string;
  dim(s: string): string;
}

function painter(color: boolean): Painter {
  const p = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: p('1'), alert: p('31'), warn: p('33'), event: p('35'), dim: p('2') };
}

/** One row of the timeline before layout. */
interface Row {
  readonly t: number;
  readonly stage: string;
  readonly who: string;
  readonly text: string;
  /** A routine continuous reading: shown only beside other rows of the same participant and minute. */
  readonly routine?: boolean;
  /** A reading: never merged into an `all` row, even when everyone's is the same. */
  readonly reading?: boolean;
}

export function renderTimeline(ir: IR, trace: Trace, options: TimelineOptions): string {
  const paint = painter(options.color === true);
  const h = trace.header;
  const session = ir.sessions.find((s) => s.name === h.session);
  const group = ir.setting.mode === 'group' || h.participants.length > 1;
  const out: string[] = [];

  // ── Header ──
  const n = h.participants.length;
  out.push(`Protocol "${h.protocol}", session ${h.session}: seed ${h.seed}, ${h.model} model, ${n} participant${n === 1 ? '' : 's'}.`);
  for (const p of h.participants) out.push(`${p.id}: ${showProfile(ir, p)}`);
  out.push(`Staff on duty: ${staffList(h.staff)}.`);
  out.push('');

  // ── Rows ──
  const rows = timelineRows(trace, group, paint);
  const shown = filterRoutine(group ? collapse(rows, h.participants.map((p) => p.id)) : rows);
  const timeWidth = Math.max(8, ...shown.map((r) => showTime(r.t).length));
  const stageWidth = Math.max(18, ...shown.map((r) => visible(r.stage).length));
  const whoWidth = group ? Math.max(3, ...shown.map((r) => r.who.length)) : 0;
  const head = ['time'.padEnd(timeWidth), 'stage'.padEnd(stageWidth), ...(group ? ['who'.padEnd(whoWidth)] : []), 'what happened'];
  out.push(paint.dim(head.join('  ')));
  for (const r of shown) {
    const cells = [showTime(r.t).padEnd(timeWidth), padVisible(r.stage, stageWidth), ...(group ? [r.who.padEnd(whoWidth)] : []), r.text];
    out.push(cells.join('  '));
  }
  out.push('');
  out.push(session ? summaryLine(ir, session, trace, options.file, paint) : 'Outcome: unknown session.');
  return `${out.join('\n')}\n`;
}

const ANSI_SGR = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI_SGR, '');
const padVisible = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visible(s).length));

/**
 * Group sessions move through stages in lock-step: a row (other than a
 * reading) with the same time and text for every participant is shown once,
 * for `all`.
 */
function collapse(rows: readonly Row[], ids: readonly string[]): Row[] {
  if (ids.length < 2) return [...rows];
  const key = (r: Row) => `${r.t}|${r.text}`;
  const whoBy = new Map<string, Set<string>>();
  for (const r of rows) {
    let set = whoBy.get(key(r));
    if (!set) whoBy.set(key(r), (set = new Set()));
    set.add(r.who);
  }
  const everyone = (k: string) => ids.every((id) => whoBy.get(k)?.has(id));
  const done = new Set<string>();
  const out: Row[] = [];
  for (const r of rows) {
    const k = key(r);
    if (r.reading || !everyone(k)) {
      out.push(r);
      continue;
    }
    if (done.has(k)) continue;
    done.add(k);
    out.push({ ...r, who: 'all' });
  }
  return out;
}

/** Drops routine continuous readings unless the same participant has another row in the same minute. */
function filterRoutine(rows: readonly Row[]): Row[] {
  const busy = new Set<string>();
  for (const r of rows) if (!r.routine) busy.add(`${Math.floor(r.t)}|${r.who}`);
  return rows.filter((r) => !r.routine || busy.has(`${Math.floor(r.t)}|${r.who}`) || busy.has(`${Math.floor(r.t)}|all`));
}

function timelineRows(trace: Trace, group: boolean, paint: Painter): Row[] {
  const recs = trace.records;
  const ids = trace.header.participants.map((p) => p.id);
  const soloId = ids[0];
  const idOf = (p: unknown): string => (typeof p === 'string' ? p : group ? 'all' : (soloId ?? ''));

  const truth = new Map<string, Readonly<Record<string, number>>>();
  const continuous = new Map<string, Map<string, Set<string>>>(); // participant → stage → measures streamed
  const paused = new Map<string, Set<string>>(); // participant → stages paused (group)
  const outcome = new Map<string, string>();
  let stage: string | undefined;
  let lastStaff = staffKey(trace.header.staff, trace.header.staff);
  let over = false;
  const rows: Row[] = [];

  const stageFor = (who: string): string => {
    const o = outcome.get(who) ?? (group ? undefined : outcome.get('all'));
    if (o !== undefined) return `(${o})`;
    if (stage === undefined) return over ? '(over)' : '-';
    const p = paused.get(who)?.has(stage) ?? false;
    return p ? `${stage} ${paint.warn('PAUSED')}` : stage;
  };
  const push = (t: number, who: string, text: string, routine = false, reading = false) => {
    rows.push({ t, stage: stageFor(who), who, text, ...(routine ? { routine } : {}), ...(reading ? { reading } : {}) });
  };

  for (let i = 0; i < recs.length; i++) {
    const r = recs[i]!;
    const t = r.t;
    switch (r.type) {
      case 'truth':
        truth.set(r.participant, r.values);
        break;
      case 'request': {
        const who = idOf(r.participant);
        if (r.continuous) {
          let byStage = continuous.get(who);
          if (!byStage) continuous.set(who, (byStage = new Map()));
          let set = byStage.get(r.stage);
          if (!set) byStage.set(r.stage, (set = new Set()));
          for (const m of r.measures) set.add(m);
        }
        if (!answered(recs, i, r.participant, r.measures)) push(t, who, paint.alert(`requested ${r.measures.map(label).join(', ')}: no reading`));
        break;
      }
      case 'observe': {
        const who = idOf(r.participant);
        const tr = truth.get(r.participant ?? soloId ?? '') ?? {};
        const parts = Object.entries(r.values).map(([k, v]) => {
          const real = tr[k];
          return `${label(k)} ${showVital(v)} (true ${real === undefined ? '?' : showVital(real)})`;
        });
        const streamed = [...(continuous.get(who)?.values() ?? [])];
        const routine = Object.keys(r.values).every((k) => streamed.some((set) => set.has(k))) && !requestedNow(recs, i, r.participant, Object.keys(r.values));
        push(t, who, `measured ${parts.join(' · ')}`, routine, true);
        break;
      }
      case 'event':
        push(t, idOf(r.participant), paint.event(`EVENT ${r.name}`));
        break;
      case 'staff':
        push(t, group ? 'all' : idOf(undefined), r.action === 'arrive' ? `a ${r.role} arrives` : paint.warn(`a ${r.role} is called away`));
        break;
      case 'state': {
        stage = r.stage;
        // An individual session's state says what is paused; a group's, what the session as a whole holds.
        if (!group && soloId !== undefined) paused.set(soloId, new Set(r.paused));
        const key = staffKey(trace.header.staff, r.present, r.free);
        if (key !== lastStaff) {
          lastStaff = key;
          push(t, group ? 'all' : idOf(undefined), `staff: ${key}`);
        }
        break;
      }
      case 'outcome': {
        const who = idOf(r.participant);
        const why = [r.reason, r.rule !== undefined ? `rule ${r.rule}` : undefined].filter((x) => x !== undefined).join(', ');
        outcome.set(who, r.outcome);
        push(t, who, paint.bold(`OUTCOME ${r.outcome}${why ? ` (${why})` : ''}`));
        break;
      }
      case 'end':
        over = true;
        if (r.reason === 'horizon') push(t, group ? 'all' : idOf(undefined), paint.alert('simulation stopped at the time horizon: no outcome yet'));
        break;
      case 'emit': {
        const e = r.event;
        const inner = e.type === 'input.rejected' ? (e['event'] as { participant?: unknown } | undefined) : undefined;
        const who = idOf(e['participant'] ?? inner?.participant);
        if (e.type === 'stage') {
          const s = String(e['stage']);
          const phase = e['phase'];
          if (phase === 'enter') stage = s;
          const set = paused.get(who) ?? new Set<string>();
          paused.set(who, set);
          if (phase === 'pause') set.add(s);
          else if (phase !== 'skip') set.delete(s);
          if (phase === 'exit' || phase === 'stop') {
            for (const [id, byStage] of continuous) if (who === 'all' || id === who) byStage.delete(s);
          }
        }
        push(t, who, describeEmit(e, paint, group));
        break;
      }
    }
  }
  return rows;
}

/** Whether a request at index i has an observation at the same instant (for that participant, any of its measures). */
function answered(recs: readonly TraceRecord[], i: number, participant: string | undefined, measures: readonly string[]): boolean {
  const t = recs[i]!.t;
  for (let j = i + 1; j < recs.length && recs[j]!.t === t; j++) {
    const r = recs[j]!;
    if (r.type === 'observe' && r.participant === participant && measures.some((m) => m in r.values)) return true;
    // The session (or this participant's part) ended at this very instant: nothing to answer.
    if (r.type === 'end' || (r.type === 'outcome' && (r.participant === undefined || r.participant === participant))) return true;
    if (r.type === 'emit' && r.event.type === 'input.rejected') {
      const ev = r.event['event'] as { type?: unknown; participant?: unknown; values?: Record<string, unknown> } | undefined;
      if (ev?.type === 'measure' && ev.participant === participant && measures.some((m) => ev.values !== undefined && m in ev.values)) return true;
    }
  }
  return false;
}

/** Whether an observation at index i answers a non-continuous request made at the same instant. */
function requestedNow(recs: readonly TraceRecord[], i: number, participant: string | undefined, measures: readonly string[]): boolean {
  const t = recs[i]!.t;
  for (let j = i - 1; j >= 0 && recs[j]!.t === t; j--) {
    const r = recs[j]!;
    if (r.type === 'request' && r.participant === participant && measures.some((m) => r.measures.includes(m))) return true;
  }
  return false;
}

/** Staff by role: `therapist 1 free, 1 attending; medical_provider 0 free, 1 absent`. */
function staffKey(onDuty: Readonly<Record<string, number>>, present: Readonly<Record<string, number>>, free: Readonly<Record<string, number>> = present): string {
  const roles = [...new Set([...Object.keys(onDuty), ...Object.keys(present)])];
  return roles
    .map((r) => {
      const p = present[r] ?? 0;
      const f = Math.min(p, free[r] ?? 0);
      const parts = [`${f} free`];
      if (p - f > 0) parts.push(`${p - f} attending`);
      const absent = (onDuty[r] ?? 0) - p;
      if (absent > 0) parts.push(`${absent} absent`);
      if (absent < 0) parts.push(`${-absent} extra`);
      return `${r} ${parts.join(', ')}`;
    })
    .join('; ');
}

/** An emitted event in clinical words, coloured by its tone. */
function describeEmit(e: Readonly<Record<string, unknown>> & { readonly type: string }, paint: Painter, group: boolean): string {
  const { text, tone } = describeEmitted(e, { group });
  return tone === 'alert' ? paint.alert(text) : tone === 'warn' ? paint.warn(text) : text;
}

/** `p1, p2 at t+150 min, p3 at t+155 min` (participants in order, grouped by time). */
function whoAt(list: readonly { id: string | undefined; t: number }[]): string {
  const byTime: { t: number; ids: string[] }[] = [];
  for (const w of list) {
    const last = byTime[byTime.length - 1];
    if (last && last.t === w.t) {
      if (w.id !== undefined) last.ids.push(w.id);
    } else byTime.push({ t: w.t, ids: w.id !== undefined ? [w.id] : [] });
  }
  return byTime.map((b) => `${b.ids.length ? `${b.ids.join(', ')} ` : ''}at ${showTime(b.t)} min`).join(', ');
}

/**
 * The one-line summary: the outcome, its reason, the rule and its `.kap`
 * line; in a group, each participant's.
 */
export function summaryLine(ir: IR, session: Session, trace: Trace, file: string, paint: Painter = painter(false)): string {
  const outs = trace.records.filter((r) => r.type === 'outcome');
  const end = trace.records.find((r) => r.type === 'end');
  const group = ir.setting.mode === 'group' || trace.header.participants.length > 1;
  // Participants with the same outcome, reason and cause are listed together (a group), each with its time.
  const parts: { head: string; who: { id: string | undefined; t: number }[]; tail: string }[] = [];
  for (const o of outs) {
    const where = spanLine(outcomeSpan(session, ir, o), file);
    const cause = o.rule !== undefined ? `rule ${o.rule}` : o.outcome === 'discharged' ? 'discharge criteria' : o.reason !== undefined && session.stages.some((s) => s.gates.some((g) => g.otherwise.reason === o.reason)) ? 'gate' : o.outcome === 'deferred' ? 'population' : undefined;
    const paren = [cause, where].filter((x) => x !== undefined).join(', ');
    const head = paint.bold(o.outcome);
    const tail = `${o.reason !== undefined ? `: ${o.reason}` : ''}${paren ? ` (${paren})` : ''}`;
    const same = parts.find((x) => x.head === head && x.tail === tail);
    const who = { id: group ? o.participant : undefined, t: o.t };
    if (same && group) same.who.push(who);
    else parts.push({ head, who: [who], tail });
  }
  const texts = parts.map((x) => `${x.head} ${whoAt(x.who)}${x.tail}`);
  const missing = group ? trace.header.participants.filter((p) => !outs.some((o) => o.participant === p.id)).map((p) => p.id) : outs.length === 0 ? ['the participant'] : [];
  let text = `${group ? 'Outcomes' : 'Outcome'}: ${texts.length ? texts.join('; ') : 'none'}`;
  if (missing.length > 0 && end?.type === 'end' && end.reason === 'horizon') {
    text += `; the simulation stopped at the time horizon, ${showTime(end.t)} min, with ${group ? missing.join(', ') : 'the participant'} still in session`;
  }
  return `${text}.`;
}
