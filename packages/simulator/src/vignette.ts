/**
 * A property verdict as a clinical vignette: the property and its `.kap`
 * line, the participant, then one line per minute in which something
 * happened around the witness window — true versus observed vitals, stage
 * (and whether it is paused), what the protocol did, the staff, the events —
 * and the outcome. Plain text, stable (golden-tested); ANSI colour only when
 * asked.
 *
 * Layout of a minute:
 *   `* t+45 min  infusion           SBP true 192 / seen 148 (5 min ago)`
 *   `             event panic; rule hypertension fired; infusion paused (rule hypertension)`
 *   `             staff: medical_provider 1 free; therapist 1 free`
 * A `*` marks minutes inside the witness window. Outside the window only
 * minutes with something other than a truth sample are shown; inside it
 * (through the time the awaited condition finally held, if given) every
 * sampled minute is, when that span is at most 30 minutes long.
 * Values are those at the last record of the minute; the measures shown
 * (and whose readings count as happenings) are those the property reads
 * (for `builtin.monitoring-gaps`, the monitor line's). Staff is shown when it
 * changes (and on the first line).
 */
import type { IR, Session, SourceSpan } from '@kapspec/runtime';
import { views, type Snapshot, type View } from './joint.js';
import type { PropertyResult } from './properties.js';
import { describeEmitted } from './describe.js';
import { measuresIn, showMinutes, showNumber, showProfile, showTime, showVital } from './show.js';
import type { Trace, TraceRecord } from './trace.js';

export interface VignetteOptions {
  /** The `.kap` text: the property's line is quoted from it. */
  readonly source?: string;
  /** ANSI colour (default false). */
  readonly color?: boolean;
  /** Minutes of context shown before and after the witness window (default 5). */
  readonly margin?: number;
}

const INDENT = ' '.repeat(13);

export function renderVignette(ir: IR, trace: Trace, result: PropertyResult, options: VignetteOptions = {}): string {
  const color = options.color === true;
  const paint = (code: string, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  const session = ir.sessions.find((s) => s.name === trace.header.session) ?? ir.sessions[0];
  const out: string[] = [];

  // ── The property ──
  const status = result.status.toUpperCase();
  const statusText = paint(result.status === 'failed' ? '1;31' : result.status === 'passed' ? '1;32' : '1;33', status);
  out.push(`${statusText} ${result.name} (${result.kind === 'assert' ? 'assert' : 'built-in property'})`);
  out.push(`  ${result.text}`);
  if (result.span) out.push(...where(result.span, options.source));
  out.push(`  ${result.message}`);
  out.push('');

  // ── Who and what ──
  const vs = views(ir, trace);
  const view = vs.find((v) => v.participant === result.participant) ?? vs[0]!;
  const h = trace.header;
  out.push(`Protocol "${h.protocol}", session ${h.session}; seed ${h.seed}, ${h.model} model.`);
  if (view.profile) out.push(profileLine(ir, view, vs.length > 1));
  if (vs.length > 1) out.push(`Group of ${vs.length}: ${vs.map((v) => v.participant).join(', ')}.`);
  out.push(`Staff on duty at the start: ${staffList(h.staff)}.`);

  const w = result.witness;
  if (!w) {
    out.push('');
    out.push(outcomeLine(trace, vs));
    return out.join('\n') + '\n';
  }

  const measures = focusMeasures(ir, session, result);
  const focus = new Set(measures);
  const margin = options.margin ?? 5;
  const last = Math.max(w.to, w.resolvedAt ?? w.to);
  const lo = Math.floor(w.from) - margin;
  const hi = Math.floor(last) + margin;
  const inWindow = (m: number) => m >= Math.floor(w.from) && m <= Math.floor(w.to);
  const dense = (m: number) => last - w.from <= 30 && m >= Math.floor(w.from) && m <= Math.floor(last);
  out.push('');
  out.push(`Minute by minute (${showTime(Math.max(0, lo))} to ${showTime(hi)}; * = inside the window that shows the verdict):`);

  // Records grouped by whole minute.
  const byMinute = new Map<number, { idx: number; r: TraceRecord }[]>();
  trace.records.forEach((r, idx) => {
    const m = Math.floor(r.t);
    if (m < lo || m > hi) return;
    let a = byMinute.get(m);
    if (!a) byMinute.set(m, (a = []));
    a.push({ idx, r });
  });
  const minutes = new Set<number>([...byMinute.keys()]);
  minutes.add(Math.floor(w.from));
  minutes.add(Math.floor(w.to));
  if (w.resolvedAt !== undefined) minutes.add(Math.floor(w.resolvedAt));
  let lastStaff = '';
  const group = vs.length > 1;
  for (const m of [...minutes].sort((a, b) => a - b)) {
    if (m < 0 && !byMinute.has(m)) continue;
    const recs = byMinute.get(m) ?? [];
    // The same happening twice in a minute for one participant (two reports of
    // nausea) is shown once with a count; the same text for several
    // participants (a stage every participant enters) is shown once.
    const perWho = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const { r } of recs) {
      const from = r.type === 'emit' ? r.event['participant'] : 'participant' in r ? r.participant : undefined;
      const who = typeof from === 'string' ? from : '';
      for (const text of describe(r, group, focus)) {
        const key = `${who}\u0000${text}`;
        const n = (perWho.get(key) ?? 0) + 1;
        perWho.set(key, n);
        counts.set(text, Math.max(counts.get(text) ?? 0, n));
      }
    }
    const happenings = [...counts].map(([text, n]) => (n > 1 ? `${text} (×${n})` : text));
    const marked = inWindow(m);
    const key = m === Math.floor(w.from) || m === Math.floor(w.to) || m === Math.floor(w.resolvedAt ?? -1);
    if (happenings.length === 0 && !key && !(dense(m) && recs.length > 0)) continue;
    const snap = snapshotAt(view, m + 1 - 1e-9);
    const stage = snap ? stageText(snap) : '';
    const vitals = snap ? measures.map((x) => vital(x, snap)).join(' · ') : '';
    const time = showTime(m).padEnd(10);
    const head = `${marked ? paint('1', '*') : ' '} ${time} ${stage.padEnd(18)} ${vitals}`.trimEnd();
    out.push(head);
    const notes: string[] = [];
    if (m === Math.floor(w.from) && result.kind === 'assert' && w.to > w.from) notes.push('window opens');
    if (m === Math.floor(w.to) && w.to > w.from) notes.push('window closes');
    if (w.resolvedAt !== undefined && m === Math.floor(w.resolvedAt)) notes.push(`awaited condition holds now (${showMinutes(w.resolvedAt - w.from)} after the window opened)`);
    const all = [...happenings, ...notes];
    if (all.length) out.push(...wrap(all, INDENT, 100));
    if (snap) {
      const staff = `staff: ${staffState(h.staff, snap)}`;
      if (staff !== lastStaff) {
        out.push(`${INDENT}${staff}`);
        lastStaff = staff;
      }
    }
  }
  out.push('');
  out.push(outcomeLine(trace, vs));
  return out.join('\n') + '\n';
}

