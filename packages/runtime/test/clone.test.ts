/**
 * The machine copies only what the engine changes (`cloneContext`,
 * `cloneGroup`) instead of the whole context. These tests deep-freeze every
 * context the actor publishes, so that any step writing to a part it did not
 * copy throws (and the run differs from an unfrozen one). They also keep the
 * context within V8's limit for objects that XState's `assign` copies with
 * `Object.assign` (see below).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { cloneContext, initialContext, plan } from '../src/engine.js';
import type { ProtocolInEvent } from '../src/events.js';
import { cloneGroup, groupInitial } from '../src/group.js';
import { dosingIR, drive, start, type Script } from './fixtures.js';
import { driveGroup, groupIR, ids, people, startGroup, type GroupScript } from './fixtures-group.js';

function deepFreeze(x: unknown): void {
  if (typeof x !== 'object' || x === null || Object.isFrozen(x)) return;
  Object.freeze(x);
  for (const v of Object.values(x)) deepFreeze(v);
}

const ir = dosingIR();
const gir = groupIR();

const event = fc.oneof(
  fc.record({ type: fc.constant('event' as const), name: fc.constantFrom('panic', 'nausea', 'request_stop', 'vomiting') }),
  fc.record({ type: fc.constantFrom('staff.arrive' as const, 'staff.leave' as const), role: fc.constantFrom('therapist', 'medical_provider') }),
  fc.record({
    type: fc.constant('measure' as const),
    values: fc.record({ sbp: fc.integer({ min: 40, max: 230 }), dbp: fc.integer({ min: 40, max: 130 }), spo2: fc.integer({ min: 80, max: 100 }) }, { requiredKeys: [] }),
  }),
);
const timed = fc.record({ at: fc.integer({ min: 1, max: 1500 }).map((x) => x / 10), event: event as fc.Arbitrary<ProtocolInEvent> });

describe('copy-on-step', () => {
  it('no step writes to the context it started from (individual, property)', () => {
    fc.assert(
      fc.property(fc.array(timed, { maxLength: 25 }), (events) => {
        const script: Script = { events, until: 300 };
        const plain = drive(ir, script);
        const frozen = start(ir, { session: 'dosing' }, new SimulatedClock());
        frozen.actor.subscribe((s) => deepFreeze(s.context));
        deepFreeze(frozen.actor.getSnapshot().context);
        drive(ir, script, frozen);
        expect(frozen.actor.getSnapshot().status).not.toBe('error');
        expect(frozen.log).toEqual(plain.log);
        expect(frozen.actor.getSnapshot().context).toEqual(plain.actor.getSnapshot().context);
      }),
      { numRuns: 30, seed: 20250611 },
    );
  }, 60_000);

  it('no step writes to the context it started from (group, property)', () => {
    const who = fc.constantFrom(...ids(8));
    const gevent = fc.oneof(
      fc.record({ type: fc.constant('event' as const), name: fc.constantFrom('panic', 'vomiting', 'request_stop'), participant: who }),
      fc.record({ type: fc.constantFrom('staff.arrive' as const, 'staff.leave' as const), role: fc.constantFrom('facilitator', 'medical_provider') }),
      fc.record({
        type: fc.constant('measure' as const),
        values: fc.record({ sbp: fc.integer({ min: 100, max: 200 }), spo2: fc.integer({ min: 80, max: 100 }) }, { requiredKeys: [] }),
        participant: who,
      }),
    );
    const gtimed = fc.record({ at: fc.integer({ min: 1, max: 1600 }).map((x) => x / 10), event: gevent as fc.Arbitrary<ProtocolInEvent> });
    const options = { participants: people(8) };
    fc.assert(
      fc.property(fc.array(gtimed, { maxLength: 25 }), (events) => {
        const script: GroupScript = { events, until: 300, options };
        const plain = driveGroup(gir, script);
        const frozen = startGroup(gir, options, new SimulatedClock());
        frozen.actor.subscribe((s) => deepFreeze(s.context));
        deepFreeze(frozen.actor.getSnapshot().context);
        driveGroup(gir, script, frozen);
        expect(frozen.actor.getSnapshot().status).not.toBe('error');
        expect(frozen.log).toEqual(plain.log);
        expect(frozen.actor.getSnapshot().context).toEqual(plain.actor.getSnapshot().context);
      }),
      { numRuns: 15, seed: 20250612 },
    );
  }, 120_000);

  it('a copy is equal to its original, and shares none of what the engine changes', () => {
    const p = plan(ir, ir.sessions[0]!);
    const c = initialContext(p, 0, {});
    const x = cloneContext(c);
    expect(x).toEqual(c);
    expect(Object.keys(x)).toEqual(Object.keys(c));
    for (const k of ['stage', 'stopped', 'last', 'first', 'counts', 'given', 'infusions', 'conditions', 'present', 'busy', 'pending', 'lineOk', 'violations'] as const) {
      expect(x[k], k).not.toBe(c[k]);
    }
    const gp = plan(gir, gir.sessions[0]!);
    const g = groupInitial(gp, 0, people(3), undefined);
    const y = cloneGroup(g);
    expect(y).toEqual(g);
    expect(y.members[0]).not.toBe(g.members[0]);
    expect(Object.keys(y.members[0]!)).toEqual(Object.keys(g.members[0]!));
  });

  it('the context has at most 19 top-level fields', () => {
    // XState's `assign` builds every new context with `Object.assign({}, old,
    // update)`. In V8 (Node 20) an object given 20 or more properties that way
    // falls into dictionary mode, and every step then reads and copies the
    // context several times slower (measured: the copy about ten times
    // slower, the whole machine 1.1 to 1.4 times fewer events/s). Group
    // fields under an existing one rather than adding a twentieth.
    const p = plan(ir, ir.sessions[0]!);
    expect(Object.keys(initialContext(p, 0, {})).length).toBeLessThanOrEqual(19);
    const gp = plan(gir, gir.sessions[0]!);
    expect(Object.keys(groupInitial(gp, 0, people(3), undefined)).length).toBeLessThanOrEqual(19);
  });
});
