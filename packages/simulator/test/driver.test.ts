import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adversarialArbitrary,
  calibratedModel,
  defaultHorizonMinutes,
  MAX_HORIZON_MINUTES,
  scriptedScenario,
  sessionHorizonMinutes,
  simulate,
  SimulationError,
  UNBOUNDED_HORIZON_MINUTES,
  type EmitRecord,
  type Exposure,
  type ObserveRecord,
  type Physiology,
  type RequestRecord,
  type StateRecord,
  type Trace,
  type TraceRecord,
} from '../src/index.js';
import { CALM, exampleIR, irOf } from './helpers.js';
import { propertySeed } from './seed.js';

const iv = exampleIR('individual-iv');

const ofType = <T extends TraceRecord['type']>(tr: Trace, type: T) => tr.records.filter((r) => r.type === type) as Extract<TraceRecord, { type: T }>[];
const emits = (tr: Trace, type: string) => ofType(tr, 'emit').filter((r) => r.event.type === type) as (EmitRecord & { event: Record<string, unknown> })[];

/** A protocol whose first stage of `minutes` requests sbp every `every` minutes (then a 1-minute last stage). */
function everyProtocol(every: number, minutes: number): string {
  return `protocol "Every" {
  version "1.0"
  setting individual
  roles { therapist 1..2 }
  measures { sbp mmHg 50..260 }
  events { panic }
  session watchful {
    stage watch duration ${minutes} min {
      monitor sbp every ${every} min
    }
    stage rest duration 1 min {
    }
    discharge when elapsed >= ${minutes + 1} min
    rule panic { when panic then attend therapist within 2 min for 3 min }
  }
}
`;
}

const calm = (events: { t: number; name: string }[] = []) => scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 120 }, events }] });

describe('the driver never skips a due timer', () => {
  it('every 5 min: a request at each 5-minute mark, whatever the resolution', () => {
    const ir = irOf(everyProtocol(5, 60));
    for (const resolutionMinutes of [1, 0.25, 7, 60, 1000]) {
      const tr = simulate(ir, { scenario: calm([{ t: 2.5, name: 'panic' }, { t: 12.345, name: 'panic' }]), seed: 1, resolutionMinutes });
      expect(ofType(tr, 'request').map((r) => r.t), `resolution ${resolutionMinutes}`).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55]);
      // The header records the resolution, so builtin.monitoring-gaps can check `continuously` lines against it.
      expect(tr.header.parameters['resolution']).toBe(resolutionMinutes);
      expect(ofType(tr, 'outcome').map((r) => [r.t, r.outcome])).toEqual([[61, 'discharged']]);
      // The attend at 2.5 for 3 min frees the therapist at exactly 5.5: a timer between ticks.
      const free = ofType(tr, 'state').map((s) => [s.t, s.free['therapist']]);
      expect(free).toContainEqual([2.5, 0]);
      expect(free).toContainEqual([5.5, 1]);
    }
  });

  it('property: `every N min` over D minutes requests at k·N for every k·N < D (random N, D, resolution, event times)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 120 }),
        fc.constantFrom(0.5, 1, 2, 3, 7, 30, 500),
        fc.array(fc.double({ min: 0, max: 130, noNaN: true }), { maxLength: 4 }),
        (every, minutes, resolutionMinutes, times) => {
          const ir = irOf(everyProtocol(every, minutes));
          const tr = simulate(ir, { scenario: calm(times.map((t) => ({ t, name: 'panic' }))), seed: 3, resolutionMinutes });
          const expected: number[] = [];
          for (let k = 0; k * every < minutes; k++) expected.push(k * every);
          expect(ofType(tr, 'request').map((r) => r.t)).toEqual(expected);
          const end = tr.records[tr.records.length - 1]!;
          expect(end).toEqual({ t: minutes + 1, type: 'end', reason: 'outcome' });
          // Records are in time order.
          tr.records.forEach((r, i) => i === 0 || expect(r.t).toBeGreaterThanOrEqual(tr.records[i - 1]!.t));
        },
      ),
      { seed: propertySeed('driver every N'), numRuns: 60 },
    );
  });
});

