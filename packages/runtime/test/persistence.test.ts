import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { ProtocolInEvent } from '../src/events.js';
import { dosingIR, drive, NORMAL, start, type Script } from './fixtures.js';
import { driveGroup, groupIR, ids, people, startGroup, type GroupScript } from './fixtures-group.js';

const ir = dosingIR();

/** Runs `script` to `split`, persists (through JSON), restores into a new actor on a new clock, runs on. */
function splitRun(script: Script, split: number) {
  const whole = drive(ir, script);
  const first = drive(ir, { ...script, until: split });
  const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as unknown;
  const n = first.log.length;
  const pending = first.pending.splice(0);
  first.actor.stop();
  const clock = new SimulatedClock();
  clock.set(split * 60_000);
  const restored = start(ir, { session: 'dosing' }, clock, persisted);
  restored.pending.push(...pending);
  const rest = { ...script, events: (script.events ?? []).filter((e) => e.at > split) };
  drive(ir, rest, restored);
  return { whole, before: first.log.slice(0, n), after: restored.log, restored };
}

describe('persistence', () => {
  it('a session persisted while paused resumes and ends identically', () => {
    const script: Script = { vitals: (t) => ({ ...NORMAL, ...(t === 20 ? { sbp: 186 } : {}) }) };
    const { whole, before, after, restored } = splitRun(script, 27);
    expect(restored.actor.getSnapshot().output).toEqual(whole.actor.getSnapshot().output);
    expect([...before, ...after]).toEqual(whole.log);
    expect(restored.actor.getSnapshot().output).toMatchObject({ outcome: 'discharged', at: 130 });
  });

  const event = fc.oneof(
    fc.record({ type: fc.constant('event' as const), name: fc.constantFrom('panic', 'nausea', 'request_stop', 'vomiting') }),
    fc.record({ type: fc.constantFrom('staff.arrive' as const, 'staff.leave' as const), role: fc.constantFrom('therapist', 'medical_provider') }),
    fc.record({
      type: fc.constant('measure' as const),
      values: fc.record({ sbp: fc.integer({ min: 40, max: 230 }), spo2: fc.integer({ min: 80, max: 100 }) }, { requiredKeys: [] }),
    }),
  );
  const timed = fc.record({ at: fc.integer({ min: 1, max: 1500 }).map((x) => x / 10), event: event as fc.Arbitrary<ProtocolInEvent> });

  it('restoring at any point continues identically (property)', () => {
    fc.assert(
      fc.property(fc.array(timed, { maxLength: 25 }), fc.integer({ min: 1, max: 1600 }), (events, split10) => {
        const split = split10 / 10;
        // Keep scripted events off the split instant itself: the order of two things at one instant is the script's.
        const script: Script = { events: events.filter((e) => e.at !== split), until: 300 };
        const { whole, before, after, restored } = splitRun(script, split);
        expect([...before, ...after]).toEqual(whole.log);
        expect(restored.actor.getSnapshot().status).toBe(whole.actor.getSnapshot().status);
        expect(restored.actor.getSnapshot().output).toEqual(whole.actor.getSnapshot().output);
        expect(restored.actor.getSnapshot().context).toEqual(whole.actor.getSnapshot().context);
      }),
      { numRuns: 40, seed: 20250601 },
    );
  }, 60_000);
});

describe('persistence of a group session', () => {
  const gir = groupIR();
  const options = { participants: people(8) };

  function splitGroup(script: GroupScript, split: number) {
    const whole = driveGroup(gir, { ...script, options });
    const first = driveGroup(gir, { ...script, options, until: split });
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot())) as unknown;
    const k = first.log.length;
    const pending = first.pending.splice(0);
    first.actor.stop();
    const clock = new SimulatedClock();
    clock.set(split * 60_000);
    const restored = startGroup(gir, options, clock, persisted);
    restored.pending.push(...pending);
    driveGroup(gir, { ...script, options, events: (script.events ?? []).filter((e) => e.at > split) }, restored);
    return { whole, before: first.log.slice(0, k), after: restored.log, restored };
  }

  const who = fc.constantFrom(...ids(8));
  const event = fc.oneof(
    fc.record({ type: fc.constant('event' as const), name: fc.constantFrom('panic', 'vomiting', 'request_stop'), participant: who }),
    fc.record({ type: fc.constantFrom('staff.arrive' as const, 'staff.leave' as const), role: fc.constantFrom('facilitator', 'medical_provider') }),
    fc.record({
      type: fc.constant('measure' as const),
      values: fc.record({ sbp: fc.integer({ min: 100, max: 200 }), spo2: fc.integer({ min: 80, max: 100 }) }, { requiredKeys: [] }),
      participant: who,
    }),
  );
  const timed = fc.record({ at: fc.integer({ min: 1, max: 1600 }).map((x) => x / 10), event: event as fc.Arbitrary<ProtocolInEvent> });

  it('restoring a group session at any point continues identically (property)', () => {
    fc.assert(
      fc.property(fc.array(timed, { maxLength: 25 }), fc.integer({ min: 1, max: 1700 }), (events, split10) => {
        const split = split10 / 10;
        const script: GroupScript = { events: events.filter((e) => e.at !== split), until: 300 };
        const { whole, before, after, restored } = splitGroup(script, split);
        expect([...before, ...after]).toEqual(whole.log);
        expect(restored.actor.getSnapshot().value).toEqual(whole.actor.getSnapshot().value);
        expect(restored.actor.getSnapshot().output).toEqual(whole.actor.getSnapshot().output);
        expect(restored.actor.getSnapshot().context).toEqual(whole.actor.getSnapshot().context);
      }),
      { numRuns: 25, seed: 20250602 },
    );
  }, 120_000);
});
