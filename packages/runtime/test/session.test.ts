import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createProtocolMachine } from '../src/machine.js';
import { dosingIR, drive, NORMAL, ofType, sp, start } from './fixtures.js';

const ir = dosingIR();

describe('normal session', () => {
  it('runs predose, infusion, recovery and discharges at 120 min', () => {
    const d = drive(ir);
    const snap = d.actor.getSnapshot();
    expect(snap.status).toBe('done');
    expect(snap.value).toBe('discharged');
    expect(snap.output).toEqual({ outcome: 'discharged', span: sp(45), at: 120 });
    const stages = ofType(d.log, 'stage').map((e) => `${e.at} ${e.phase} ${e.stage}`);
    expect(stages).toEqual(['0 enter predose', '15 exit predose', '15 enter infusion', '55 exit infusion', '55 enter recovery', '120 exit recovery']);
  });

  it('requests measurements on schedule: at start, every, at, continuously', () => {
    const d = drive(ir);
    const reqs = ofType(d.log, 'measure.request').map((e) => `${e.at} ${e.stage} ${e.measures.join(',')}${e.continuous ? ' ~' : ''}`);
    expect(reqs).toEqual([
      '0 predose sbp,dbp,hr',
      '15 infusion sbp,dbp,hr',
      '15 infusion spo2 ~',
      '20 infusion sbp,dbp,hr',
      '25 infusion sbp,dbp,hr',
      '30 infusion sbp,dbp,hr',
      '35 infusion sbp,dbp,hr',
      '40 infusion sbp,dbp,hr',
      '45 infusion sbp,dbp,hr',
      '50 infusion sbp,dbp,hr',
      '55 infusion cadss',
      '55 recovery sbp,dbp,hr',
      '55 recovery spo2 ~',
      '70 recovery sbp,dbp,hr',
      '85 recovery sbp,dbp,hr',
      '100 recovery sbp,dbp,hr',
      '115 recovery sbp,dbp,hr',
    ]);
  });

  it('delivers the infusion linearly and tracks the dose', () => {
    const d = drive(ir, { until: 35 });
    const c = d.actor.getSnapshot().context;
    expect(c.infusions[0]).toMatchObject({ drug: 'ketamine', target: 0.5 });
    const adm = ofType(d.log, 'administer');
    expect(adm).toEqual([expect.objectContaining({ phase: 'start', drug: 'ketamine', at: 15, span: sp(34, 5), delivered: 0 })]);
    const end = drive(ir, { until: 200 }).actor.getSnapshot().context;
    expect(end.infusions[0]!.frozen).toBeCloseTo(0.5);
  });

  it('mirrors stages as XState states', () => {
    const d = drive(ir, { until: 20 });
    expect(d.actor.getSnapshot().matches({ session: { stage: { infusion: 'running' } } } as never)).toBe(true);
  });

  it('a jump of the clock past many timers yields the same trace as stepping (gotcha 9)', () => {
    const stepped = drive(ir, { silent: true, until: 14 });
    const clock = new SimulatedClock();
    const jumped = start(ir, { session: 'dosing' }, clock);
    clock.set(14 * 60_000);
    expect(jumped.log).toEqual(stepped.log);
  });
});

describe('gates', () => {
  it('defers before dosing when the pre-dose blood pressure is too high', () => {
    const d = drive(ir, { vitals: () => ({ ...NORMAL, sbp: 172 }) });
    expect(d.actor.getSnapshot().output).toEqual({
      outcome: 'deferred',
      reason: 'pre-dose blood pressure too high',
      span: sp(30, 5),
      at: 0,
    });
    expect(ofType(d.log, 'administer')).toEqual([]);
  });

  it('fails a gate whose measures were never observed when its stage ends', () => {
    const d = drive(ir, { silent: true });
    expect(d.actor.getSnapshot().output).toMatchObject({
      outcome: 'deferred',
      reason: 'pre-dose blood pressure too high (not measured in predose: sbp, dbp)',
      at: 15,
    });
  });
});

describe('population', () => {
  it('never doses an excluded participant', () => {
    const d = drive(ir, { options: { session: 'dosing', participant: { age: 40, flags: ['pregnancy'] } } });
    expect(d.actor.getSnapshot().output).toEqual({ outcome: 'deferred', reason: 'participant excluded: pregnancy', span: sp(5, 33), at: 0 });
    expect(ofType(d.log, 'administer')).toEqual([]);
    expect(ofType(d.log, 'measure.request')).toEqual([]);
  });

  it('evaluates exclude-when on the profile baseline', () => {
    const d = drive(ir, { options: { session: 'dosing', participant: { age: 40, baseline: { sbp: 165 } } } });
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'deferred', span: sp(6) });
  });

  it('lets an eligible participant through', () => {
    const d = drive(ir, { options: { session: 'dosing', participant: { age: 40, weightKg: 70, flags: ['uncontrolled_hypertension'] } } });
    expect(d.actor.getSnapshot().output?.outcome).toBe('discharged');
  });
});