describe('answers and continuous monitoring', () => {
  it('answers each request at the same minute with the true value (scripted: no noise)', () => {
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: { ...CALM, sbp: [[0, 120], [200, 140]] } }] }), seed: 1 });
    const reqs = ofType(tr, 'request').filter((r) => !r.continuous);
    const obs = ofType(tr, 'observe');
    for (const r of reqs) {
      const o = obs.find((x) => x.t === r.t && r.measures.every((m) => m in x.values));
      expect(o, `answer to ${r.measures.join(',')} at ${r.t}`).toBeDefined();
      if (o && 'sbp' in o.values) expect(o.values['sbp']).toBeCloseTo(120 + r.t / 10, 9);
    }
    expect(ofType(tr, 'outcome')).toEqual([{ t: 120, type: 'outcome', outcome: 'discharged' }]);
  });

  for (const resolutionMinutes of [1, 0.5]) {
    it(`monitor spo2 continuously: one reading per ${resolutionMinutes}-minute tick for as long as the stage lasts`, () => {
      const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: CALM }] }), seed: 1, resolutionMinutes });
      const cont = ofType(tr, 'request').filter((r) => r.continuous);
      expect(cont.map((r) => [r.t, r.stage])).toEqual([
        [15, 'infusion'],
        [55, 'recovery'],
      ]);
      const spo2 = ofType(tr, 'observe').filter((o) => 'spo2' in o.values && Object.keys(o.values).length === 1).map((o) => o.t);
      const expected: number[] = [];
      for (let k = 15 / resolutionMinutes; k * resolutionMinutes < 120; k++) expected.push(k * resolutionMinutes);
      // Infusion 15..55 (its exit at 55 ends its stream), recovery from 55 until discharge at 120; one reading per instant.
      expect(spo2).toEqual(expected);
    });
  }
});

describe('clinical scenarios', () => {
  it('a surge starting at minute 41 of individual-iv is read at 45 and pauses the infusion then (hypertension rule)', () => {
    const scenario = scriptedScenario({
      participants: [{ id: 'p1', vitals: { ...CALM, sbp: [[0, 125], [41, 125], [42, 192], [60, 192], [61, 130]] } }],
    });
    const tr = simulate(iv, { session: 'dosing', scenario, seed: 1 });
    const firstHigh = ofType(tr, 'truth').find((r) => (r.values['sbp'] ?? 0) > 180)!;
    expect(firstHigh.t).toBe(42);
    const pause = emits(tr, 'stage').find((e) => e.event['phase'] === 'pause')!;
    expect(pause.t).toBe(45);
    expect(pause.event).toMatchObject({ stage: 'infusion', rule: 'hypertension' });
    const reading = ofType(tr, 'observe').find((o) => o.t === 45 && 'sbp' in o.values)!;
    expect(reading.values['sbp']).toBe(192);
    // Input, then what the machine emitted, then the state after it.
    const i = tr.records.indexOf(reading);
    expect(tr.records.indexOf(pause)).toBeGreaterThan(i);
    const state = tr.records.slice(i).find((r): r is StateRecord => r.type === 'state')!;
    expect(state).toMatchObject({ t: 45, stage: 'infusion', paused: ['infusion'] });
    expect(state.dose['ketamine']).toBeCloseTo(0.375, 12);
    expect(emits(tr, 'administer').map((e) => [e.t, e.event['phase'], e.event['delivered']])).toContainEqual([45, 'pause', 0.375]);
  });

  it('a reading outside the declared range is sent unclamped and recorded as input.rejected', () => {
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { ...CALM, sbp: [[0, 125], [20, 125], [21, 300]] } }] });
    const tr = simulate(iv, { session: 'dosing', scenario, seed: 1, horizonMinutes: 30 });
    const obs = ofType(tr, 'observe').find((o) => 'sbp' in o.values && o.t > 20)!;
    expect(obs).toEqual({ t: 25, type: 'observe', values: { sbp: 300, dbp: 78, hr: 72 } });
    const rejected = emits(tr, 'input.rejected');
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.t).toBe(25);
    expect(rejected[0]!.event).toMatchObject({ code: 'out-of-range', event: { type: 'measure', values: { sbp: 300 } } });
    expect(tr.records.indexOf(rejected[0]!)).toBe(tr.records.indexOf(obs) + 1);
    // Rejected: the machine did not act on it (severe_hypertension would have escalated).
    expect(emits(tr, 'rule')).toEqual([]);
    expect(tr.records[tr.records.length - 1]).toEqual({ t: 30, type: 'end', reason: 'horizon' });
  });

  it('a non-finite reading from a model is recorded and rejected, not hidden', () => {
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: { ...CALM, hr: [[0, 72], [20, 72], [21, Number.NaN]] } }] }), seed: 1, horizonMinutes: 30 });
    expect(Number.isNaN(ofType(tr, 'observe').find((o) => o.t === 25 && 'hr' in o.values)!.values['hr'])).toBe(true);
    expect(emits(tr, 'input.rejected')[0]!.event).toMatchObject({ code: 'not-a-number' });
  });

  it('staff changes: recorded, reflected in the state, and a leave nobody can make is rejected', () => {
    const scenario = scriptedScenario({
      participants: [{ id: 'p1', vitals: CALM }],
      staff: [
        { t: 20, action: 'leave', role: 'medical_provider' },
        { t: 20, action: 'leave', role: 'medical_provider' },
        { t: 30, action: 'arrive', role: 'medical_provider' },
      ],
    });
    const tr = simulate(iv, { session: 'dosing', scenario, seed: 1 });
    expect(ofType(tr, 'staff').map((s) => [s.t, s.action])).toEqual([
      [20, 'leave'],
      [20, 'leave'],
      [30, 'arrive'],
    ]);
    expect(emits(tr, 'staffing.violation')[0]).toMatchObject({ t: 20, event: { role: 'medical_provider', stage: 'infusion' } });
    expect(emits(tr, 'input.rejected')[0]).toMatchObject({ t: 20, event: { code: 'no-one-to-leave' } });
    const present = ofType(tr, 'state').map((s) => [s.t, s.present['medical_provider']]);
    expect(present).toContainEqual([20, 0]);
    expect(present).toContainEqual([30, 1]);
    expect(tr.header.staff).toEqual({ therapist: 1, medical_provider: 1 });
  });

  it('participant events go in with the truth at that minute; rule actions follow', () => {
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: CALM, events: [{ t: 33.5, name: 'nausea' }, { t: 70, name: 'panic' }] }] });
    const tr = simulate(iv, { session: 'dosing', scenario, seed: 1 });
    expect(ofType(tr, 'event').map((e) => [e.t, e.name])).toEqual([
      [33.5, 'nausea'],
      [70, 'panic'],
    ]);
    expect(ofType(tr, 'truth').some((r) => r.t === 33.5)).toBe(true);
    expect(emits(tr, 'give')).toMatchObject([{ t: 33.5, event: { drug: 'ondansetron', rule: 'nausea' } }]);
    expect(emits(tr, 'attend')).toMatchObject([{ t: 70, event: { role: 'therapist', status: 'assigned' } }]);
    const s = ofType(tr, 'state').find((x) => x.t === 70)!;
    expect(s.free['therapist']).toBe(0);
    expect(ofType(tr, 'state').find((x) => x.t === 85)?.free['therapist']).toBe(1);
  });
});

