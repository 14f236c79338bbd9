import fc from 'fast-check';
import type { Expr, IR } from '@kapspec/runtime';
import { describe, expect, it } from 'vitest';
import { checkProperties, type PropertyResult, type Trace, type TraceRecord } from '../src/index.js';
import { checkPropertyOnView } from '../src/properties.js';
import { views } from '../src/joint.js';
import { propertySeed } from './seed.js';
import { GROUP, TraceBuilder, flagship, flawedIR, groupIR, P1 } from './trace-builder.js';

const ir = flawedIR();
const byName = (rs: readonly PropertyResult[], name: string) => {
  const r = rs.find((x) => x.name === name);
  if (!r) throw new Error(`no result ${name}`);
  return r;
};
const check = (trace: Trace, name: string, irx: IR = ir) => byName(checkProperties(irx, irx.sessions[0]!, trace), name);
const assertLine = (name: string, irx: IR = ir) => irx.sessions[0]!.asserts.find((a) => a.name === name)!.span.line;

describe('asserts on the flagship trace (BP every 20 min, true surge at 45, paused at 60)', () => {
  const trace = flagship().build();
  const results = checkProperties(ir, 'dosing', trace);

  it('responsive fails with the witness window [45, 50] and says when the pause came', () => {
    const r = byName(results, 'responsive');
    expect(r.status).toBe('failed');
    expect(r.kind).toBe('assert');
    expect(r.span?.line).toBe(assertLine('responsive'));
    expect(r.witness).toMatchObject({ from: 45, to: 50, resolvedAt: 60 });
    expect(r.witness!.records.every((i) => trace.records[i]!.t >= 45 && trace.records[i]!.t <= 50)).toBe(true);
    expect(r.witness!.records).toContain(trace.records.findIndex((x) => x.type === 'truth' && x.t === 45));
    expect(r.message).toBe(
      '"sbp > 180 mmHg during infusion" became true at t+45 min, and "infusion paused" did not hold within 5 min, by t+50 min (it first held at t+60 min, 15 min after)',
    );
    expect(r.triggered).toBe(true);
  });

  it('the other forms pass or fail as the trace says', () => {
    const status = Object.fromEntries(results.map((r) => [r.name, r.status]));
    expect(status).toMatchObject({
      staffed: 'passed',
      acts_on_readings: 'passed', // seen at 60 and paused at the same instant
      terminates: 'passed',
      paused_by_70: 'passed',
      paused_by_50: 'failed',
      below_200: 'passed',
      never_200: 'passed',
      seen_high: 'failed',
      sustained: 'failed',
      unseen_low: 'passed',
      unseen_not_high: 'passed',
    });
    expect(byName(results, 'seen_high').witness).toMatchObject({ from: 60, to: 60 });
    expect(byName(results, 'sustained').message).toBe('"sbp > 180 mmHg for 10 min" holds at t+55 min');
    expect(byName(results, 'paused_by_50').witness).toMatchObject({ from: 0, to: 50 });
  });

  it('every built-in passes, each with its stable name', () => {
    const builtins = results.filter((r) => r.kind === 'builtin');
    expect(builtins.map((r) => [r.name, r.status])).toEqual([
      ['builtin.staffing', 'passed'],
      ['builtin.terminates', 'passed'],
      ['builtin.unhandled-events', 'passed'],
      ['builtin.monitoring-gaps', 'passed'],
      ['builtin.excluded-never-dosed', 'passed'],
      ['builtin.dose-limits', 'passed'],
    ]);
  });

  it('`only` selects properties; `builtins: false` leaves them out', () => {
    expect(checkProperties(ir, 'dosing', trace, { only: ['responsive', 'builtin.staffing'] }).map((r) => r.name)).toEqual(['responsive', 'builtin.staffing']);
    expect(checkProperties(ir, 'dosing', trace, { builtins: false }).every((r) => r.kind === 'assert')).toBe(true);
  });
});