describe('pause and resume', () => {
  const spike = (t: number) => ({ ...NORMAL, ...(t === 20 ? { sbp: 186 } : {}) });

  it('pauses the infusion and its delivery, then resumes after 10 min of normal pressure', () => {
    const d = drive(ir, { vitals: spike, until: 30 });
    expect(d.actor.getSnapshot().matches({ session: { stage: { infusion: 'paused' } } } as never)).toBe(true);
    expect(ofType(d.log, 'notify')).toEqual([{ type: 'notify', role: 'medical_provider', rule: 'hypertension', span: sp(49, 26), at: 20 }]);
    const paused = ofType(d.log, 'administer').find((e) => e.phase === 'pause')!;
    expect(paused.delivered).toBeCloseTo(0.0625);
    expect(paused.rule).toBe('hypertension');

    drive(ir, { vitals: spike }, d);
    const stages = ofType(d.log, 'stage').map((e) => `${e.at} ${e.phase} ${e.stage}${e.rule ? ` (${e.rule})` : ''}`);
    expect(stages).toEqual([
      '0 enter predose',
      '15 exit predose',
      '15 enter infusion',
      '20 pause infusion (hypertension)',
      '35 resume infusion (hypertension)',
      '70 exit infusion',
      '70 enter recovery',
      '130 exit recovery',
    ]);
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'discharged', at: 130 });
    expect(d.actor.getSnapshot().context.infusions[0]!.frozen).toBeCloseTo(0.5);
  });

  it('keeps monitoring while paused', () => {
    const d = drive(ir, { vitals: spike, until: 34 });
    expect(ofType(d.log, 'measure.request').filter((e) => e.at > 20 && e.at < 35).map((e) => e.at)).toEqual([25, 30]);
  });

  it('stop ends the stage early and the session goes on', () => {
    const d = drive(ir, { events: [{ at: 25, event: { type: 'event', name: 'request_stop' } }] });
    const adm = ofType(d.log, 'administer').find((e) => e.phase === 'stop')!;
    expect(adm).toMatchObject({ rule: 'stop_request', at: 25 });
    expect(adm.delivered).toBeCloseTo(0.125);
    expect(ofType(d.log, 'notify')).toEqual([expect.objectContaining({ role: 'therapist', rule: 'stop_request', at: 25 })]);
    expect(ofType(d.log, 'stage').find((e) => e.phase === 'enter' && e.stage === 'recovery')!.at).toBe(25);
    // cadss is only requested at the end of a full infusion: after an early
    // stop it is never measured, so `discharge when … cadss < 5` cannot hold.
    expect(d.actor.getSnapshot().value).toEqual({ session: { stage: { recovery: 'running' }, clock: 'armed' } });
    drive(ir, { events: [{ at: 601, event: { type: 'measure', values: { cadss: 1 } } }], until: 700 }, d);
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'discharged', at: 601 });
  });
});

describe('escalation', () => {
  it('escalates on severe hypertension, naming the rule', () => {
    const d = drive(ir, { vitals: (t) => ({ ...NORMAL, ...(t === 30 ? { sbp: 205 } : {}) }) });
    expect(d.actor.getSnapshot().value).toBe('escalated');
    expect(d.actor.getSnapshot().output).toEqual({ outcome: 'escalated', reason: 'emergency', rule: 'severe_hypertension', span: sp(54, 25), at: 30 });
    expect(ofType(d.log, 'escalate')).toEqual([{ type: 'escalate', level: 'emergency', rule: 'severe_hypertension', span: sp(54, 25), at: 30 }]);
  });

  it('escalates when desaturation is sustained for 1 min, on the timer if no reading contradicts it', () => {
    const d = drive(ir, { until: 200, events: [{ at: 30, event: { type: 'measure', values: { spo2: 87 } } }] });
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'escalated', rule: 'desaturation', at: 31 });
  });

  it('does not escalate when a reading within the minute contradicts the desaturation', () => {
    const d = drive(ir, {
      events: [
        { at: 30, event: { type: 'measure', values: { spo2: 87 } } },
        { at: 30.5, event: { type: 'measure', values: { spo2: 95 } } },
        { at: 31, event: { type: 'measure', values: { spo2: 88 } } },
        { at: 31.5, event: { type: 'measure', values: { spo2: 96 } } },
      ],
    });
    expect(d.actor.getSnapshot().output?.outcome).toBe('discharged');
  });
});