describe('exposure', () => {
  it('truth(t, exposure) sees what was delivered up to t: linear infusion, frozen while paused, boluses', () => {
    const seen = new Map<number, Exposure>();
    const base = scriptedScenario({
      participants: [{ id: 'p1', weightKg: 80, vitals: { ...CALM, sbp: [[0, 125], [41, 125], [42, 192], [60, 192], [61, 130]] }, events: [{ t: 30, name: 'nausea' }] }],
    });
    const p = base.participants[0]!;
    const physiology: Physiology = {
      truth: (t, e) => {
        seen.set(t, e);
        return p.physiology.truth(t, e);
      },
      measure: (_m, v) => v,
    };
    simulate(iv, { session: 'dosing', scenario: { ...base, participants: [{ ...p, physiology }] }, seed: 1 });
    const total = (t: number, drug: string) => seen.get(t)!.doses.filter((d) => d.drug === drug).reduce((s, d) => s + d.amount, 0);
    expect(total(15, 'ketamine')).toBe(0);
    expect(total(25, 'ketamine')).toBeCloseTo(0.125, 12);
    expect(total(45, 'ketamine')).toBeCloseTo(0.375, 12);
    // Paused at 45: nothing more until it resumes or stops.
    expect(total(50, 'ketamine')).toBeCloseTo(0.375, 12);
    expect(seen.get(50)!.doses.every((d) => d.end <= 45)).toBe(true);
    expect(total(30, 'ondansetron')).toBe(4);
    expect(seen.get(30)!.doses.find((d) => d.drug === 'ondansetron')).toEqual({ drug: 'ondansetron', route: 'iv', start: 30, end: 30, amount: 4, unit: 'mg' });
    expect(seen.get(25)!.doses.find((d) => d.drug === 'ketamine')).toEqual({ drug: 'ketamine', route: 'iv', start: 15, end: 25, amount: 0.125, unit: 'mg/kg' });
  });
});

