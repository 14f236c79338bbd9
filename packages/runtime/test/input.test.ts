import { describe, expect, it } from 'vitest';
import { validateEvent } from '../src/events.js';
import { dosingIR, drive, ofType } from './fixtures.js';

const ir = dosingIR();

describe('validateEvent', () => {
  it.each([
    [{ type: 'measure', values: { sbp: 300 } }, 'out-of-range', 'sbp 300 mmHg is outside the possible range 50..260 mmHg'],
    [{ type: 'measure', values: { sbp: Number.NaN } }, 'not-a-number', 'the reading for "sbp" is not a number: null'],
    [{ type: 'measure', values: { sbp: '150' } }, 'not-a-number', 'the reading for "sbp" is not a number: "150"'],
    [{ type: 'measure', values: { spo3: 95 } }, 'unknown-measure', '"spo3" is not a declared measure (declared: sbp, dbp, hr, spo2, cadss)'],
    [{ type: 'measure', values: {} }, 'malformed', 'a "measure" event needs at least one reading'],
    [{ type: 'event', name: 'seizure' }, 'unknown-event', '"seizure" is not a declared event (declared: nausea, vomiting, panic, chest_pain, request_stop)'],
    [{ type: 'staff.arrive', role: 'nurse' }, 'unknown-role', '"nurse" is not a declared role (declared: therapist, medical_provider)'],
    [{ type: 'tick' }, 'unknown-type', 'unknown event type "tick": expected "measure", "event", "staff.arrive" or "staff.leave"'],
    [{ type: 'event', name: 'panic', participant: 'p1' }, 'unexpected-participant', 'this is an individual session: events carry no "participant"'],
    [null, 'malformed', 'an event must be an object with a "type"'],
  ])('rejects %j', (event, code, message) => {
    expect(validateEvent(ir, event)).toEqual({ ok: false, error: { code, message } });
  });

  it('accepts good events', () => {
    expect(validateEvent(ir, { type: 'measure', values: { sbp: 260, spo2: 50 } })).toEqual({ ok: true });
    expect(validateEvent(ir, { type: 'event', name: 'panic' })).toEqual({ ok: true });
    expect(validateEvent(ir, { type: 'staff.leave', role: 'therapist' })).toEqual({ ok: true });
  });
});

describe('bad events sent to a running session', () => {
  it.each([
    [{ type: 'measure', values: { sbp: 300 } }, 'out-of-range'],
    [{ type: 'measure', values: { sbp: Number.NaN, dbp: 80 } }, 'not-a-number'],
    [{ type: 'measure', values: { spo3: 95 } }, 'unknown-measure'],
    [{ type: 'event', name: 'seizure' }, 'unknown-event'],
    [{ type: 'staff.leave', role: 'nurse' }, 'unknown-role'],
  ])('%j is rejected with state and context unchanged', (event, code) => {
    const d = drive(ir, { until: 20 });
    const before = d.actor.getSnapshot();
    const n = d.log.length;
    d.actor.send(event as never);
    const after = d.actor.getSnapshot();
    expect(after.value).toEqual(before.value);
    expect(after.context).toBe(before.context);
    expect(d.log.slice(n)).toEqual([expect.objectContaining({ type: 'input.rejected', code, event, at: 20 })]);
  });

  it('rejects a staff member leaving when none of that role is present', () => {
    const d = drive(ir, {
      until: 20,
      events: [{ at: 5, event: { type: 'staff.leave', role: 'therapist' } }, { at: 6, event: { type: 'staff.leave', role: 'therapist' } }],
    });
    expect(ofType(d.log, 'input.rejected')).toEqual([
      expect.objectContaining({ code: 'no-one-to-leave', reason: 'no therapist is present to leave', at: 6 }),
    ]);
    expect(d.actor.getSnapshot().context.present.therapist).toBe(0);
  });

  it('a rejected reading does not disturb the session: it still discharges on time', () => {
    const d = drive(ir, { events: [{ at: 30, event: { type: 'measure', values: { sbp: 999 } } }] });
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'discharged', at: 120 });
  });
});
