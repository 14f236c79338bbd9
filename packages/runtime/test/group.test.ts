import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { validateEvent } from '../src/events.js';
import { createProtocolMachine, SessionOptionsError } from '../src/machine.js';
import { ofType, sp } from './fixtures.js';
import { driveGroup, GROUP_NORMAL, groupIR, ids, people, startGroup } from './fixtures-group.js';

const ir = groupIR();

describe('group session: creation', () => {
  it('rejects a group size outside n..m with a typed error', () => {
    for (const k of [3, 13]) {
      let err: unknown;
      try {
        createProtocolMachine(ir, { participants: people(k) });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SessionOptionsError);
      expect(err).toMatchObject({ code: 'group-size', message: `the protocol runs groups of 4..12 participants; ${k} were given` });
    }
    expect(() => createProtocolMachine(ir, { participants: people(4) })).not.toThrow();
    expect(() => createProtocolMachine(ir, { participants: people(12) })).not.toThrow();
  });

  it('needs participants for a group protocol, and refuses them for an individual one', () => {
    expect(() => createProtocolMachine(ir)).toThrow(expect.objectContaining({ code: 'participants-required' }));
    const individual = { ...ir, setting: { mode: 'individual' as const } };
    expect(() => createProtocolMachine(individual, { participants: people(4) })).toThrow(expect.objectContaining({ code: 'not-a-group' }));
  });

  it('rejects duplicate and malformed participant ids', () => {
    expect(() => createProtocolMachine(ir, { participants: [...people(4), { id: 'p1' }] })).toThrow(expect.objectContaining({ code: 'duplicate-participant' }));
    expect(() => createProtocolMachine(ir, { participants: [...people(3), { id: 'a.b' }] })).toThrow(expect.objectContaining({ code: 'bad-participant-id' }));
    expect(() => createProtocolMachine(ir, { participants: [...people(3), { id: '' }] })).toThrow(expect.objectContaining({ code: 'bad-participant-id' }));
  });

  it('staffs each role by default at its minimum, scaled per N participants', () => {
    const d = startGroup(ir, { participants: people(9) });
    expect(d.actor.getSnapshot().context.present).toEqual({ facilitator: 3, medical_provider: 1 });
  });
});

