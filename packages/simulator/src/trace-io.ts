/**
 * Trace I/O: the JSON Lines form of a `Trace` (trace.ts, version 1).
 *
 * Writing is canonical, so the same trace gives the same bytes:
 * - the header first, then one record per line, each line `\n`-terminated;
 * - in every object the keys `kapspecTrace`, `t`, `type`, `participant` come
 *   first (in that order, when present), then the other keys sorted by UTF-16
 *   code unit; arrays keep their order; `undefined` members are left out;
 * - numbers as JavaScript prints them (`JSON.stringify`), except the
 *   non-finite ones, which JSON cannot hold: they are written
 *   `{"$number":"NaN"}`, `{"$number":"Infinity"}`, `{"$number":"-Infinity"}`
 *   (a model that produced such a reading is recorded, not hidden), and read
 *   back as numbers.
 *
 * `parseTrace` checks the structure (header version, known record types,
 * required fields and their types, time order) and names the line and field
 * of the first problem.
 */
import { createHash } from 'node:crypto';
import { TRACE_VERSION, type Trace, type TraceHeader, type TraceRecord } from './trace.js';

// ── Writing ──────────────────────────────────────────────────────────────

const FIRST_KEYS = ['kapspecTrace', 't', 'type', 'participant'] as const;
const FIRST_SET: ReadonlySet<string> = new Set(FIRST_KEYS);

function orderedKeys(o: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const k of FIRST_KEYS) if (Object.prototype.hasOwnProperty.call(o, k)) keys.push(k);
  const rest = Object.keys(o).filter((k) => !FIRST_SET.has(k));
  rest.sort(byCodeUnit);
  return keys.concat(rest);
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function writeValue(v: unknown, sortAll: boolean): string | undefined {
  switch (typeof v) {
    case 'number':
      if (Number.isFinite(v)) return JSON.stringify(v);
      return `{"$number":"${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'}"}`;
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      return JSON.stringify(String(v));
    default: {
      if (v === null) return 'null';
      if (Array.isArray(v)) return `[${v.map((x) => writeValue(x, sortAll) ?? 'null').join(',')}]`;
      const o = v as Record<string, unknown>;
      const keys = sortAll ? Object.keys(o).sort(byCodeUnit) : orderedKeys(o);
      const parts: string[] = [];
      for (const k of keys) {
        const s = writeValue(o[k], sortAll);
        if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
      }
      return `{${parts.join(',')}}`;
    }
  }
}

/** One canonical JSON line (no newline) for a header or a record. */
export function traceLine(value: TraceHeader | TraceRecord): string {
  return writeValue(value, false)!;
}

/** The lines of a trace, header first, without newlines: for streaming to a file. */
export function* traceLines(trace: Trace): Generator<string, void, undefined> {
  yield traceLine(trace.header);
  for (const r of trace.records) yield traceLine(r);
}

/** The whole trace as JSON Lines text (every line `\n`-terminated). */
export function serializeTrace(trace: Trace): string {
  let s = '';
  for (const line of traceLines(trace)) s += `${line}\n`;
  return s;
}

/**
 * Canonical JSON of any JSON value: every object's keys sorted by UTF-16
 * code unit, no whitespace.
 */
export function canonicalJson(value: unknown): string {
  return writeValue(value, true) ?? 'null';
}

const hashes = new WeakMap<object, string>();

/**
 * SHA-256 (hex) of the canonical JSON of the IR: what a trace's header
 * `irHash` holds. Remembered per IR object (an IR is never mutated: the
 * runtime treats it as read-only), so a Monte Carlo run hashes it once.
 */
export function irHash(ir: unknown): string {
  const known = typeof ir === 'object' && ir !== null ? hashes.get(ir) : undefined;
  if (known !== undefined) return known;
  const h = createHash('sha256').update(canonicalJson(ir), 'utf8').digest('hex');
  if (typeof ir === 'object' && ir !== null) hashes.set(ir, h);
  return h;
}

// ── Reading ──────────────────────────────────────────────────────────────

export type ParseTraceResult = { readonly trace: Trace } | { readonly error: { readonly line: number; readonly message: string } };

class Bad extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(problem);
  }
}

function reviveNumbers(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$number') {
      const s = (v as { $number: unknown }).$number;
      if (s === 'NaN') return Number.NaN;
      if (s === 'Infinity') return Number.POSITIVE_INFINITY;
      if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
    }
  }
  return v;
}

const show = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

type Obj = Record<string, unknown>;

function obj(v: unknown, field: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Bad(field, `expected an object, got ${show(v)}`);
  return v as Obj;
}
function str(o: Obj, k: string, path: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new Bad(path + k, `expected a string, got ${show(v)}`);
  return v;
}
function optStr(o: Obj, k: string, path: string): void {
  if (o[k] !== undefined) str(o, k, path);
}
function num(o: Obj, k: string, path: string, finite = true): number {
  const v = o[k];
  if (typeof v !== 'number' || (finite && !Number.isFinite(v))) throw new Bad(path + k, `expected a${finite ? ' finite' : ''} number, got ${show(v)}`);
  return v;
}
function oneOf<T extends string>(o: Obj, k: string, path: string, allowed: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Bad(path + k, `expected one of ${allowed.map((a) => `"${a}"`).join(', ')}, got ${show(v)}`);
  }
  return v as T;
}
/** A record of numbers (readings may be non-finite: recorded as the model produced them). */
function numbers(o: Obj, k: string, path: string, finite: boolean): void {
  const m = obj(o[k], path + k);
  for (const [name, v] of Object.entries(m)) {
    if (typeof v !== 'number' || (finite && !Number.isFinite(v))) throw new Bad(`${path}${k}.${name}`, `expected a${finite ? ' finite' : ''} number, got ${show(v)}`);
  }
}
function strings(o: Obj, k: string, path: string): void {
  const v = o[k];
  if (!Array.isArray(v)) throw new Bad(path + k, `expected an array of strings, got ${show(v)}`);
  v.forEach((x, i) => {
    if (typeof x !== 'string') throw new Bad(`${path}${k}[${i}]`, `expected a string, got ${show(x)}`);
  });
}

