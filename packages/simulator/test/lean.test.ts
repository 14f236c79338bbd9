/**
 * A lean trace (stats' recording) is the full trace without truth samples,
 * requests and doses: every other record is identical, and its state
 * records are the full trace's states projected onto stage, pause and staff.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { calibratedModel, simulate, type TraceRecord } from '../src/index.js';
import { exampleIR, irOf, noisyScenario } from './helpers.js';

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

  it('leanReadings: only quiet readings of the other measures are left out; every reading of the kept ones and every other record stay', () => {
    const text = readFileSync(new URL('../../../examples/individual-iv.kap', import.meta.url), 'utf8');
    // The example reads spo2 continuously; this variant reads sbp continuously too, in the infusion.
    const variant = irOf(text.replace('monitor spo2 continuously\n      monitor cadss at 20 min', 'monitor spo2 continuously\n      monitor sbp continuously\n      monitor cadss at 20 min'));
    expect(variant.sessions.find((x) => x.name === 'dosing')!.stages[1]!.monitors.filter((m) => m.schedule.kind === 'continuously').length).toBe(2);
    const keep = new Set(['sbp', 'dbp', 'hr']);
    let dropped = 0;
    for (const ir of [exampleIR('individual-iv'), variant]) {
      for (let seed = 1; seed <= 20; seed++) {
        const scenario = calibratedModel(ir, { session: 'dosing', seed });
        const all = simulate(ir, { session: 'dosing', scenario, seed, stepper: 'engine', lean: true });
        const kept = simulate(ir, { session: 'dosing', scenario, seed, stepper: 'engine', lean: true, leanReadings: keep });
        const other = (r: TraceRecord) => r.type === 'observe' && Object.keys(r.values).every((k) => !keep.has(k));
        expect(kept.header).toEqual(all.header);
        // Everything but readings of other measures, in the same order; of those, a part (the quiet ones are gone).
        expect(kept.records.filter((r) => !other(r))).toEqual(all.records.filter((r) => !other(r)));
        const mine = kept.records.filter(other);
        const theirs = all.records.filter(other);
        let j = 0;
        for (const r of mine) {
          while (j < theirs.length && JSON.stringify(theirs[j]) !== JSON.stringify(r)) j++;
          expect(j, `${JSON.stringify(r)} is not in the full lean trace, in order`).toBeLessThan(theirs.length);
          j++;
        }
        dropped += theirs.length - mine.length;
      }
    }
    expect(dropped).toBeGreaterThan(1000);
  });

  it('the actor and the engine agree on lean traces too', () => {
    const ir = exampleIR('individual-iv');
    const a = simulate(ir, { session: 'dosing', scenario: noisyScenario(), seed: 3, lean: true });
    const e = simulate(ir, { session: 'dosing', scenario: noisyScenario(), seed: 3, lean: true, stepper: 'engine' });
    expect(e).toEqual(a);
  });
});
