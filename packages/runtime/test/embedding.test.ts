/**
 * The embedding contract (DESIGN.md), as an app sees it: only
 * `@kapspec/runtime` and `xstate`, an IR file read from disk, a session run
 * to `discharged` on a simulated clock. No compiler, no language package.
 *
 * The IR file is examples/individual-iv.kap compiled; a compiler test keeps
 * it up to date (packages/compiler/test/ir-fixture.test.ts).
 */
import { readFileSync } from 'node:fs';
import { createActor, SimulatedClock } from 'xstate';
import { createProtocolMachine, loadIR, type ProtocolEmitted } from '@kapspec/runtime';
import { expect, it } from 'vitest';

const json = readFileSync(new URL('./fixtures/individual-iv.ir.json', import.meta.url), 'utf8');

it('loads an IR file and runs the dosing session to discharged on a SimulatedClock', () => {
  const ir = loadIR(json); // validates; a typed error with the JSON path on bad input
  const machine = createProtocolMachine(ir, { session: 'dosing' });
  const clock = new SimulatedClock();
  const actor = createActor(machine, { clock });

  // The app's side: a participant with steady vitals, readings sent back as
  // soon as they are requested.
  const vitals: Record<string, number> = { sbp: 124, dbp: 78, hr: 72, spo2: 97, cadss: 2 };
  const requested: string[][] = [];
  actor.on('measure.request', (e) => {
    requested.push([...e.measures]);
    actor.send({ type: 'measure', values: Object.fromEntries(e.measures.map((m) => [m, vitals[m]!])) });
  });
  const notified: string[] = [];
  actor.on('notify', (e) => notified.push(`${e.role} (${e.rule})`));
  const administered: ProtocolEmitted[] = [];
  actor.on('administer', (e) => administered.push(e));
  const rejected: unknown[] = [];
  actor.on('input.rejected', (e) => rejected.push(e));

  actor.start();
  // Let time pass a minute at a time, the way a wall clock would (every
  // deadline of this protocol falls on a whole minute).
  for (let minute = 1; minute <= 240 && actor.getSnapshot().status === 'active'; minute++) clock.increment(60_000);

  const snapshot = actor.getSnapshot();
  expect(snapshot.status).toBe('done');
  expect(snapshot.output).toMatchObject({ outcome: 'discharged', at: 120 });
  expect(snapshot.output!.span!.file).toBe('examples/individual-iv.kap');
  expect(requested[0]).toEqual(['sbp', 'dbp', 'hr', 'spo2']);
  expect(requested).toHaveLength(16); // 1 before dosing, 6 during the infusion, 9 in recovery
  expect(administered).toEqual([expect.objectContaining({ phase: 'start', drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv' })]);
  expect(notified).toEqual([]);
  expect(rejected).toEqual([]);
});

it('sends events the way the contract shows, and rejects a bad one without changing state', () => {
  const ir = loadIR(json);
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock });
  const out: ProtocolEmitted[] = [];
  actor.on('*', (e) => out.push(e));
  actor.start();
  actor.send({ type: 'measure', values: { sbp: 152, dbp: 88 } });
  actor.send({ type: 'event', name: 'panic' });
  actor.send({ type: 'staff.leave', role: 'therapist' });
  const before = actor.getSnapshot().context;
  actor.send({ type: 'measure', values: { sbp: 400 } });
  expect(actor.getSnapshot().context).toEqual(before);
  expect(out.filter((e) => e.type === 'input.rejected')).toEqual([
    expect.objectContaining({ code: 'out-of-range', reason: 'sbp 400 mmHg is outside the possible range 50..260 mmHg' }),
  ]);
  expect(out.filter((e) => e.type === 'attend')).toEqual([expect.objectContaining({ role: 'therapist', rule: 'panic', status: 'assigned' })]);
  expect(out.filter((e) => e.type === 'staffing.violation')).toEqual([expect.objectContaining({ kind: 'line', role: 'therapist' })]);
  actor.stop();
});
