/**
 * `loadIR`: parse and validate an IR document by hand-written structural
 * checks, then check that every name an expression or action uses is
 * declared. Any problem is an `IRError` naming the JSON path.
 */
import {
  BINARY_OPS,
  CALL_FNS,
  COMPARE_OPS,
  IR_VERSION,
  OUTCOMES,
  ROUTES,
  type Action,
  type Expr,
  type IR,
  type Session,
} from './ir.js';

export type IRErrorCode =
  | 'invalid-json'
  | 'not-ir'
  | 'newer-version'
  | 'unsupported-version'
  | 'invalid'
  | 'unknown-name'
  | 'duplicate-name';

/** A problem with an IR document. `path` is a JSONPath such as `$.sessions[0].stages[2].duration`. */
export class IRError extends Error {
  override readonly name = 'IRError';
  constructor(
    readonly code: IRErrorCode,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export type SafeLoadResult = { readonly ok: true; readonly ir: IR } | { readonly ok: false; readonly error: IRError };

/** Like `loadIR`, but returns the error instead of throwing it. */
export function safeLoadIR(json: unknown): SafeLoadResult {
  try {
    return { ok: true, ir: loadIR(json) };
  } catch (e) {
    if (e instanceof IRError) return { ok: false, error: e };
    throw e;
  }
}

/**
 * Validates an IR document (a parsed object or its JSON text) and returns it
 * typed. Throws `IRError` on invalid, truncated or newer-version input.
 */
export function loadIR(json: unknown): IR {
  let doc = json;
  if (typeof json === 'string') {
    try {
      doc = JSON.parse(json) as unknown;
    } catch (e) {
      throw new IRError('invalid-json', '$', `not valid JSON (truncated?): ${(e as Error).message}`);
    }
  }
  if (!isObj(doc) || !('kapspecIR' in doc)) {
    throw new IRError('not-ir', '$', 'not a kapspec IR document: the "kapspecIR" version field is missing');
  }
  const v = doc.kapspecIR;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new IRError('not-ir', '$.kapspecIR', `the IR version must be an integer, got ${show(v)}`);
  }
  if (v > IR_VERSION) {
    throw new IRError(
      'newer-version',
      '$.kapspecIR',
      `IR version ${v} is newer than this runtime understands (${IR_VERSION}); upgrade @kapspec/runtime`,
    );
  }
  if (v !== IR_VERSION) {
    throw new IRError('unsupported-version', '$.kapspecIR', `IR version ${v} is not supported (expected ${IR_VERSION})`);
  }
  checkShape(doc);
  const ir = doc as unknown as IR;
  checkNames(ir);
  return ir;
}

// ── Structure ────────────────────────────────────────────────────────────

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const show = (x: unknown): string => {
  if (x === undefined) return 'nothing';
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 40 ? `${s.slice(0, 37)}...` : s;
};
const fail = (path: string, msg: string): never => {
  throw new IRError('invalid', path, msg);
};
const key = (path: string, k: string) => `${path}.${k}`;
const idx = (path: string, i: number) => `${path}[${i}]`;

function obj(x: unknown, path: string, what: string): Obj {
  if (!isObj(x)) fail(path, `expected ${what} (an object), got ${show(x)}`);
  return x as Obj;
}
function arr(o: Obj, k: string, path: string): unknown[] {
  const x = o[k];
  if (!Array.isArray(x)) fail(key(path, k), `expected an array, got ${show(x)}`);
  return x as unknown[];
}
function str(o: Obj, k: string, path: string, optional = false): void {
  const x = o[k];
  if (x === undefined && optional) return;
  if (typeof x !== 'string') fail(key(path, k), `expected a string, got ${show(x)}`);
}
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
function name(o: Obj, k: string, path: string): void {
  str(o, k, path);
  if (!NAME.test(o[k] as string)) fail(key(path, k), `expected a name (letters, digits, _), got ${show(o[k])}`);
}
function num(o: Obj, k: string, path: string, opts: { optional?: boolean; min?: number; int?: boolean; positive?: boolean } = {}): void {
  const x = o[k];
  if (x === undefined && opts.optional) return;
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(key(path, k), `expected a finite number, got ${show(x)}`);
  const n = x as number;
  if (opts.int && !Number.isInteger(n)) fail(key(path, k), `expected a whole number, got ${n}`);
  if (opts.min !== undefined && n < opts.min) fail(key(path, k), `expected at least ${opts.min}, got ${n}`);
  if (opts.positive && n <= 0) fail(key(path, k), `expected a number above 0, got ${n}`);
}
function oneOf(o: Obj, k: string, path: string, values: readonly string[], optional = false): void {
  const x = o[k];
  if (x === undefined && optional) return;
  if (typeof x !== 'string' || !values.includes(x)) {
    fail(key(path, k), `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${show(x)}`);
  }
}
function span(o: Obj, k: string, path: string, optional = false): void {
  const x = o[k];
  if (x === undefined && optional) return;
  const p = key(path, k);
  const s = obj(x, p, 'a source span');
  str(s, 'file', p, true);
  num(s, 'start', p, { int: true, min: 0 });
  num(s, 'end', p, { int: true, min: 0 });
  num(s, 'line', p, { int: true, min: 1 });
  num(s, 'column', p, { int: true, min: 1 });
  if ((s.end as number) < (s.start as number)) fail(key(p, 'end'), 'a span cannot end before it starts');
}
function range(o: Obj, path: string, minKey = 'min', maxKey = 'max'): void {
  num(o, minKey, path);
  num(o, maxKey, path);
  if ((o[maxKey] as number) < (o[minKey] as number)) fail(key(path, maxKey), `${maxKey} is below ${minKey}`);
}
function dose(o: Obj, k: string, path: string, optional = false): void {
  if (o[k] === undefined && optional) return;
  const p = key(path, k);
  const d = obj(o[k], p, 'a dose');
  num(d, 'value', p, { min: 0 });
  oneOf(d, 'unit', p, ['mg', 'mg/kg']);
}

function checkShape(doc: Obj): void {
  const p = '$';
  const protocol = obj(doc.protocol, key(p, 'protocol'), 'the protocol header');
  str(protocol, 'title', '$.protocol');
  str(protocol, 'version', '$.protocol', true);
  span(protocol, 'span', '$.protocol');

  const setting = obj(doc.setting, '$.setting', 'the setting');
  oneOf(setting, 'mode', '$.setting', ['individual', 'group']);
  if (setting.mode === 'group') {
    num(setting, 'min', '$.setting', { int: true, min: 1 });
    num(setting, 'max', '$.setting', { int: true, min: 1 });
    range(setting, '$.setting');
  }
  span(setting, 'span', '$.setting', true);

  if (doc.population !== undefined) {
    const pp = '$.population';
    const pop = obj(doc.population, pp, 'the population');
    if (pop.age !== undefined) {
      const age = obj(pop.age, key(pp, 'age'), 'an age range');
      range(age, key(pp, 'age'));
      span(age, 'span', key(pp, 'age'));
    }
    for (const k of ['exclude', 'caution']) {
      arr(pop, k, pp).forEach((f, i) => {
        const fp = idx(key(pp, k), i);
        const fo = obj(f, fp, 'a flag');
        name(fo, 'flag', fp);
        span(fo, 'span', fp);
      });
    }
    arr(pop, 'excludeWhen', pp).forEach((w, i) => {
      const wp = idx(key(pp, 'excludeWhen'), i);
      const wo = obj(w, wp, 'an exclusion condition');
      expr(wo.expr, key(wp, 'expr'));
      span(wo, 'span', wp);
    });
    span(pop, 'span', pp);
  }

  arr(doc, 'roles', p).forEach((r, i) => {
    const rp = idx('$.roles', i);
    const ro = obj(r, rp, 'a role');
    name(ro, 'name', rp);
    num(ro, 'min', rp, { int: true, min: 0 });
    num(ro, 'max', rp, { int: true, min: 0, optional: true });
    if (ro.max !== undefined) range(ro, rp);
    num(ro, 'perParticipants', rp, { int: true, min: 1, optional: true });
    str(ro, 'qualified', rp, true);
    span(ro, 'span', rp);
  });
  arr(doc, 'measures', p).forEach((m, i) => {
    const mp = idx('$.measures', i);
    const mo = obj(m, mp, 'a measure');
    name(mo, 'name', mp);
    str(mo, 'unit', mp);
    range(mo, mp);
    span(mo, 'span', mp);
  });
  arr(doc, 'events', p).forEach((e, i) => {
    const ep = idx('$.events', i);
    const eo = obj(e, ep, 'an event');
    name(eo, 'name', ep);
    span(eo, 'span', ep);
  });
  arr(doc, 'drugs', p).forEach((d, i) => {
    const dp = idx('$.drugs', i);
    const dobj = obj(d, dp, 'a drug');
    name(dobj, 'name', dp);
    oneOf(dobj, 'unit', dp, ['mg', 'mg/kg']);
    dose(dobj, 'max', dp, true);
    span(dobj, 'span', dp);
  });
  if (doc.course !== undefined) {
    const cp = '$.course';
    const c = obj(doc.course, cp, 'the course');
    arr(c, 'steps', cp).forEach((s, i) => {
      const sp = idx(key(cp, 'steps'), i);
      const so = obj(s, sp, 'a course step');
      name(so, 'session', sp);
      for (const k of ['repeat', 'spacing']) {
        if (so[k] === undefined) continue;
        const ro = obj(so[k], key(sp, k), `a ${k} range`);
        num(ro, 'min', key(sp, k), { min: 0, int: k === 'repeat' });
        num(ro, 'max', key(sp, k), { min: 0, int: k === 'repeat' });
        range(ro, key(sp, k));
      }
      span(so, 'span', sp);
    });
    arr(c, 'limits', cp).forEach((l, i) => {
      const lp = idx(key(cp, 'limits'), i);
      const lo = obj(l, lp, 'a course limit');
      name(lo, 'session', lp);
      num(lo, 'count', lp, { int: true, min: 1 });
      num(lo, 'perMinutes', lp, { positive: true });
      span(lo, 'span', lp);
    });
    span(c, 'span', cp);
  }
  const sessions = arr(doc, 'sessions', p);
  if (sessions.length === 0) fail('$.sessions', 'a protocol needs at least one session');
  sessions.forEach((s, i) => session(s, idx('$.sessions', i)));
}

function session(s: unknown, p: string): void {
  const so = obj(s, p, 'a session');
  name(so, 'name', p);
  const stages = arr(so, 'stages', p);
  if (stages.length === 0) fail(key(p, 'stages'), 'a session needs at least one stage');
  stages.forEach((st, i) => stage(st, idx(key(p, 'stages'), i)));
  if (so.discharge !== undefined) {
    const dp = key(p, 'discharge');
    const d = obj(so.discharge, dp, 'a discharge condition');
    expr(d.expr, key(dp, 'expr'));
    span(d, 'span', dp);
  }
  arr(so, 'rules', p).forEach((r, i) => {
    const rp = idx(key(p, 'rules'), i);
    const ro = obj(r, rp, 'a rule');
    name(ro, 'id', rp);
    expr(ro.when, key(rp, 'when'));
    arr(ro, 'actions', rp).forEach((a, j) => action(a, idx(key(rp, 'actions'), j)));
    if (ro.resume !== undefined) expr(ro.resume, key(rp, 'resume'));
    span(ro, 'span', rp);
  });
  arr(so, 'staffing', p).forEach((l, i) => {
    const lp = idx(key(p, 'staffing'), i);
    const lo = obj(l, lp, 'a staffing line');
    name(lo, 'role', lp);
    oneOf(lo, 'op', lp, COMPARE_OPS);
    num(lo, 'count', lp, { int: true, min: 0 });
    num(lo, 'perParticipants', lp, { int: true, min: 1, optional: true });
    arr(lo, 'during', lp).forEach((_, j) => {
      if (typeof (lo.during as unknown[])[j] !== 'string') fail(idx(key(lp, 'during'), j), 'expected a stage name');
    });
    span(lo, 'span', lp);
  });
  arr(so, 'asserts', p).forEach((a, i) => {
    const ap = idx(key(p, 'asserts'), i);
    const ao = obj(a, ap, 'an assert');
    name(ao, 'name', ap);
    const pp = key(ap, 'property');
    const po = obj(ao.property, pp, 'a property');
    oneOf(po, 'kind', pp, ['always', 'never', 'eventually', 'leadsTo']);
    if (po.kind === 'leadsTo') {
      expr(po.cause, key(pp, 'cause'));
      expr(po.effect, key(pp, 'effect'));
    } else {
      expr(po.expr, key(pp, 'expr'));
    }
    if (po.kind === 'eventually' || po.kind === 'leadsTo') num(po, 'within', pp, { min: 0 });
    span(ao, 'span', ap);
  });
  span(so, 'span', p);
}

function stage(s: unknown, p: string): void {
  const so = obj(s, p, 'a stage');
  name(so, 'name', p);
  const dp = key(p, 'duration');
  const d = obj(so.duration, dp, 'a stage duration');
  for (const k of ['exact', 'atLeast', 'atMost']) num(d, k, dp, { optional: true, min: 0 });
  if (d.exact !== undefined && (d.atLeast !== undefined || d.atMost !== undefined)) {
    fail(dp, 'a duration is either exact or bounded by atLeast/atMost, not both');
  }
  if (d.atLeast !== undefined && d.atMost !== undefined) range(d, dp, 'atLeast', 'atMost');
  span(d, 'span', dp, true);
  arr(so, 'monitors', p).forEach((m, i) => {
    const mp = idx(key(p, 'monitors'), i);
    const mo = obj(m, mp, 'a monitoring line');
    const ms = arr(mo, 'measures', mp);
    if (ms.length === 0) fail(key(mp, 'measures'), 'a monitoring line names at least one measure');
    ms.forEach((_, j) => {
      if (typeof ms[j] !== 'string') fail(idx(key(mp, 'measures'), j), 'expected a measure name');
    });
    const sp = key(mp, 'schedule');
    const sch = obj(mo.schedule, sp, 'a schedule');
    oneOf(sch, 'kind', sp, ['every', 'at', 'start', 'continuously']);
    if (sch.kind === 'every') num(sch, 'minutes', sp, { positive: true });
    if (sch.kind === 'at') num(sch, 'minutes', sp, { min: 0 });
    span(mo, 'span', mp);
  });
  arr(so, 'administer', p).forEach((a, i) => {
    const ap = idx(key(p, 'administer'), i);
    const ao = obj(a, ap, 'an administer line');
    name(ao, 'drug', ap);
    dose(ao, 'dose', ap);
    oneOf(ao, 'route', ap, ROUTES);
    const dlp = key(ap, 'delivery');
    const dl = obj(ao.delivery, dlp, 'a delivery');
    oneOf(dl, 'kind', dlp, ['over', 'once']);
    if (dl.kind === 'over') num(dl, 'minutes', dlp, { positive: true });
    span(ao, 'span', ap);
  });
  arr(so, 'gates', p).forEach((g, i) => {
    const gp = idx(key(p, 'gates'), i);
    const go = obj(g, gp, 'a gate');
    expr(go.expr, key(gp, 'expr'));
    action(go.otherwise, key(gp, 'otherwise'));
    const k = (go.otherwise as Obj).kind;
    if (k !== 'defer' && k !== 'endSession') fail(key(key(gp, 'otherwise'), 'kind'), 'a gate ends in "defer" or "endSession"');
    span(go, 'span', gp);
  });
  span(so, 'span', p);
}

const ACTION_KINDS = ['pause', 'stop', 'endSession', 'defer', 'escalate', 'notify', 'attend', 'give', 'reduce'];

function action(a: unknown, p: string): void {
  const ao = obj(a, p, 'an action');
  oneOf(ao, 'kind', p, ACTION_KINDS);
  switch (ao.kind) {
    case 'pause':
    case 'stop':
      name(ao, 'stage', p);
      break;
    case 'endSession':
    case 'defer':
      str(ao, 'reason', p);
      break;
    case 'escalate':
      name(ao, 'level', p);
      break;
    case 'notify':
      name(ao, 'role', p);
      break;
    case 'attend':
      name(ao, 'role', p);
      num(ao, 'within', p, { optional: true, min: 0 });
      num(ao, 'minutes', p, { optional: true, min: 0 });
      break;
    case 'give':
      name(ao, 'drug', p);
      dose(ao, 'dose', p);
      oneOf(ao, 'route', p, ROUTES, true);
      break;
    case 'reduce':
      name(ao, 'drug', p);
      dose(ao, 'to', p);
      break;
  }
  span(ao, 'span', p);
}

const MAX_DEPTH = 200;
const EXPR_KINDS = [
  'measure', 'event', 'inStage', 'paused', 'outcome', 'observed', 'baseline', 'caution', 'elapsed',
  'number', 'role', 'drug', 'call', 'not', 'neg', 'binary', 'for', 'during',
];

function expr(e: unknown, p: string, depth = 0): void {
  if (depth > MAX_DEPTH) fail(p, `expression nested deeper than ${MAX_DEPTH} levels`);
  const eo = obj(e, p, 'an expression');
  oneOf(eo, 'kind', p, EXPR_KINDS);
  switch (eo.kind) {
    case 'measure':
    case 'event':
    case 'role':
    case 'drug':
      name(eo, 'name', p);
      break;
    case 'inStage':
    case 'paused':
      name(eo, 'stage', p);
      break;
    case 'outcome':
      oneOf(eo, 'name', p, OUTCOMES);
      break;
    case 'observed':
    case 'baseline':
      name(eo, 'measure', p);
      break;
    case 'caution':
      name(eo, 'flag', p);
      break;
    case 'elapsed':
      break;
    case 'number':
      num(eo, 'value', p);
      str(eo, 'unit', p, true);
      break;
    case 'call': {
      oneOf(eo, 'fn', p, CALL_FNS);
      const args = arr(eo, 'args', p);
      const fn = eo.fn as string;
      const want = fn === 'max' || fn === 'min' ? 2 : 1;
      if (args.length !== want) fail(key(p, 'args'), `${fn}() takes ${want} argument${want === 1 ? '' : 's'}, got ${args.length}`);
      args.forEach((a, i) => expr(a, idx(key(p, 'args'), i), depth + 1));
      const argKind = { present: 'role', free: 'role', dose: 'drug', count: 'event' }[fn];
      if (argKind !== undefined && (args[0] as Obj).kind !== argKind) {
        fail(key(idx(key(p, 'args'), 0), 'kind'), `${fn}() takes a ${argKind} name`);
      }
      break;
    }
    case 'not':
    case 'neg':
      expr(eo.operand, key(p, 'operand'), depth + 1);
      break;
    case 'binary':
      oneOf(eo, 'op', p, BINARY_OPS);
      expr(eo.left, key(p, 'left'), depth + 1);
      expr(eo.right, key(p, 'right'), depth + 1);
      break;
    case 'for':
      expr(eo.expr, key(p, 'expr'), depth + 1);
      num(eo, 'minutes', p, { min: 0 });
      break;
    case 'during': {
      expr(eo.expr, key(p, 'expr'), depth + 1);
      const st = arr(eo, 'stages', p);
      if (st.length === 0) fail(key(p, 'stages'), '"during" names at least one stage');
      st.forEach((s, i) => {
        if (typeof s !== 'string') fail(idx(key(p, 'stages'), i), 'expected a stage name');
      });
      break;
    }
  }
  span(eo, 'span', p, true);
}

// ── Names ────────────────────────────────────────────────────────────────

function unknown(path: string, what: string, nameText: string, known: Iterable<string>): never {
  const list = [...known];
  throw new IRError(
    'unknown-name',
    path,
    `unknown ${what} "${nameText}"${list.length ? ` (declared: ${list.join(', ')})` : ` (none declared)`}`,
  );
}

function unique(names: readonly string[], path: string, what: string): Set<string> {
  const seen = new Set<string>();
  names.forEach((n, i) => {
    if (seen.has(n)) throw new IRError('duplicate-name', `${path}[${i}].name`, `${what} "${n}" is declared twice`);
    seen.add(n);
  });
  return seen;
}

function checkNames(ir: IR): void {
  const measures = unique(ir.measures.map((m) => m.name), '$.measures', 'measure');
  const events = unique(ir.events.map((e) => e.name), '$.events', 'event');
  const roles = unique(ir.roles.map((r) => r.name), '$.roles', 'role');
  const drugs = unique(ir.drugs.map((d) => d.name), '$.drugs', 'drug');
  const sessions = unique(ir.sessions.map((s) => s.name), '$.sessions', 'session');
  const flags = new Set([...(ir.population?.caution ?? []), ...(ir.population?.exclude ?? [])].map((f) => f.flag));
  ir.measures.forEach((m, i) => {
    if (m.max < m.min) throw new IRError('invalid', `$.measures[${i}].max`, 'max is below min');
  });

  const scope = { measures, events, roles, drugs, flags, stages: new Set<string>() };
  ir.population?.excludeWhen.forEach((w, i) => exprNames(w.expr, `$.population.excludeWhen[${i}].expr`, scope));
  ir.course?.steps.forEach((s, i) => {
    if (!sessions.has(s.session)) unknown(`$.course.steps[${i}].session`, 'session', s.session, sessions);
  });
  ir.course?.limits.forEach((s, i) => {
    if (!sessions.has(s.session)) unknown(`$.course.limits[${i}].session`, 'session', s.session, sessions);
  });
  ir.sessions.forEach((s, i) => sessionNames(s, `$.sessions[${i}]`, { ...scope, stages: stageSet(s, `$.sessions[${i}]`) }));
}

function stageSet(s: Session, p: string): Set<string> {
  const seen = new Set<string>();
  s.stages.forEach((st, i) => {
    if (seen.has(st.name)) throw new IRError('duplicate-name', `${p}.stages[${i}].name`, `stage "${st.name}" is declared twice`);
    seen.add(st.name);
  });
  return seen;
}

interface Scope {
  measures: Set<string>;
  events: Set<string>;
  roles: Set<string>;
  drugs: Set<string>;
  flags: Set<string>;
  stages: Set<string>;
}

function sessionNames(s: Session, p: string, sc: Scope): void {
  s.stages.forEach((st, i) => {
    const sp = `${p}.stages[${i}]`;
    st.monitors.forEach((m, j) =>
      m.measures.forEach((n, k) => {
        if (!sc.measures.has(n)) unknown(`${sp}.monitors[${j}].measures[${k}]`, 'measure', n, sc.measures);
      }),
    );
    st.administer.forEach((a, j) => {
      if (!sc.drugs.has(a.drug)) unknown(`${sp}.administer[${j}].drug`, 'drug', a.drug, sc.drugs);
    });
    st.gates.forEach((g, j) => exprNames(g.expr, `${sp}.gates[${j}].expr`, sc));
  });
  if (s.discharge) exprNames(s.discharge.expr, `${p}.discharge.expr`, sc);
  const ruleIds = new Set<string>();
  s.rules.forEach((r, i) => {
    const rp = `${p}.rules[${i}]`;
    if (ruleIds.has(r.id)) throw new IRError('duplicate-name', `${rp}.id`, `rule "${r.id}" is declared twice`);
    ruleIds.add(r.id);
    exprNames(r.when, `${rp}.when`, sc);
    if (r.resume) exprNames(r.resume, `${rp}.resume`, sc);
    r.actions.forEach((a, j) => actionNames(a, `${rp}.actions[${j}]`, sc));
  });
  s.staffing.forEach((l, i) => {
    if (!sc.roles.has(l.role)) unknown(`${p}.staffing[${i}].role`, 'role', l.role, sc.roles);
    l.during.forEach((st, j) => {
      if (!sc.stages.has(st)) unknown(`${p}.staffing[${i}].during[${j}]`, 'stage', st, sc.stages);
    });
  });
  s.asserts.forEach((a, i) => {
    const pp = `${p}.asserts[${i}].property`;
    if (a.property.kind === 'leadsTo') {
      exprNames(a.property.cause, `${pp}.cause`, sc);
      exprNames(a.property.effect, `${pp}.effect`, sc);
    } else exprNames(a.property.expr, `${pp}.expr`, sc);
  });
}

function actionNames(a: Action, p: string, sc: Scope): void {
  switch (a.kind) {
    case 'pause':
    case 'stop':
      if (!sc.stages.has(a.stage)) unknown(`${p}.stage`, 'stage', a.stage, sc.stages);
      break;
    case 'notify':
    case 'attend':
      if (!sc.roles.has(a.role)) unknown(`${p}.role`, 'role', a.role, sc.roles);
      break;
    case 'give':
    case 'reduce':
      if (!sc.drugs.has(a.drug)) unknown(`${p}.drug`, 'drug', a.drug, sc.drugs);
      break;
    default:
      break;
  }
}

function exprNames(e: Expr, p: string, sc: Scope): void {
  switch (e.kind) {
    case 'measure':
      if (!sc.measures.has(e.name)) unknown(`${p}.name`, 'measure', e.name, sc.measures);
      return;
    case 'observed':
    case 'baseline':
      if (!sc.measures.has(e.measure)) unknown(`${p}.measure`, 'measure', e.measure, sc.measures);
      return;
    case 'event':
      if (!sc.events.has(e.name)) unknown(`${p}.name`, 'event', e.name, sc.events);
      return;
    case 'role':
      if (!sc.roles.has(e.name)) unknown(`${p}.name`, 'role', e.name, sc.roles);
      return;
    case 'drug':
      if (!sc.drugs.has(e.name)) unknown(`${p}.name`, 'drug', e.name, sc.drugs);
      return;
    case 'inStage':
    case 'paused':
      if (!sc.stages.has(e.stage)) unknown(`${p}.stage`, 'stage', e.stage, sc.stages);
      return;
    case 'caution':
      if (!sc.flags.has(e.flag)) unknown(`${p}.flag`, 'population flag', e.flag, sc.flags);
      return;
    case 'call':
      e.args.forEach((a, i) => exprNames(a, `${p}.args[${i}]`, sc));
      return;
    case 'not':
    case 'neg':
      exprNames(e.operand, `${p}.operand`, sc);
      return;
    case 'binary':
      exprNames(e.left, `${p}.left`, sc);
      exprNames(e.right, `${p}.right`, sc);
      return;
    case 'for':
      exprNames(e.expr, `${p}.expr`, sc);
      return;
    case 'during':
      exprNames(e.expr, `${p}.expr`, sc);
      e.stages.forEach((s, i) => {
        if (!sc.stages.has(s)) unknown(`${p}.stages[${i}]`, 'stage', s, sc.stages);
      });
      return;
    default:
      return;
  }
}