describe('horizon, sessions and participants', () => {
  it('default horizon: twice the longest session, or 24 h when a stage is open-ended', () => {
    const ir = irOf(everyProtocol(5, 60));
    expect(defaultHorizonMinutes(ir.sessions[0]!)).toBe(122);
    expect(defaultHorizonMinutes(iv.sessions.find((s) => s.name === 'dosing')!)).toBe(UNBOUNDED_HORIZON_MINUTES);
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: CALM }] }), seed: 1, horizonMinutes: 30.5 });
    expect(tr.records.at(-1)).toEqual({ t: 30.5, type: 'end', reason: 'horizon' });
    expect(ofType(tr, 'outcome')).toEqual([]);
  });

  it('a session too long to simulate is refused with its longest stage named, by simulate and by both models', () => {
    // 2 × (6,000 + 1) minutes is more than a week; 2 × (5,000 + 1) is not.
    expect(sessionHorizonMinutes(irOf(everyProtocol(5, 5000)).sessions[0]!)).toBe(10_002);
    const ir = irOf(everyProtocol(5, 6000));
    const session = ir.sessions[0]!;
    const message = /session "watchful" can last up to 6,001 minutes \(4 days\) \(stage "watch" at line 8 lasts 6,000 minutes \(4 days\)\), so its simulation would run 12,002 minutes \(2 times that\); the simulator runs at most 10,080 minutes \(7 days\)/;
    expect(() => sessionHorizonMinutes(session)).toThrow(message);
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 120 } }] });
    expect(() => simulate(ir, { scenario, seed: 1 })).toThrow(SimulationError);
    expect(() => simulate(ir, { scenario, seed: 1 })).toThrow(message);
    expect(() => calibratedModel(ir, { session: 'watchful', seed: 1 })).toThrow(message);
    expect(() => adversarialArbitrary(ir, { session: 'watchful' })).toThrow(message);
    // An explicit horizon: up to the limit, not beyond (never clamped).
    expect(() => simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: CALM }] }), seed: 1, horizonMinutes: MAX_HORIZON_MINUTES + 1 })).toThrow(
      /a horizon of 10,081 minutes \(7 days\) was asked for; the simulator runs at most 10,080 minutes/,
    );
    expect(simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: CALM }] }), seed: 1, horizonMinutes: MAX_HORIZON_MINUTES }).records.at(-1)).toMatchObject({ type: 'end', reason: 'outcome' });
  });

  it('the adversarial model puts nothing after the horizon of an open-ended session, however long its planned stages', () => {
    // 1,000 weeks, then an open-ended stage: the simulation stops at 24 h, so onsets, events and absences stay within it.
    const ir = irOf(everyProtocol(5, 10_080_000).replace('stage rest duration 1 min', 'stage rest duration at least 1 min'));
    const session = ir.sessions[0]!;
    expect(sessionHorizonMinutes(session)).toBe(UNBOUNDED_HORIZON_MINUTES);
    const seed = propertySeed('adversarial times within the horizon');
    const samples = fc.sample(adversarialArbitrary(ir, { session: 'watchful' }), { seed, numRuns: 200 });
    const times = samples.flatMap((p) => [...p.participants.flatMap((x) => [...x.excursions.map((e) => e.onset), ...x.events.map((e) => e.t)]), ...p.absences.map((a) => a.gap)]);
    expect(times.length).toBeGreaterThan(100);
    expect(Math.max(...times), `seed ${seed}`).toBeLessThanOrEqual(UNBOUNDED_HORIZON_MINUTES);
  });

  it('the header names the protocol, session, seed, model and participants', () => {
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: CALM, flags: ['hypertension_history'] }] }), seed: 99 });
    expect(tr.header).toMatchObject({
      kapspecTrace: 1,
      protocol: 'Individual IV ketamine-assisted psychotherapy',
      session: 'dosing',
      seed: 99,
      model: 'scripted',
      participants: [{ id: 'p1', age: 40, weightKg: 70, baseline: CALM, flags: ['hypertension_history'] }],
    });
    expect(tr.header.irHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('an individual protocol takes exactly one participant; unknown ids and sessions are named', () => {
    const two = scriptedScenario({ participants: [{ id: 'a', vitals: CALM }, { id: 'b', vitals: CALM }] });
    expect(() => simulate(iv, { session: 'dosing', scenario: two, seed: 1 })).toThrow(SimulationError);
    expect(() => simulate(iv, { session: 'dosing', scenario: two, seed: 1 })).toThrow(/participantIds/);
    expect(simulate(iv, { session: 'dosing', scenario: two, seed: 1, participantIds: ['b'] }).header.participants.map((p) => p.id)).toEqual(['b']);
    expect(() => simulate(iv, { session: 'dosing', scenario: two, seed: 1, participantIds: ['c'] })).toThrow(/"c" is not in the scenario/);
    expect(() => simulate(iv, { scenario: two, seed: 1, participantIds: ['a'] })).toThrow(/sessions: name one/);
    expect(() => simulate(iv, { session: 'dosing', scenario: calm([{ t: -1, name: 'panic' }]), seed: 1 })).toThrow(/not a finite number of minutes/);
  });

  it('group sessions: one scenario participant per id, `participant` on records, an outcome each', () => {
    const ir = exampleIR('group-im');
    const vit = { sbp: 125, dbp: 78, hr: 72, spo2: 98 };
    const scenario = scriptedScenario({
      participants: [
        { id: 'a', vitals: vit, events: [{ t: 40, name: 'panic' }] },
        { id: 'b', vitals: vit, events: [{ t: 40, name: 'panic' }] },
        { id: 'c', vitals: { ...vit, sbp: [[0, 125], [50, 125], [51, 205]] } },
        { id: 'd', vitals: vit },
      ],
    });
    const tr = simulate(ir, { scenario, seed: 1 });
    expect(tr.header.participants.map((p) => p.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(new Set(ofType(tr, 'truth').map((r) => r.participant))).toEqual(new Set(['a', 'b', 'c', 'd']));
    for (const r of ofType(tr, 'request')) expect(r.participant).toBeDefined();
    for (const r of ofType(tr, 'observe')) expect(r.participant).toBeDefined();
    expect(ofType(tr, 'event').map((e) => [e.t, e.participant, e.name])).toEqual([
      [40, 'a', 'panic'],
      [40, 'b', 'panic'],
    ]);
    const outcomes = ofType(tr, 'outcome');
    expect(outcomes.map((o) => o.participant).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(outcomes.find((o) => o.participant === 'c')).toMatchObject({ outcome: 'escalated', rule: 'severe_hypertension' });
    // After c left, no more truth, requests or readings for c.
    const left = outcomes.find((o) => o.participant === 'c')!.t;
    expect(tr.records.filter((r) => r.t > left && 'participant' in r && r.participant === 'c')).toEqual([]);
    // Doses by participant in a group.
    const s = ofType(tr, 'state').at(-1)!;
    expect(s.doses && Object.keys(s.doses).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(s.doses!['a']!['ketamine']).toBe(1);
    expect(s.dose['ketamine']).toBe(4);
    expect(tr.records.at(-1)).toMatchObject({ type: 'end', reason: 'outcome' });
  });
});

describe('population', () => {
  it('an excluded participant is deferred at minute 0 and never dosed', () => {
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: { ...CALM, sbp: 170 } }] }), seed: 1 });
    expect(ofType(tr, 'outcome')).toEqual([{ t: 0, type: 'outcome', outcome: 'deferred', reason: expect.any(String) }]);
    expect(emits(tr, 'administer')).toEqual([]);
    expect(tr.records[0]).toEqual({ t: 0, type: 'truth', participant: 'p1', values: { ...CALM, sbp: 170 } });
    expect(tr.records.at(-1)).toEqual({ t: 0, type: 'end', reason: 'outcome' });
  });
});

describe('requests without an answer', () => {
  it('a request for a measure the model does not produce stays unanswered (visible in the trace)', () => {
    const tr = simulate(iv, { session: 'dosing', scenario: scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 120, dbp: 70, hr: 70, spo2: 98 } }] }), seed: 1, horizonMinutes: 60 });
    const cadss = ofType(tr, 'request').filter((r: RequestRecord) => r.measures.includes('cadss'));
    expect(cadss.length).toBeGreaterThan(0);
    expect(ofType(tr, 'observe').filter((o: ObserveRecord) => 'cadss' in o.values)).toEqual([]);
  });
});