describe('inconclusive: the trace ends before the window closes', () => {
  const cut = flagship().truth(48, { sbp: 193, hr: 75 }).buildUntil(48);
  const results = checkProperties(ir, 'dosing', cut);

  it('implies … within: an edge at 45 whose 5 minutes are not over', () => {
    const r = byName(results, 'responsive');
    expect(r.status).toBe('inconclusive');
    expect(r.witness).toMatchObject({ from: 45, to: 48 });
    expect(r.message).toContain('the trace ends at t+48 min, before the 5 min are up');
  });

  it('eventually … within: T not reached', () => {
    expect(byName(results, 'paused_by_70').status).toBe('inconclusive');
    expect(byName(results, 'terminates').status).toBe('inconclusive');
    expect(byName(results, 'builtin.terminates').status).toBe('inconclusive');
  });

  it('always/never are never inconclusive', () => {
    expect(byName(results, 'below_200').status).toBe('passed');
    expect(byName(results, 'staffed').status).toBe('passed');
  });

  it('a finished session is complete: the final state decides windows past its end', () => {
    const b = new TraceBuilder();
    b.truth(0, { sbp: 130 }).enter(0, 'predose').observe(0, { sbp: 130 });
    b.emit(10, { type: 'stage', stage: 'predose', phase: 'exit' }).state(10, { stage: undefined }).outcome(10, 'deferred').end(10, 'outcome');
    const rs = checkProperties(ir, 'dosing', b.build());
    expect(byName(rs, 'paused_by_70').status).toBe('failed');
    expect(byName(rs, 'paused_by_70').message).toContain('the session was over at t+10 min');
    expect(byName(rs, 'terminates').status).toBe('passed');
  });
});

describe('implies … within passes when every edge is answered in time', () => {
  it('a surge seen and paused for within 5 min', () => {
    const b = new TraceBuilder();
    b.enter(0, 'infusion');
    b.truth(0, { sbp: 150 }).truth(10, { sbp: 185 }).truth(20, { sbp: 150 }).truth(30, { sbp: 186 }).truth(40, { sbp: 150 });
    b.observe(12, { sbp: 184 }).pause(12, 'infusion', 'hypertension').resume(25, 'infusion', 'hypertension');
    b.observe(30, { sbp: 186 }).pause(30, 'infusion', 'hypertension');
    b.end(60, 'horizon');
    const r = check(b.build(), 'responsive');
    expect(r.status).toBe('passed');
    expect(r.message).toContain('became true 2 times');
  });

  it('vacuous when the cause never holds (not triggered)', () => {
    const b = new TraceBuilder();
    b.enter(0, 'infusion').truth(0, { sbp: 150 }).end(30, 'horizon');
    const r = check(b.build(), 'responsive');
    expect(r.status).toBe('passed');
    expect(r.triggered).toBe(false);
  });
});

describe('observed values before the first measurement', () => {
  // Truth at 0, first reading at 5: at t = 0 `observed sbp` is undefined.
  const b = new TraceBuilder();
  b.enter(0, 'predose').truth(0, { sbp: 130 }).observe(5, { sbp: 131 }).end(10, 'horizon');
  const rs = checkProperties(ir, 'dosing', b.build());

  it('a comparison with an unknown value is false', () => {
    const r = byName(rs, 'unseen_low'); // always observed sbp < 250
    expect(r.status).toBe('failed');
    expect(r.witness).toMatchObject({ from: 0, to: 0 });
  });

  it('so its negation is true (two-valued logic after the comparison)', () => {
    expect(byName(rs, 'unseen_not_high').status).toBe('passed'); // always not (observed sbp > 250)
    expect(byName(rs, 'seen_high').status).toBe('passed'); // never observed sbp > 180
  });
});