const MODELS = ['calibrated', 'adversarial', 'scripted'] as const;
const RECORD_TYPES = ['truth', 'request', 'observe', 'event', 'staff', 'emit', 'state', 'outcome', 'end'] as const;
const OUTCOMES = ['discharged', 'deferred', 'ended', 'escalated'] as const;

function checkHeader(h: Obj): TraceHeader {
  if (!('kapspecTrace' in h)) {
    throw new Bad('kapspecTrace', 'the first line must be the trace header, with "kapspecTrace": 1 (is this a kapspec trace?)');
  }
  if (h.kapspecTrace !== TRACE_VERSION) {
    throw new Bad('kapspecTrace', `unsupported trace version ${show(h.kapspecTrace)}: this kapspec reads version ${TRACE_VERSION}`);
  }
  str(h, 'protocol', '');
  str(h, 'session', '');
  const hash = str(h, 'irHash', '');
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Bad('irHash', `expected 64 lowercase hex digits (SHA-256), got ${show(hash)}`);
  num(h, 'seed', '');
  oneOf(h, 'model', '', MODELS);
  const params = obj(h.parameters, 'parameters');
  for (const [k, v] of Object.entries(params)) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) {
      throw new Bad(`parameters.${k}`, `expected a number, string or boolean, got ${show(v)}`);
    }
  }
  if (!Array.isArray(h.participants)) throw new Bad('participants', `expected an array, got ${show(h.participants)}`);
  h.participants.forEach((p, i) => {
    const path = `participants[${i}].`;
    const o = obj(p, `participants[${i}]`);
    str(o, 'id', path);
    num(o, 'age', path);
    num(o, 'weightKg', path);
    numbers(o, 'baseline', path, false);
    strings(o, 'flags', path);
  });
  numbers(h, 'staff', '', true);
  return h as unknown as TraceHeader;
}

function checkRecord(r: Obj): TraceRecord {
  num(r, 't', '');
  const type = oneOf(r, 'type', '', RECORD_TYPES);
  switch (type) {
    case 'truth':
      str(r, 'participant', '');
      numbers(r, 'values', '', false);
      break;
    case 'request':
      optStr(r, 'participant', '');
      strings(r, 'measures', '');
      str(r, 'stage', '');
      if (r.continuous !== undefined && typeof r.continuous !== 'boolean') throw new Bad('continuous', `expected true or false, got ${show(r.continuous)}`);
      break;
    case 'observe':
      optStr(r, 'participant', '');
      numbers(r, 'values', '', false);
      break;
    case 'event':
      optStr(r, 'participant', '');
      str(r, 'name', '');
      break;
    case 'staff':
      oneOf(r, 'action', '', ['arrive', 'leave']);
      str(r, 'role', '');
      break;
    case 'emit': {
      const e = obj(r.event, 'event');
      str(e, 'type', 'event.');
      break;
    }
    case 'state':
      optStr(r, 'stage', '');
      strings(r, 'paused', '');
      numbers(r, 'present', '', true);
      numbers(r, 'free', '', true);
      numbers(r, 'dose', '', false);
      break;
    case 'outcome':
      optStr(r, 'participant', '');
      oneOf(r, 'outcome', '', OUTCOMES);
      optStr(r, 'reason', '');
      optStr(r, 'rule', '');
      break;
    case 'end':
      oneOf(r, 'reason', '', ['horizon', 'outcome']);
      break;
  }
  return r as unknown as TraceRecord;
}

/**
 * Reads a JSON Lines trace. On the first problem, returns its 1-based line
 * and a message naming the field: `line 4, field "values.sbp": expected a
 * number, got "high"`.
 */
export function parseTrace(text: string): ParseTraceResult {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return { error: { line: 1, message: 'line 1: the trace is empty: expected a header line with "kapspecTrace": 1' } };
  let header: TraceHeader | undefined;
  const records: TraceRecord[] = [];
  let lastT = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const raw = lines[i]!.endsWith('\r') ? lines[i]!.slice(0, -1) : lines[i]!;
    if (raw.trim() === '') return { error: { line: n, message: `line ${n}: empty line (every line of a trace is one JSON object)` } };
    let value: unknown;
    try {
      value = JSON.parse(raw, reviveNumbers);
    } catch (e) {
      return { error: { line: n, message: `line ${n}: not valid JSON (${(e as Error).message})` } };
    }
    try {
      const o = obj(value, i === 0 ? 'header' : 'record');
      if (i === 0) header = checkHeader(o);
      else {
        const r = checkRecord(o);
        if (r.t < lastT) throw new Bad('t', `${r.t} is before the previous record's time ${lastT}: records must be in time order`);
        lastT = r.t;
        records.push(r);
      }
    } catch (e) {
      if (e instanceof Bad) return { error: { line: n, message: `line ${n}, field "${e.field}": ${e.problem}` } };
      throw e;
    }
  }
  return { trace: { header: header!, records } };
}