// ── Pieces ───────────────────────────────────────────────────────────────

function where(span: SourceSpan, source: string | undefined): string[] {
  const loc = span.file !== undefined ? `${span.file}:${span.line}:${span.column}` : `line ${span.line}, column ${span.column}`;
  const out = [`  at ${loc}`];
  if (source !== undefined) {
    const text = source.split(/\r?\n/)[span.line - 1];
    if (text !== undefined) {
      const gutter = String(span.line);
      out.push(`  ${gutter} | ${text.trimEnd()}`);
      const width = Math.max(1, Math.min(span.end - span.start, text.trimEnd().length - (span.column - 1)));
      out.push(`  ${' '.repeat(gutter.length)} | ${' '.repeat(span.column - 1)}${'^'.repeat(width)}`);
    }
  }
  return out;
}

function profileLine(ir: IR, view: View, group: boolean): string {
  const p = view.profile!;
  return `Participant ${p.id}${group ? ' (shown)' : ''}: ${showProfile(ir, p)}`;
}

function staffList(s: Readonly<Record<string, number>>): string {
  const e = Object.entries(s);
  return e.length ? e.map(([r, n]) => `${n} ${r}`).join(', ') : 'none';
}

function staffState(onDuty: Readonly<Record<string, number>>, s: Snapshot): string {
  const roles = [...new Set([...Object.keys(onDuty), ...Object.keys(s.present)])];
  return roles
    .map((r) => {
      const present = s.present[r] ?? 0;
      const free = Math.min(present, s.free[r] ?? 0);
      const parts = [`${free} free`];
      if (present - free > 0) parts.push(`${present - free} attending`);
      const absent = (onDuty[r] ?? 0) - present;
      if (absent > 0) parts.push(`${absent} absent`);
      return `${r} ${parts.join(', ')}`;
    })
    .join('; ');
}

const label = (m: string) => m.toUpperCase();