describe('built-in properties that fail', () => {
  it('builtin.staffing: the medical provider is called away during the infusion', () => {
    const b = flagship();
    // (The builder's last state is the end of the session: give the stage explicitly.)
    const during = { stage: 'infusion', paused: [] };
    b.staff(50, 'leave', 'medical_provider').state(50, { ...during, present: { therapist: 1, medical_provider: 0 }, free: { therapist: 1, medical_provider: 0 } });
    b.staff(55, 'arrive', 'medical_provider').state(55, { ...during, present: { therapist: 1, medical_provider: 1 }, free: { therapist: 1, medical_provider: 1 } });
    const rs = checkProperties(ir, 'dosing', b.build());
    const r = byName(rs, 'builtin.staffing');
    expect(r.status).toBe('failed');
    expect(r.span?.line).toBe(ir.sessions[0]!.staffing[1]!.span.line);
    expect(r.witness).toMatchObject({ from: 50, to: 55 });
    expect(r.message).toBe('"medical_provider >= 1 during infusion" does not hold in infusion from t+50 min to t+55 min: 0 medical_provider present, 1 needed');
    expect(byName(rs, 'staffed').status).toBe('failed');
  });

  it('builtin.staffing: a shortfall that outlasts its stage names the stage it begins in and the one it ends in', () => {
    const b = new TraceBuilder({ protocol: 'Blood pressure every 20 minutes' });
    const none = { present: { therapist: 0, medical_provider: 1 }, free: { therapist: 0, medical_provider: 1 } };
    const all = { present: { therapist: 1, medical_provider: 1 }, free: { therapist: 1, medical_provider: 1 } };
    b.enter(0, 'predose').enter(20, 'infusion');
    b.staff(110, 'leave', 'therapist').state(110, none);
    b.enter(120, 'recovery');
    b.staff(125, 'arrive', 'therapist').state(125, all);
    const r = byName(checkProperties(ir, 'dosing', b.build()), 'builtin.staffing');
    expect(r.status).toBe('failed');
    expect(r.witness).toMatchObject({ from: 110, to: 125 });
    expect(r.message).toBe('"therapist >= 1" does not hold from t+110 min (in infusion) to t+125 min (in recovery): 0 therapist present, 1 needed');
  });

  it('builtin.staffing: a staffing.violation emitted by the machine (attend, no one free)', () => {
    const b = flagship();
    b.event(30, 'panic').rule(30, 'panic');
    b.emit(30, { type: 'attend', role: 'therapist', status: 'waiting', within: 2, rule: 'panic' });
    b.emit(32, { type: 'staffing.violation', kind: 'attend', role: 'therapist', required: 1, actual: 0, stage: 'infusion', rule: 'panic', span: ir.sessions[0]!.rules[1]!.actions[0]!.span });
    const r = check(b.build(), 'builtin.staffing');
    expect(r.status).toBe('failed');
    expect(r.message).toBe('no therapist was free to attend (rule panic) at t+32 min in infusion');
    expect(r.span?.line).toBe(ir.sessions[0]!.rules[1]!.actions[0]!.span.line);
  });

  it('builtin.terminates: the horizon is reached without an outcome', () => {
    const r = check(horizon(flagship().buildUntil(140), 140), 'builtin.terminates');
    expect(r.status).toBe('failed');
    expect(r.message).toBe('no outcome when the simulation stopped at t+140 min (time horizon)');
    expect(r.span?.line).toBe(ir.sessions[0]!.span.line);
  });

  it('builtin.unhandled-events: vomiting has no rule', () => {
    const b = flagship();
    b.event(30, 'panic').event(33, 'vomiting');
    const r = check(b.build(), 'builtin.unhandled-events');
    expect(r.status).toBe('failed');
    expect(r.message).toBe('event "vomiting" at t+33 min has no rule whose condition mentions it');
    expect(r.span?.line).toBe(ir.events.find((e) => e.name === 'vomiting')!.span.line);
    expect(r.witness).toMatchObject({ from: 33, to: 33 });
  });

  it('builtin.monitoring-gaps: a reading that never came', () => {
    const full = flagship().build();
    const trace = { ...full, records: full.records.filter((r) => !(r.type === 'observe' && r.t === 100)) };
    const r = check(trace, 'builtin.monitoring-gaps');
    expect(r.status).toBe('failed');
    expect(r.message).toBe('"monitor sbp every 20 min" in infusion: no sbp reading between t+80 min and t+120 min (40 min; allowed 20 min)');
    expect(r.span?.line).toBe(ir.sessions[0]!.stages[1]!.monitors[0]!.span.line);
    expect(r.witness).toMatchObject({ from: 80, to: 120 });
  });

  it('builtin.monitoring-gaps: a tolerance (option or the header resolution) absorbs late answers', () => {
    const full = flagship().build();
    const late = { ...full, records: full.records.map((r) => (r.type === 'observe' && r.t === 40 ? { ...r, t: 40.5 } : r)) };
    late.records.sort((a, b) => a.t - b.t);
    expect(check(late, 'builtin.monitoring-gaps').status).toBe('failed');
    expect(byName(checkProperties(ir, 'dosing', late, { gapTolerance: 1 }), 'builtin.monitoring-gaps').status).toBe('passed');
    const withRes = { ...late, header: { ...late.header, parameters: { resolution: 1 } } };
    expect(check(withRes, 'builtin.monitoring-gaps').status).toBe('passed');
  });

  it('builtin.excluded-never-dosed: an excluded flag, and an `exclude when` on the baseline', () => {
    const pregnant = new TraceBuilder({ participants: [{ ...P1, flags: ['pregnancy'] }] });
    const hyper = new TraceBuilder({ participants: [{ ...P1, baseline: { sbp: 170 } }] });
    for (const b of [pregnant, hyper]) {
      b.enter(0, 'infusion');
      b.emit(0, { type: 'administer', phase: 'start', drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv', delivery: { kind: 'over', minutes: 80 }, stage: 'infusion', delivered: 0 });
      b.end(10, 'horizon');
    }
    const pop = ir.population!;
    const a = check(pregnant.build(), 'builtin.excluded-never-dosed');
    expect(a.status).toBe('failed');
    expect(a.message).toBe('p1 is excluded (pregnancy) but was administered ketamine at t+0 min');
    expect(a.span?.line).toBe(pop.exclude[0]!.span.line);
    const b = check(hyper.build(), 'builtin.excluded-never-dosed');
    expect(b.status).toBe('failed');
    expect(b.span?.line).toBe(pop.excludeWhen[0]!.span.line);
  });

  it('builtin.excluded-never-dosed passes for an excluded participant who is deferred undosed', () => {
    const b = new TraceBuilder({ participants: [{ ...P1, flags: ['pregnancy'] }] });
    b.outcome(0, 'deferred', undefined, 'participant excluded: pregnancy').end(0, 'outcome');
    const r = check(b.build(), 'builtin.excluded-never-dosed');
    expect(r.status).toBe('passed');
  });

  it('builtin.dose-limits: the tracked dose, and repeated `give`s', () => {
    const b = flagship();
    b.state(125, { dose: { ketamine: 0.6 } });
    const r = check(b.build(), 'builtin.dose-limits');
    expect(r.status).toBe('failed');
    expect(r.message).toBe('ketamine delivered reached 0.6 mg/kg at t+125 min, above the declared max 0.5 mg/kg');
    expect(r.span?.line).toBe(ir.drugs.find((d) => d.name === 'ketamine')!.span.line);

    const g = flagship();
    for (const t of [30, 50, 70]) g.event(t, 'nausea').rule(t, 'nausea').emit(t, { type: 'give', drug: 'ondansetron', dose: { value: 4, unit: 'mg' }, route: 'iv', rule: 'nausea' });
    const r2 = check(g.build(), 'builtin.dose-limits');
    expect(r2.status).toBe('failed');
    expect(r2.witness).toMatchObject({ from: 70 });
    expect(r2.message).toContain('ondansetron delivered reached 12 mg at t+70 min');
  });
});

function horizon(t: Trace, at: number): Trace {
  return { ...t, records: [...t.records, { t: at, type: 'end', reason: 'horizon' }] };
}

// ── Group sessions ───────────────────────────────────────────────────────

describe('group sessions', () => {
  const gir = groupIR();
  const base = () => {
    const b = new TraceBuilder({ session: 'circle', participants: GROUP, staff: { facilitator: 2, medical_provider: 1 } });
    b.enter(0, 'opening');
    for (const p of GROUP) b.truth(0, { sbp: p.baseline['sbp']! }, p.id).observe(0, { sbp: p.baseline['sbp']! }, p.id);
    b.enter(10, 'journey');
    for (const t of [10, 25, 40, 55]) for (const p of GROUP) b.observe(t, { sbp: 125 }, p.id);
    return b;
  };

  it('two concurrent panics with exactly enough facilitators: builtin.staffing fails and names the free pool', () => {
    const b = base();
    b.event(30, 'panic', 'p1').rule(30, 'panic', 'p1').emit(30, { type: 'attend', participant: 'p1', role: 'facilitator', status: 'assigned', minutes: 20, rule: 'panic' });
    b.state(30, { free: { facilitator: 1, medical_provider: 1 } });
    b.event(31, 'panic', 'p2').rule(31, 'panic', 'p2').emit(31, { type: 'attend', participant: 'p2', role: 'facilitator', status: 'assigned', minutes: 20, rule: 'panic' });
    b.state(31, { free: { facilitator: 0, medical_provider: 1 } });
    b.state(50, { free: { facilitator: 1, medical_provider: 1 } });
    b.end(60, 'horizon');
    const r = check(b.build(), 'builtin.staffing', gir);
    expect(r.status).toBe('failed');
    expect(r.message).toBe('"facilitator >= 1 per 4 participants" does not hold in journey from t+31 min to t+50 min: 0 facilitator free, 1 needed for 4 participants');
    expect(r.span?.line).toBe(gir.sessions[0]!.staffing[1]!.span.line);
  });

  it('one panic leaves one facilitator free: the line holds', () => {
    const b = base();
    b.event(30, 'panic', 'p1').state(30, { free: { facilitator: 1, medical_provider: 1 } }).state(50, { free: { facilitator: 2, medical_provider: 1 } });
    b.end(60, 'horizon');
    expect(check(b.build(), 'builtin.staffing', gir).status).toBe('passed');
  });

  it('an assert holds only if it holds for every participant; the failing one is named', () => {
    const b = base();
    b.truth(20, { sbp: 175 }, 'p2').observe(25, { sbp: 176 }, 'p2'); // p2: seen 5 min later
    b.truth(26, { sbp: 180 }, 'p3'); // p3: next reading of p3 at 40 is 125 → never seen
    b.end(60, 'horizon');
    const r = check(b.build(), 'seen_within_15', gir);
    expect(r.status).toBe('failed');
    expect(r.participant).toBe('p3');
    expect(r.message.startsWith('participant p3: "sbp > 170 mmHg" became true at t+26 min')).toBe(true);
  });

  it('per-participant observations are not shared', () => {
    const b = base();
    b.truth(20, { sbp: 175 }, 'p2').observe(25, { sbp: 176 }, 'p1'); // p1's reading does not count for p2
    b.end(60, 'horizon');
    const r = check(b.build(), 'seen_within_15', gir);
    expect(r.status).toBe('failed');
    expect(r.participant).toBe('p2');
  });
});

// ── Property tests ───────────────────────────────────────────────────────

const STAGES = ['predose', 'infusion', 'recovery'];
const MEASURES = ['sbp', 'hr'];
const EVENTS = ['nausea', 'panic', 'vomiting', 'not_declared'];
const num = (value: number): Expr => ({ kind: 'number', value });

const exprArb: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ m: fc.constantFrom(...MEASURES), v: fc.integer({ min: 40, max: 240 }), op: fc.constantFrom('<', '>', '>=') }).map(
      ({ m, v, op }): Expr => ({ kind: 'binary', op: op as '<', left: { kind: 'measure', name: m }, right: num(v) }),
    ),
    fc.record({ m: fc.constantFrom(...MEASURES), v: fc.integer({ min: 40, max: 240 }) }).map(
      ({ m, v }): Expr => ({ kind: 'binary', op: '>', left: { kind: 'observed', measure: m }, right: num(v) }),
    ),
    fc.constantFrom(...STAGES).map((stage): Expr => ({ kind: 'inStage', stage })),
    fc.constantFrom(...STAGES).map((stage): Expr => ({ kind: 'paused', stage })),
    fc.constantFrom('discharged', 'deferred', 'ended', 'escalated' as const).map((name): Expr => ({ kind: 'outcome', name })),
    fc.constantFrom(...EVENTS).map((name): Expr => ({ kind: 'event', name })),
    fc.integer({ min: 0, max: 3 }).map((n): Expr => ({ kind: 'binary', op: '>=', left: { kind: 'call', fn: 'count', args: [{ kind: 'event', name: 'panic' }] }, right: num(n) })),
    fc.integer({ min: 0, max: 2 }).map((n): Expr => ({ kind: 'binary', op: '>=', left: { kind: 'call', fn: 'present', args: [{ kind: 'role', name: 'therapist' }] }, right: num(n) })),
    fc.integer({ min: 0, max: 200 }).map((n): Expr => ({ kind: 'binary', op: '>', left: { kind: 'elapsed' }, right: num(n) })),
    tie('e').map((operand): Expr => ({ kind: 'not', operand })),
    fc.record({ op: fc.constantFrom('and', 'or', 'implies'), l: tie('e'), r: tie('e') }).map(({ op, l, r }): Expr => ({ kind: 'binary', op: op as 'and', left: l, right: r })),
    fc.record({ e: tie('e'), m: fc.integer({ min: 1, max: 20 }) }).map(({ e, m }): Expr => ({ kind: 'for', expr: e, minutes: m })),
    fc.record({ e: tie('e'), s: fc.subarray(STAGES, { minLength: 1 }) }).map(({ e, s }): Expr => ({ kind: 'during', expr: e, stages: s })),
  ),
})).e;