describe('group session: lock-step stages and per-participant state', () => {
  it('runs everyone through the stages together and discharges each participant', () => {
    const d = driveGroup(ir);
    const snap = d.actor.getSnapshot();
    expect(snap.status).toBe('done');
    expect(snap.output).toMatchObject({ outcome: 'discharged', at: 150 });
    expect(Object.keys(snap.output!.participants)).toEqual(ids(8));
    for (const id of ids(8)) expect(snap.output!.participants[id]).toEqual({ outcome: 'discharged', span: sp(23), at: 150 });
    const enters = ofType(d.log, 'stage').filter((e) => e.phase === 'enter');
    expect(enters.map((e) => `${e.at} ${e.stage} ${e.participant}`).filter((x) => x.endsWith(' p1'))).toEqual(['0 opening p1', '20 journey p1', '80 sharing p1']);
    expect(enters).toHaveLength(24);
    // Every emitted event of the session is about a participant, except the shared pool's.
    for (const e of d.log) if (e.type !== 'staffing.violation') expect((e as { participant?: string }).participant).toMatch(/^p\d$/);
  });

  it('requests measurements per participant and dosing is per participant', () => {
    const d = driveGroup(ir, { until: 21 });
    const at20 = ofType(d.log, 'measure.request').filter((e) => e.at === 20);
    expect(at20.map((e) => `${e.participant} ${e.measures.join(',')}${e.continuous ? ' ~' : ''}`)).toEqual(
      ids(8).flatMap((id) => [`${id} sbp,dbp,hr`, `${id} spo2 ~`]),
    );
    expect(ofType(d.log, 'administer').map((e) => e.participant)).toEqual(ids(8));
  });

  it('a participant failing the gate is deferred and leaves; the others go on', () => {
    const d = driveGroup(ir, { vitals: (id) => ({ ...GROUP_NORMAL, sbp: id === 'p3' ? 170 : 128 }), until: 30 });
    const c = d.actor.getSnapshot().context;
    expect(c.members.find((x) => x.who === 'p3')!.outcome).toEqual({ outcome: 'deferred', reason: 'pre-dose blood pressure too high', span: sp(16, 70), at: 0 });
    expect(d.actor.getSnapshot().matches({ session: { participants: { p3: 'deferred', p1: 'active' } } } as never)).toBe(true);
    expect(ofType(d.log, 'administer').map((e) => e.participant)).toEqual(ids(8).filter((x) => x !== 'p3'));
    driveGroup(ir, { vitals: (id) => ({ ...GROUP_NORMAL, sbp: id === 'p3' ? 170 : 128 }) }, d);
    const out = d.actor.getSnapshot().output!;
    expect(out).toMatchObject({ outcome: 'deferred', participant: 'p3', reason: '1 of 8 participants deferred; p3: pre-dose blood pressure too high', at: 150 });
    expect(out.participants.p1!.outcome).toBe('discharged');
  });

  it('an escalated participant leaves the group with their own outcome; the others continue', () => {
    const d = driveGroup(ir, { events: [{ at: 40, event: { type: 'measure', values: { spo2: 85 }, participant: 'p5' } }] });
    const out = d.actor.getSnapshot().output!;
    expect(out.participants.p5).toEqual({ outcome: 'escalated', reason: 'emergency', rule: 'hypoxia', span: sp(25, 30), at: 41 });
    expect(ofType(d.log, 'escalate')).toEqual([expect.objectContaining({ participant: 'p5', rule: 'hypoxia', at: 41 })]);
    expect(Object.values(out.participants).filter((o) => o.outcome === 'discharged')).toHaveLength(7);
    expect(out).toMatchObject({ outcome: 'escalated', participant: 'p5', rule: 'hypoxia', at: 150 });
    // p5's later requests stop; the others' go on.
    expect(ofType(d.log, 'measure.request').filter((e) => e.participant === 'p5' && e.at > 41)).toEqual([]);
  });

  it('observations and rule state are per participant', () => {
    const d = driveGroup(ir, {
      until: 41,
      events: [
        { at: 30, event: { type: 'measure', values: { spo2: 85 }, participant: 'p1' } },
        { at: 30.5, event: { type: 'measure', values: { spo2: 85 }, participant: 'p2' } },
        { at: 30.8, event: { type: 'measure', values: { spo2: 97 }, participant: 'p1' } },
      ],
    });
    const out = ofType(d.log, 'escalate');
    expect(out.map((e) => `${e.participant} ${e.at}`)).toEqual(['p2 31.5']);
  });

  it('a paused participant holds the whole group in the stage (lock-step)', () => {
    const spike = (id: string, t: number) => ({ ...GROUP_NORMAL, ...(id === 'p2' && t === 35 ? { sbp: 186 } : {}) });
    const d = driveGroup(ir, { vitals: spike, until: 55 });
    expect(d.actor.getSnapshot().hasTag('paused')).toBe(true);
    expect(d.actor.getSnapshot().hasTag('stage:journey')).toBe(true);
    driveGroup(ir, { vitals: spike }, d);
    const p1 = ofType(d.log, 'stage').filter((e) => e.participant === 'p1').map((e) => `${e.at} ${e.phase} ${e.stage}`);
    const p2 = ofType(d.log, 'stage').filter((e) => e.participant === 'p2').map((e) => `${e.at} ${e.phase} ${e.stage}`);
    // p2 paused at 35; the next reading (50) is normal, held 10 min: resumed at 60.
    // p2's journey has 45 min of un-paused time left: it ends at 105, and the whole group moves on then.
    expect(p2).toEqual(['0 enter opening', '20 exit opening', '20 enter journey', '35 pause journey', '60 resume journey', '105 exit journey', '105 enter sharing', '150 exit sharing']);
    expect(p1).toEqual(['0 enter opening', '20 exit opening', '20 enter journey', '105 exit journey', '105 enter sharing', '150 exit sharing']);
  });

  it('stop ends one participant\'s part of the stage; the group moves on together', () => {
    const d = driveGroup(ir, { until: 90, events: [{ at: 30, event: { type: 'event', name: 'request_stop', participant: 'p4' } }] });
    const p4 = ofType(d.log, 'stage').filter((e) => e.participant === 'p4').map((e) => `${e.at} ${e.phase} ${e.stage}`);
    expect(p4).toEqual(['0 enter opening', '20 exit opening', '20 enter journey', '30 stop journey', '80 exit journey', '80 enter sharing']);
    expect(d.actor.getSnapshot().hasTag('stage:sharing')).toBe(true);
  });
});

