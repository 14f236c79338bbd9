/**
 * The engine stepper (stats' fast path) must be the machine: for every
 * example, calibrated and adversarial scenarios, the trace driven through
 * the engine directly is byte-identical to the trace driven through the
 * XState actor of createProtocolMachine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adversarialArbitrary, adversarialScenario, calibratedModel, serializeTrace, simulate, type Scenario } from '../src/index.js';
import type { IR } from '@kapspec/runtime';
import { exampleIR, noisyScenario } from './helpers.js';
import { propertySeed } from './seed.js';

const EXAMPLES = ['individual-iv', 'group-im', 'intranasal-esketamine', 'sublingual-lozenge', 'flawed/bp-every-20-min', 'flawed/bp-every-2-min', 'flawed/group-two-panics'];

function dosingSession(ir: IR): string {
  return (ir.sessions.find((s) => s.stages.some((st) => st.administer.length > 0)) ?? ir.sessions[0]!).name;
}

function both(ir: IR, session: string, scenario: Scenario, seed: number): [string, string] {
  const actor = serializeTrace(simulate(ir, { session, scenario, seed, stepper: 'actor' }));
  const engine = serializeTrace(simulate(ir, { session, scenario, seed, stepper: 'engine' }));
  return [actor, engine];
}

describe('engine stepper ≡ XState actor (byte-identical traces)', () => {
  for (const name of EXAMPLES) {
    const ir = exampleIR(name);
    const session = dosingSession(ir);
    it(`${name}: calibrated model, 40 seeds`, () => {
      const participants = ir.setting.mode === 'group' ? ir.setting.min : 1;
      for (let seed = 1; seed <= 40; seed++) {
        const scenario = calibratedModel(ir, { session, seed, participants });
        const [a, e] = both(ir, session, scenario, seed);
        expect(e, `seed ${seed}`).toBe(a);
      }
    }, 60_000);
    it(`${name}: adversarial scenarios`, () => {
      const seed = propertySeed(`stepper ${name}`);
      fc.assert(
        fc.property(adversarialArbitrary(ir, { session }), fc.integer({ min: 0, max: 2 ** 31 }), (params, s) => {
          const [a, e] = both(ir, session, adversarialScenario(ir, params, { session }), s);
          expect(e).toBe(a);
        }),
        { seed, numRuns: 25 },
      );
    }, 60_000);
  }

  it('a scripted scenario with rejected readings, staff changes and pauses', () => {
    const ir = exampleIR('individual-iv');
    const [a, e] = both(ir, 'dosing', noisyScenario(), 7);
    expect(e).toBe(a);
    expect(a).toContain('"type":"staff"');
  });
});