describe('staffing', () => {
  it('attend takes a free therapist for its time; the same participant panicking again keeps that therapist on', () => {
    const d = drive(ir, {
      until: 60,
      events: [
        { at: 20, event: { type: 'event', name: 'panic' } },
        { at: 25, event: { type: 'event', name: 'panic' } },
        { at: 38, event: { type: 'event', name: 'panic' } },
        { at: 55, event: { type: 'event', name: 'panic' } },
      ],
    });
    const attends = ofType(d.log, 'attend').map((e) => `${e.at} ${e.status}${e.continues ? ' (continues)' : ''}`);
    // 20: assigned until 35; 25: the same therapist stays, until 40; 38: still with them, until 53; 55: a new call.
    expect(attends).toEqual(['20 assigned', '25 assigned (continues)', '38 assigned (continues)', '55 assigned']);
    expect(ofType(d.log, 'staffing.violation')).toEqual([]);
  });

  it('with no therapist present a panic waits, and is a violation when none comes within 2 min', () => {
    const d = drive(ir, {
      until: 60,
      events: [
        { at: 10, event: { type: 'staff.leave', role: 'therapist' } },
        { at: 20, event: { type: 'event', name: 'panic' } },
      ],
    });
    expect(ofType(d.log, 'attend').map((e) => `${e.at} ${e.status}`)).toEqual(['20 waiting']);
    expect(ofType(d.log, 'staffing.violation').filter((v) => v.kind === 'attend')).toEqual([
      { type: 'staffing.violation', kind: 'attend', role: 'therapist', required: 1, actual: 0, rule: 'panic', span: sp(62, 10), stage: 'infusion', at: 22 },
    ]);
  });

  it('a therapist arriving in time takes the waiting attend', () => {
    const d = drive(ir, {
      until: 60,
      events: [
        { at: 10, event: { type: 'staff.leave', role: 'therapist' } },
        { at: 20, event: { type: 'event', name: 'panic' } },
        { at: 21, event: { type: 'staff.arrive', role: 'therapist' } },
      ],
    });
    expect(ofType(d.log, 'attend').map((e) => `${e.at} ${e.status}`)).toEqual(['20 waiting', '21 assigned']);
    expect(ofType(d.log, 'staffing.violation').filter((v) => v.kind === 'attend')).toEqual([]);
  });

  it('the attended person is free again after 15 min', () => {
    const d = drive(ir, {
      until: 60,
      events: [
        { at: 20, event: { type: 'event', name: 'panic' } },
        { at: 35, event: { type: 'event', name: 'panic' } },
      ],
    });
    expect(ofType(d.log, 'attend').map((e) => `${e.at} ${e.status}`)).toEqual(['20 assigned', '35 assigned']);
  });

  it('a staffing line scoped to stages is checked when the stage starts', () => {
    const d = drive(ir, { until: 60, events: [{ at: 5, event: { type: 'staff.leave', role: 'medical_provider' } }] });
    expect(ofType(d.log, 'staffing.violation')).toEqual([
      { type: 'staffing.violation', kind: 'line', role: 'medical_provider', op: '>=', required: 1, actual: 0, span: sp(25), stage: 'infusion', at: 15 },
    ]);
    expect(d.actor.getSnapshot().context.violations).toEqual([
      { kind: 'line', role: 'medical_provider', required: 1, actual: 0, span: sp(25), stage: 'infusion', at: 15 },
    ]);
  });

  it('gives a drug by rule', () => {
    const d = drive(ir, { until: 60, events: [{ at: 22, event: { type: 'event', name: 'nausea' } }] });
    expect(ofType(d.log, 'give')).toEqual([{ type: 'give', drug: 'ondansetron', dose: { value: 4, unit: 'mg' }, rule: 'nausea', span: sp(64, 30), at: 22 }]);
    expect(d.actor.getSnapshot().context.given).toEqual({ ondansetron: 4 });
  });
});

describe('options', () => {
  it('needs a session name when the protocol has several', () => {
    const two = { ...ir, sessions: [ir.sessions[0]!, { ...ir.sessions[0]!, name: 'other' }] };
    expect(() => createProtocolMachine(two)).toThrow(/name one \(dosing, other\)/);
    expect(() => createProtocolMachine(ir, { session: 'nope' })).toThrow(/no session "nope"/);
    expect(() => createActor(createProtocolMachine(ir), { clock: new SimulatedClock() })).not.toThrow();
  });
});