describe('group session: shared staff pool', () => {
  const panicAt = (at: number, ...who: string[]) => who.map((participant) => ({ at, event: { type: 'event' as const, name: 'panic', participant } }));

  it('two panics at the same minute in a group of 8 with 2 facilitators leave none free: staffing violation', () => {
    const d = driveGroup(ir, { until: 40, events: panicAt(30, 'p2', 'p6') });
    expect(d.actor.getSnapshot().context.present.facilitator).toBe(2);
    expect(ofType(d.log, 'attend')).toEqual([
      expect.objectContaining({ participant: 'p2', role: 'facilitator', status: 'assigned', rule: 'panic', at: 30 }),
      expect.objectContaining({ participant: 'p6', role: 'facilitator', status: 'assigned', rule: 'panic', at: 30 }),
    ]);
    const line = { type: 'staffing.violation', kind: 'line', role: 'facilitator', op: '>=', required: 2, span: sp(14), stage: 'journey', at: 30 };
    expect(ofType(d.log, 'staffing.violation')).toEqual([
      { ...line, actual: 1 },
      { ...line, actual: 0 },
    ]);
    expect(d.actor.getSnapshot().context.violations).toEqual([
      { kind: 'line', role: 'facilitator', required: 2, actual: 1, span: sp(14), stage: 'journey', at: 30 },
      { kind: 'line', role: 'facilitator', required: 2, actual: 0, span: sp(14), stage: 'journey', at: 30 },
    ]);
    expect(d.actor.getSnapshot().context.busy.map((b) => `${b.participant} ${b.until}`)).toEqual(['p2 50', 'p6 50']);
  });

  it('a third panic with no one free waits, then is an attend violation naming the participant', () => {
    const d = driveGroup(ir, { until: 60, events: panicAt(30, 'p2', 'p6', 'p7') });
    expect(ofType(d.log, 'attend').map((e) => `${e.participant} ${e.status}`)).toEqual(['p2 assigned', 'p6 assigned', 'p7 waiting']);
    expect(ofType(d.log, 'staffing.violation').filter((v) => v.kind === 'attend')).toEqual([
      { type: 'staffing.violation', kind: 'attend', role: 'facilitator', required: 1, actual: 0, rule: 'panic', participant: 'p7', span: sp(24, 20), stage: 'journey', at: 32 },
    ]);
  });

  it('a facilitator arriving in time takes the waiting attend for that participant', () => {
    const d = driveGroup(ir, { until: 60, events: [...panicAt(30, 'p2', 'p6', 'p7'), { at: 31, event: { type: 'staff.arrive', role: 'facilitator' } }] });
    expect(ofType(d.log, 'attend').map((e) => `${e.at} ${e.participant} ${e.status}`)).toEqual(['30 p2 assigned', '30 p6 assigned', '30 p7 waiting', '31 p7 assigned']);
    expect(ofType(d.log, 'staffing.violation').filter((v) => v.kind === 'attend')).toEqual([]);
  });

  it('requirements scale with the participants still in session (ceil)', () => {
    // 5 participants, 2 facilitators: required ceil(5/4) = 2. One panic: 1 free < 2 → violation.
    // When two participants have left (4 remain... 3 remain), required ceil(3/4) = 1 and 1 free is enough.
    const d = driveGroup(ir, {
      options: { participants: people(5) },
      until: 60,
      events: [
        { at: 25, event: { type: 'measure', values: { spo2: 85 }, participant: 'p4' } },
        { at: 25, event: { type: 'measure', values: { spo2: 85 }, participant: 'p5' } },
        ...panicAt(30, 'p1'),
      ],
    });
    expect(ofType(d.log, 'escalate').map((e) => e.participant)).toEqual(['p4', 'p5']);
    expect(ofType(d.log, 'staffing.violation')).toEqual([]);
    const d2 = driveGroup(ir, { options: { participants: people(5) }, until: 60, events: panicAt(30, 'p1') });
    expect(ofType(d2.log, 'staffing.violation')).toEqual([expect.objectContaining({ kind: 'line', role: 'facilitator', required: 2, actual: 1, at: 30 })]);
  });

  it('the attended facilitators return to the pool after their time', () => {
    const d = driveGroup(ir, { until: 60, events: [...panicAt(30, 'p2', 'p6'), ...panicAt(51, 'p3')] });
    expect(ofType(d.log, 'attend').map((e) => `${e.at} ${e.participant} ${e.status}`)).toEqual(['30 p2 assigned', '30 p6 assigned', '51 p3 assigned']);
  });
});