/** Well-formed traces over the flawed protocol's names: records in time order, any mix of kinds. */
const recordArb: fc.Arbitrary<Omit<TraceRecord, 't'>> = fc.oneof(
  fc.record({ sbp: fc.integer({ min: 60, max: 250 }), hr: fc.integer({ min: 40, max: 180 }) }).map((values) => ({ type: 'truth' as const, participant: 'p1', values })),
  fc.record({ sbp: fc.integer({ min: 60, max: 250 }) }).map((values) => ({ type: 'observe' as const, values })),
  fc.constantFrom(...EVENTS).map((name) => ({ type: 'event' as const, name })),
  fc.record({ action: fc.constantFrom('arrive' as const, 'leave' as const), role: fc.constantFrom('therapist', 'medical_provider') }).map((s) => ({ type: 'staff' as const, ...s })),
  fc
    .record({ stage: fc.option(fc.constantFrom(...STAGES), { nil: undefined }), paused: fc.boolean(), n: fc.integer({ min: 0, max: 2 }), dose: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ stage, paused, n, dose }) => ({
      type: 'state' as const,
      ...(stage !== undefined ? { stage } : {}),
      paused: paused && stage ? [stage] : [],
      present: { therapist: n, medical_provider: 1 },
      free: { therapist: Math.max(0, n - 1), medical_provider: 1 },
      dose: { ketamine: dose },
    })),
  fc.record({ stage: fc.constantFrom(...STAGES), phase: fc.constantFrom('enter', 'exit', 'pause', 'resume', 'skip') }).map((e) => ({ type: 'emit' as const, event: { type: 'stage', ...e } })),
  fc.constantFrom('hypertension', 'panic', 'nausea').map((rule) => ({ type: 'emit' as const, event: { type: 'rule', rule } })),
  fc.constant({ type: 'emit' as const, event: { type: 'give', drug: 'ondansetron', dose: { value: 4, unit: 'mg' } } }),
  fc.constant({ type: 'emit' as const, event: { type: 'staffing.violation', kind: 'line', role: 'therapist', required: 1, actual: 0, stage: 'infusion' } }),
  fc.constantFrom('discharged', 'deferred', 'ended', 'escalated' as const).map((outcome) => ({ type: 'outcome' as const, outcome })),
);

