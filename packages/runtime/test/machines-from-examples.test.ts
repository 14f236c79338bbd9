/**
 * Every session of every example in examples/ compiles to IR from which a
 * machine can be created and started (group protocols with 8 participants).
 * Scenario tests per example live in examples*.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { compile } from '../../compiler/src/index.js';
import { loadIR } from '../src/load.js';
import { createCourseMachine, type CourseEmitted } from '../src/course.js';
import { createProtocolMachine } from '../src/machine.js';
import { ofType } from './fixtures.js';
import { driveGroup, people } from './fixtures-group.js';

const dir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.kap')).sort();
const irOf = (f: string) => {
  const r = compile(readFileSync(dir + f, 'utf8'), { file: f });
  expect(r.ir).toBeDefined();
  return loadIR(JSON.parse(JSON.stringify(r.ir)));
};

describe('every example can create a machine', () => {
  it('finds the examples', () => expect(files.length).toBeGreaterThanOrEqual(4));

  for (const f of files) {
    it(f, () => {
      const ir = irOf(f);
      for (const s of ir.sessions) {
        const clock = new SimulatedClock();
        const actor =
          ir.setting.mode === 'group'
            ? createActor(createProtocolMachine(ir, { session: s.name, participants: people(8) }), { clock })
            : createActor(createProtocolMachine(ir, { session: s.name }), { clock });
        actor.start();
        expect(actor.getSnapshot().hasTag(`stage:${s.stages[0]!.name}`)).toBe(true);
        actor.stop();
      }
      if (ir.course) {
        const course = createActor(createCourseMachine(ir, { profile: { age: 40 } }), { clock: new SimulatedClock() }).start();
        const log: CourseEmitted[] = [];
        course.on('*', (e) => log.push(e));
        course.send({ type: 'session.request' });
        expect(log).toEqual([expect.objectContaining({ type: 'session.start', session: ir.course.steps[0]!.session })]);
      }
    });
  }
});

describe('group-im.kap with 8 participants', () => {
  const ir = irOf('group-im.kap');
  const normal = { sbp: 124, dbp: 78, hr: 70, spo2: 97 };

  it('discharges all 8 on normal readings', () => {
    const d = driveGroup(ir, { vitals: () => ({ ...normal }) });
    const out = d.actor.getSnapshot().output!;
    expect(out.outcome).toBe('discharged');
    expect(Object.values(out.participants).map((o) => o.outcome)).toEqual(Array(8).fill('discharged'));
    expect(d.actor.getSnapshot().context.present.facilitator).toBe(3);
  });

  it('two concurrent panics: two facilitators taken, one free < 2 required → staffing violation; with none free the provider is notified', () => {
    const panic = (participant: string, at: number) => ({ at, event: { type: 'event' as const, name: 'panic', participant } });
    const d = driveGroup(ir, { vitals: () => ({ ...normal }), until: 60, events: [panic('p1', 40), panic('p2', 40), panic('p3', 40)] });
    expect(ofType(d.log, 'attend').map((e) => `${e.participant} ${e.status}`)).toEqual(['p1 assigned', 'p2 assigned', 'p3 assigned']);
    const lines = ofType(d.log, 'staffing.violation').filter((v) => v.kind === 'line');
    expect(lines.map((v) => `${v.role} ${v.required} ${v.actual} ${v.at}`)).toEqual(['facilitator 2 1 40', 'facilitator 2 0 40']);
    const d4 = driveGroup(ir, { vitals: () => ({ ...normal }), until: 60, events: [panic('p1', 40), panic('p2', 40), panic('p3', 40), panic('p4', 40)] });
    // Rules run in order and see what earlier rules did: p3's `panic` takes the last
    // free facilitator, so p3's `panic_uncovered` (free(facilitator) < 1) holds too.
    expect(ofType(d4.log, 'notify').filter((e) => e.rule === 'panic_uncovered').map((e) => e.participant)).toEqual(['p3', 'p4']);
    expect(ofType(d4.log, 'attend').map((e) => `${e.participant} ${e.status}`)).toEqual(['p1 assigned', 'p2 assigned', 'p3 assigned', 'p4 waiting']);
  });
});
