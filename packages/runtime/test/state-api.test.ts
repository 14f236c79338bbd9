/**
 * `nextDeadline(snapshot)` and `sessionState(snapshot)`: what a driver and an
 * app read from a running session without touching the clock's or the
 * context's internals.
 */
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createProtocolMachine, nextDeadline, sessionState } from '../src/index.js';
import { dosingIR, drive, NORMAL, nextDue, ofType, start } from './fixtures.js';
import { groupIR, people, startGroup } from './fixtures-group.js';

const ir = dosingIR();
const MIN = 60_000;

describe('nextDeadline', () => {
  it('is the clock reading the timer is armed for, so a driver can step the clock exactly to it', () => {
    const d = start(ir, { session: 'dosing' });
    for (let i = 0; i < 200 && d.actor.getSnapshot().status === 'active'; i++) {
      // Answer readings so the session goes on.
      while (d.pending.length) {
        const r = d.pending.shift()!;
        d.actor.send({ type: 'measure', values: Object.fromEntries(r.measures.map((m) => [m, NORMAL[m as keyof typeof NORMAL]])) });
      }
      const due = nextDeadline(d.actor.getSnapshot());
      // The same instant SimulatedClock would fire (its private timers, read by the old fixture helper).
      expect(due).toBe(nextDue(d.clock) ?? undefined);
      if (due === undefined) break;
      d.clock.set(Math.max(due, d.clock.now()));
    }
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'discharged', at: 120 });
    expect(nextDeadline(d.actor.getSnapshot())).toBeUndefined();
  });

  it('gives the same run as stepping by the clock’s own timers', () => {
    const byApi = start(ir, { session: 'dosing' });
    for (let i = 0; i < 500 && byApi.actor.getSnapshot().status === 'active'; i++) {
      const due = nextDeadline(byApi.actor.getSnapshot());
      if (due === undefined) break;
      byApi.clock.set(Math.max(due, byApi.clock.now()));
    }
    const stepped = drive(ir, { silent: true });
    expect(byApi.log).toEqual(stepped.log);
  });

  it('is in the first stage at start: the first `every` or duration mark', () => {
    const d = start(ir, { session: 'dosing' });
    // predose: 15 min, nothing else due before.
    expect(nextDeadline(d.actor.getSnapshot())).toBe(15 * MIN);
  });

  it('counts from the session origin on a clock that did not start at 0', () => {
    const clock = new SimulatedClock();
    clock.set(1_000_000);
    const d = start(ir, { session: 'dosing' }, clock);
    expect(nextDeadline(d.actor.getSnapshot())).toBe(1_000_000 + 15 * MIN);
  });

  it('works on a restored session', () => {
    const d = drive(ir, { until: 20 });
    const persisted = JSON.parse(JSON.stringify(d.actor.getPersistedSnapshot())) as never;
    const clock = new SimulatedClock();
    clock.set(20 * MIN);
    const restored = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock, snapshot: persisted });
    restored.start();
    expect(nextDeadline(restored.getSnapshot())).toBe(nextDeadline(d.actor.getSnapshot()));
    expect(nextDue(clock)).toBe(nextDeadline(restored.getSnapshot()));
  });

  it('refuses a snapshot of another machine', () => {
    expect(() => nextDeadline({ status: 'active', context: {} } as never)).toThrow(/createProtocolMachine/);
  });
});

describe('sessionState', () => {
  it('follows the session: stage, pause, staff, doses, outcome', () => {
    const s0 = sessionState(start(ir, { session: 'dosing' }).actor.getSnapshot());
    expect(s0).toEqual({
      at: 0,
      stage: 'predose',
      paused: [],
      dose: { ketamine: 0, ondansetron: 0 },
      present: { therapist: 1, medical_provider: 1 },
      free: { therapist: 1, medical_provider: 1 },
    });

    const spike = (t: number) => ({ ...NORMAL, ...(t === 20 ? { sbp: 186 } : {}) });
    const d = drive(ir, { vitals: spike, until: 25, events: [{ at: 22, event: { type: 'event', name: 'panic' } }] });
    const s = sessionState(d.actor.getSnapshot());
    expect(s.stage).toBe('infusion');
    expect(s.paused).toEqual(['hypertension']);
    // 5 un-paused minutes of a 40-min 0.5 mg/kg infusion.
    expect(s.dose.ketamine).toBeCloseTo(0.0625);
    expect(s.free).toEqual({ therapist: 0, medical_provider: 1 });
    expect(s.present).toEqual({ therapist: 1, medical_provider: 1 });
    expect(s.at).toBe(25);
    expect(s.outcome).toBeUndefined();
    expect(d.actor.getSnapshot().hasTag('paused')).toBe(true);

    drive(ir, { vitals: spike }, d);
    const end = sessionState(d.actor.getSnapshot());
    expect(end.outcome).toEqual(d.actor.getSnapshot().output);
    expect(end.stage).toBe('recovery');
    expect(end.paused).toEqual([]);
    expect(end.dose.ketamine).toBeCloseTo(0.5);
  });

  it('counts `give` doses', () => {
    const d = drive(ir, { until: 30, events: [{ at: 20, event: { type: 'event', name: 'nausea' } }] });
    expect(sessionState(d.actor.getSnapshot()).dose.ondansetron).toBe(4);
    expect(ofType(d.log, 'give')).toHaveLength(1);
  });

  it('a group session: the group’s stage and staff, each participant’s own state', () => {
    const g = startGroup(groupIR(), { participants: people(8) });
    const s = sessionState(g.actor.getSnapshot());
    expect(Object.keys(s.participants)).toEqual(people(8).map((p) => p.id));
    expect(s.stage).toBe(groupIR().sessions[0]!.stages[0]!.name);
    expect(s.paused).toEqual([]);
    expect(s.outcome).toBeUndefined();
    for (const p of Object.values(s.participants)) expect(p).toMatchObject({ stage: s.stage, paused: [] });
    expect(Object.keys(s.present)).toEqual(groupIR().roles.map((r) => r.name));
    expect(nextDeadline(g.actor.getSnapshot())).toBe(nextDue(g.clock) ?? undefined);
  });
});