const traceArb: fc.Arbitrary<Trace> = fc
  .record({
    steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), recordArb), { maxLength: 40 }),
    end: fc.option(fc.constantFrom('horizon' as const, 'outcome' as const), { nil: undefined }),
    flags: fc.subarray(['pregnancy', 'anxiety']),
    resolution: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
  })
  .map(({ steps, end, flags, resolution }) => {
    let t = 0;
    const records: TraceRecord[] = steps.map(([dt, r]) => {
      t += dt / 2;
      return { ...r, t } as TraceRecord;
    });
    if (end) records.push({ t, type: 'end', reason: end });
    const b = new TraceBuilder({ participants: [{ ...P1, flags }], parameters: resolution !== undefined ? { resolution } : {} });
    return { header: b.build().header, records };
  });

describe('property tests (fast-check, pinned seeds)', () => {
  it('the checker never throws on random well-formed traces, and every verdict is well-formed', () => {
    fc.assert(
      fc.property(traceArb, (trace) => {
        const rs = checkProperties(ir, 'dosing', trace);
        expect(rs.length).toBe(ir.sessions[0]!.asserts.length + 6);
        for (const r of rs) {
          expect(['passed', 'failed', 'inconclusive']).toContain(r.status);
          if (r.status !== 'passed') expect(r.witness ?? r.status === 'inconclusive').toBeTruthy();
          if (r.witness) {
            expect(r.witness.from).toBeLessThanOrEqual(r.witness.to);
            for (const i of r.witness.records) expect(trace.records[i]).toBeDefined();
          }
        }
      }),
      { seed: propertySeed('checker never throws'), numRuns: 300 },
    );
  });

  it('always P ≡ never not P (same status, same witness)', () => {
    fc.assert(
      fc.property(traceArb, exprArb, (trace, p) => {
        const [view] = views(ir, trace);
        const a = checkPropertyOnView({ kind: 'always', expr: p }, view!, trace);
        const n = checkPropertyOnView({ kind: 'never', expr: { kind: 'not', operand: p } }, view!, trace);
        expect(n.status).toBe(a.status);
        expect(n.witness).toEqual(a.witness);
      }),
      { seed: propertySeed('always P = never not P'), numRuns: 300 },
    );
  });

  it('eventually and implies … within never throw on random expressions, and a longer trace only decides more', () => {
    fc.assert(
      fc.property(traceArb, exprArb, exprArb, fc.integer({ min: 0, max: 60 }), (trace, p, q, within) => {
        const [view] = views(ir, trace);
        const ev = checkPropertyOnView({ kind: 'eventually', expr: p, within }, view!, trace);
        const lt = checkPropertyOnView({ kind: 'leadsTo', cause: p, effect: q, within }, view!, trace);
        for (const v of [ev, lt]) expect(['passed', 'failed', 'inconclusive']).toContain(v.status);
        // An inconclusive verdict only happens when the trace is shorter than a window.
        if (ev.status === 'inconclusive') expect(view!.end).toBeLessThan(within);
      }),
      { seed: propertySeed('eventually / implies never throw'), numRuns: 300 },
    );
  });
});
