/**
 * The engine stepper (stats' fast path) must be the machine: for every
 * example, calibrated and adversarial scenarios, the trace driven through
 * the engine directly is byte-identical to the trace driven through the
 * XState actor of createProtocolMachine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adversarialArbitrary, adversarialScenario, calibratedModel, scriptedScenario, serializeTrace, simulate, type Scenario } from '../src/index.js';
import type { IR } from '@kapspec/runtime';
import { exampleIR, irOf, noisyScenario } from './helpers.js';
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

  it('a condition that changes with the stage alone (no new reading) is evaluated again: it fires on entering the stage', () => {
    // The engine skips a condition whose inputs did not change; entering a stage is such an input.
    const ir = irOf(`protocol "Stage only" {
      roles { nurse 1 }
      measures { sbp mmHg 50..260 }
      session visit {
        stage a duration 10 min { measure sbp at start }
        stage b duration 10 min { }
        rule high_in_b { when sbp > 150 during b then notify nurse }
        rule high_in_running_b { when sbp > 150 and b and not b paused then notify nurse }
        discharge when elapsed >= 20 min
      }
    }`);
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 160 }, events: [] }] });
    const [a, e] = both(ir, 'visit', scenario, 1);
    expect(e).toBe(a);
    expect(a).toContain('"type":"rule","at":10,"rule":"high_in_b"');
    expect(a).toContain('"type":"rule","at":10,"rule":"high_in_running_b"');
  });

  it('a scripted scenario with rejected readings, staff changes and pauses', () => {
    const ir = exampleIR('individual-iv');
    const [a, e] = both(ir, 'dosing', noisyScenario(), 7);
    expect(e).toBe(a);
    expect(a).toContain('"type":"staff"');
  });
});