function vital(m: string, s: Snapshot): string {
  const t = s.truth[m];
  const o = s.observed[m];
  const truth = t ? `true ${showVital(t.value)}` : 'true ?';
  if (!o) return `${label(m)} ${truth} / not measured yet`;
  const age = s.t - o.at;
  const when = age < 0.05 ? 'now' : `${showNumber(age)} min ago`;
  return `${label(m)} ${truth} / seen ${showVital(o.value)} (${when})`;
}

function stageText(s: Snapshot): string {
  if (s.outcome !== undefined) return `(${s.outcome})`;
  if (s.sessionStage === undefined) return '(no stage)';
  return s.paused.has(s.sessionStage) ? `${s.sessionStage} PAUSED` : s.sessionStage;
}

function snapshotAt(view: View, t: number): Snapshot | undefined {
  let found: Snapshot | undefined;
  for (const s of view.snapshots) {
    if (s.t > t) break;
    found = s;
  }
  return found;
}

/** The measures worth showing: the property's, the monitor line's (monitoring gaps), else none. */
function focusMeasures(ir: IR, session: Session | undefined, result: PropertyResult): string[] {
  if (!session) return [];
  if (result.kind === 'assert') {
    const a = session.asserts.find((x) => x.name === result.name);
    if (!a) return [];
    const p = a.property;
    const set = p.kind === 'leadsTo' ? measuresIn(p.effect, measuresIn(p.cause)) : measuresIn(p.expr);
    return order(ir, set);
  }
  if (result.name === 'builtin.monitoring-gaps' && result.span) {
    for (const st of session.stages) for (const m of st.monitors) if (m.span.start === result.span.start) return [...m.measures];
  }
  return [];
}

const order = (ir: IR, set: Set<string>) => ir.measures.map((m) => m.name).filter((n) => set.has(n));


/** What a record says, in clinical words ([] for truth samples, requests, states and readings of measures not in focus). */
function describe(r: TraceRecord, group: boolean, focus: ReadonlySet<string>): string[] {
  const who = (p: unknown) => (group && p !== undefined ? `${String(p)}: ` : '');
  switch (r.type) {
    case 'truth':
    case 'request':
    case 'state':
      return [];
    case 'observe': {
      const shown = Object.entries(r.values).filter(([k]) => focus.has(k));
      return shown.length ? [`${who(r.participant)}measured ${shown.map(([k, v]) => `${label(k)} ${showVital(v)}`).join(', ')}`] : [];
    }
    case 'event':
      return [`${who(r.participant)}EVENT ${r.name}`];
    case 'staff':
      return [`a ${r.role} ${r.action === 'arrive' ? 'arrives' : 'is called away'}`];
    case 'outcome':
      return [`${who(r.participant)}outcome ${r.outcome}${r.reason ? ` (${r.reason})` : ''}`];
    case 'end':
      return [r.reason === 'horizon' ? 'simulation stopped (time horizon)' : 'session over'];
    case 'emit': {
      const e = r.event;
      return [`${who(e['participant'])}${describeEmitted(e, { group }).text}`];
    }
  }
}

function outcomeLine(trace: Trace, vs: readonly View[]): string {
  const outs = trace.records.filter((r) => r.type === 'outcome');
  const end = trace.records.find((r) => r.type === 'end');
  const parts = outs.map((r) => {
    if (r.type !== 'outcome') return '';
    const why = [r.reason, r.rule ? `rule ${r.rule}` : undefined].filter((x) => x !== undefined).join(', ');
    return `${vs.length > 1 && r.participant !== undefined ? `${r.participant} ` : ''}${r.outcome} at ${showTime(r.t)}${why ? ` (${why})` : ''}`;
  });
  const open = vs.filter((v) => !v.complete).map((v) => v.participant ?? 'the participant');
  let text = parts.length ? `Outcome: ${parts.join('; ')}.` : 'Outcome: none.';
  if (end && end.type === 'end' && end.reason === 'horizon') {
    text += ` The simulation stopped at ${showTime(end.t)} (time horizon)${open.length && vs.length > 1 ? ` with ${open.join(', ')} still in session` : ''}.`;
  } else if (!end && open.length) text += ` The trace ends at ${showTime(vs[0]?.end ?? 0)}.`;
  return text;
}

/** Items joined by "; ", broken into lines between items only. */
function wrap(items: readonly string[], indent: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const it of items) {
    if (cur && indent.length + cur.length + 2 + it.length > width) {
      lines.push(`${indent}${cur};`);
      cur = it;
    } else cur = cur ? `${cur}; ${it}` : it;
  }
  if (cur) lines.push(indent + cur);
  return lines;
}
