/**
 * A lean trace (stats' recording) is the full trace without truth samples,
 * requests and doses: every other record is identical, and its state
 * records are the full trace's states projected onto stage, pause and staff.
 */
import { describe, expect, it } from 'vitest';
import { calibratedModel, simulate, type TraceRecord } from '../src/index.js';
import { exampleIR, noisyScenario } from './helpers.js';

type StateView = { t: number; stage?: string; paused: readonly string[]; present: unknown; free: unknown };
const view = (r: TraceRecord & { type: 'state' }): StateView => ({ t: r.t, ...(r.stage !== undefined ? { stage: r.stage } : {}), paused: r.paused, present: r.present, free: r.free });
const same = (a: StateView, b: StateView) => JSON.stringify({ ...a, t: 0 }) === JSON.stringify({ ...b, t: 0 });

function project(records: readonly TraceRecord[]): { others: TraceRecord[]; states: StateView[] } {
  const others: TraceRecord[] = [];
  const states: StateView[] = [];
  for (const r of records) {
    if (r.type === 'truth' || r.type === 'request') continue;
    if (r.type === 'state') {
      const v = view(r);
      if (states.length === 0 || !same(states.at(-1)!, v)) states.push(v);
    } else others.push(r);
  }
  return { others, states };
}

describe('lean traces (Monte Carlo statistics)', () => {
  for (const name of ['individual-iv', 'group-im', 'flawed/bp-every-20-min']) {
    it(`${name}: the full trace, without truth, requests and doses`, () => {
      const ir = exampleIR(name);
      const session = (ir.sessions.find((s) => s.stages.some((st) => st.administer.length > 0)) ?? ir.sessions[0]!).name;
      const participants = ir.setting.mode === 'group' ? ir.setting.min : 1;
      for (let seed = 1; seed <= 15; seed++) {
        const scenario = calibratedModel(ir, { session, seed, participants });
        const full = simulate(ir, { session, scenario, seed, stepper: 'engine' });
        const lean = simulate(ir, { session, scenario, seed, stepper: 'engine', lean: true });
        expect(lean.header).toEqual(full.header);
        expect(lean.records.some((r) => r.type === 'truth' || r.type === 'request')).toBe(false);
        const states = lean.records.filter((r): r is TraceRecord & { type: 'state' } => r.type === 'state');
        expect(states.every((r) => Object.keys(r.dose).length === 0 && r.doses === undefined)).toBe(true);
        const p = project(full.records);
        expect(lean.records.filter((r) => r.type !== 'state')).toEqual(p.others);
        expect(states.map(view)).toEqual(p.states);
      }
    }, 60_000);
  }

  it('the actor and the engine agree on lean traces too', () => {
    const ir = exampleIR('individual-iv');
    const a = simulate(ir, { session: 'dosing', scenario: noisyScenario(), seed: 3, lean: true });
    const e = simulate(ir, { session: 'dosing', scenario: noisyScenario(), seed: 3, lean: true, stepper: 'engine' });
    expect(e).toEqual(a);
  });
});