describe('group session: events in', () => {
  it('validateEvent requires a known participant on measure and event, none on staff events', () => {
    const list = ids(8);
    expect(validateEvent(ir, { type: 'event', name: 'panic' }, list)).toEqual({
      ok: false,
      error: { code: 'missing-participant', message: 'this is a group session: a "event" event needs "participant", the id of the participant it is about' },
    });
    expect(validateEvent(ir, { type: 'measure', values: { sbp: 120 }, participant: 'p9' }, list)).toEqual({
      ok: false,
      error: { code: 'unknown-participant', message: '"p9" is not a participant of this session (participants: p1, p2, p3, p4, p5, p6, p7, p8)' },
    });
    expect(validateEvent(ir, { type: 'event', name: 'panic', participant: 3 }, list)).toMatchObject({ ok: false, error: { code: 'malformed' } });
    expect(validateEvent(ir, { type: 'staff.arrive', role: 'facilitator', participant: 'p1' }, list)).toMatchObject({ ok: false, error: { code: 'unexpected-participant' } });
    expect(validateEvent(ir, { type: 'event', name: 'panic', participant: 'p1' }, list)).toEqual({ ok: true });
    expect(validateEvent(ir, { type: 'staff.leave', role: 'facilitator' }, list)).toEqual({ ok: true });
  });

  it.each([
    [{ type: 'event', name: 'panic' }, 'missing-participant'],
    [{ type: 'measure', values: { sbp: 120 }, participant: 'p9' }, 'unknown-participant'],
    [{ type: 'measure', values: { sbp: 999 }, participant: 'p1' }, 'out-of-range'],
  ])('a running group session rejects %j with state unchanged', (event, code) => {
    const d = driveGroup(ir, { until: 30 });
    const before = d.actor.getSnapshot();
    const k = d.log.length;
    d.actor.send(event as never);
    expect(d.actor.getSnapshot().context).toBe(before.context);
    expect(d.actor.getSnapshot().value).toEqual(before.value);
    expect(d.log.slice(k)).toEqual([expect.objectContaining({ type: 'input.rejected', code, event, at: 30 })]);
  });

  it('rejects events about a participant who has left', () => {
    const d = driveGroup(ir, { until: 50, events: [{ at: 40, event: { type: 'measure', values: { spo2: 85 }, participant: 'p5' } }] });
    const k = d.log.length;
    d.actor.send({ type: 'event', name: 'panic', participant: 'p5' });
    expect(d.log.slice(k)).toEqual([
      expect.objectContaining({ type: 'input.rejected', code: 'participant-left', reason: 'participant "p5" has left the session (escalated at 41 min)' }),
    ]);
  });
});

describe('group session: population', () => {
  it('an excluded participant is never dosed; the others are', () => {
    const participants = people(4).map((x) => (x.id === 'p2' ? { id: 'p2', profile: { age: 30, flags: ['pregnancy'] } } : x));
    const d = driveGroup(ir, { options: { participants } });
    const out = d.actor.getSnapshot().output!;
    expect(out.participants.p2).toEqual({ outcome: 'deferred', reason: 'participant excluded: pregnancy', span: sp(3, 50), at: 0 });
    expect(ofType(d.log, 'administer').map((e) => e.participant)).toEqual(['p1', 'p3', 'p4']);
    expect(d.log.filter((e) => (e as { participant?: string }).participant === 'p2')).toEqual([]);
  });
});

describe('group session: XState surface', () => {
  it('tags stages and exposes each participant as a state', () => {
    const clock = new SimulatedClock();
    const actor = createActor(createProtocolMachine(ir, { participants: people(4) }), { clock }).start();
    expect(actor.getSnapshot().hasTag('stage:opening')).toBe(true);
    expect(actor.getSnapshot().hasTag('running')).toBe(true);
    expect(actor.getSnapshot().matches({ session: { participants: { p1: 'active', p4: 'active' } } } as never)).toBe(true);
  });
});
