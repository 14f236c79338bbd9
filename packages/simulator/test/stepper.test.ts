/**
 * The engine stepper (stats' fast path) must be the machine: for every
 * example, calibrated and adversarial scenarios, the trace driven through
 * the engine directly is byte-identical to the trace driven through the
 * XState actor of createProtocolMachine.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adversarialArbitrary, adversarialScenario, calibratedModel, normal, scriptedScenario, serializeTrace, simulate, type Physiology, type Scenario } from '../src/index.js';
import type { IR } from '@kapspec/runtime';
import { exampleIR, irOf, noisyScenario } from './helpers.js';
import { actorStepper, engineStepper } from '../src/stepper.js';
import { propertySeed } from './seed.js';

const EXAMPLES = ['individual-iv', 'group-im', 'intranasal-esketamine', 'sublingual-lozenge', 'flawed/bp-every-20-min', 'flawed/bp-every-2-min', 'flawed/group-two-panics'];

function dosingSession(ir: IR): string {
  return (ir.sessions.find((s) => s.stages.some((st) => st.administer.length > 0)) ?? ir.sessions[0]!).name;
}

function both(ir: IR, session: string, scenario: Scenario, seed: number, lean = false): [string, string] {
  const actor = serializeTrace(simulate(ir, { session, scenario, seed, stepper: 'actor', lean }));
  const engine = serializeTrace(simulate(ir, { session, scenario, seed, stepper: 'engine', lean }));
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
        // Lean traces (stats) also skip the driver's bookkeeping after a quiet reading.
        const [al, el] = both(ir, session, scenario, seed, true);
        expect(el, `seed ${seed}, lean`).toBe(al);
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

  it('conditions that change with time only at known moments are evaluated again then: a `for` that holds, an elapsed threshold, a dose given', () => {
    // The engine skips such a condition while its `for` nodes do not hold, no threshold of elapsed time was
    // passed and no dose of its drugs was given (Timing in engine.ts); the machine evaluates every condition.
    const ir = irOf(`protocol "Timing" {
      roles { nurse 1 }
      measures { sbp mmHg 50..260 }
      drugs { ondansetron max 8 mg }
      session visit {
        stage a duration 10 min { measure sbp at start }
        stage b duration 10 min { measure sbp at 5 min }
        rule given_enough { when dose(ondansetron) >= 4 mg then notify nurse }
        rule high_long { when sbp > 150 for 3 min then notify nurse }
        rule late_and_high { when elapsed >= 7 min and sbp > 150 then notify nurse }
        rule sick { when sbp > 150 then give ondansetron 4 mg iv }
        discharge when elapsed >= 20 min
      }
    }`);
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 160 }, events: [] }] });
    const [a, e] = both(ir, 'visit', scenario, 1);
    expect(e).toBe(a);
    // The dose was given at 0 (after given_enough was evaluated): it fires at the next step.
    for (const rule of ['given_enough', 'high_long', 'late_and_high']) expect(a, rule).toMatch(new RegExp(`"type":"rule","at":\\d+(\\.\\d+)?,"rule":"${rule}"`));
  });

  it('a scripted scenario with rejected readings, staff changes and pauses', () => {
    const ir = exampleIR('individual-iv');
    const [a, e] = both(ir, 'dosing', noisyScenario(), 7);
    expect(e).toBe(a);
    expect(a).toContain('"type":"staff"');
  });
});

/**
 * The engine applies a reading without a full step when it can tell that
 * nothing but the observation changes (runtime `quietReading`). Each
 * protocol below gives that shortcut one way to be wrong; readings of a
 * noisy pulse oximeter every minute cross each threshold several times.
 */
describe('quiet readings: the engine shortcut changes nothing a full step would', () => {
  const body = (rules: string, after = '') => `protocol "Quiet" {
    roles { nurse 1 }
    measures { spo2 % 50..100
      hr bpm 20..220 }
    events { panic }
    drugs { ketamine max 1 mg/kg }
    session visit {
      stage infusion duration 60 min {
        administer ketamine 0.5 mg/kg iv over 40 min
        monitor spo2, hr continuously
      }
      stage after duration at least 30 min {
        monitor spo2 continuously
        ${after}
      }
      ${rules}
      discharge when elapsed >= 100 min
    }
  }`;
  const cases: [string, string, string?][] = [
    ['elapsed compared strictly: true only after its deadline', 'rule late { when elapsed > 30 min then notify nurse }'],
    ['elapsed compared with <=', 'rule early { when not (elapsed <= 45 min) then notify nurse }'],
    ['the dose of an infusion grows between readings', 'rule dosed { when dose(ketamine) >= 0.3 mg/kg then notify nurse }'],
    ['a threshold from the baseline, held for 2 min', 'rule low { when spo2 < baseline spo2 - 3 % for 2 min then notify nurse }'],
    ['arithmetic on the reading', 'rule drop { when spo2 - baseline spo2 < -4 % then notify nurse }'],
    ['a threshold in one stage only', 'rule low_after { when spo2 < 93 during after then notify nurse }'],
    ['a pause and its resume condition', 'rule pause_low { when spo2 < 92 during infusion then pause infusion\n resume when spo2 >= 95 for 3 min }'],
    ['an event or a reading', 'rule either { when panic or spo2 < 90 then notify nurse }'],
    ['a gate that waits for a reading', 'rule low { when spo2 < 91 then notify nurse }', 'gate spo2 >= 95 else defer "low saturation"'],
  ];
  const scenario = (): Scenario => {
    const base = scriptedScenario({
      participants: [
        {
          id: 'p1',
          vitals: { spo2: [[0, 97], [20, 91], [35, 89], [50, 96], [70, 92], [90, 97]], hr: [[0, 80], [30, 95], [60, 85]] },
          events: [{ t: 25, name: 'panic' }, { t: 64, name: 'panic' }],
        },
      ],
    });
    const p = base.participants[0]!;
    const physiology: Physiology = { truth: (t, exposure) => p.physiology.truth(t, exposure), measure: (_m, v, _t, rng) => Math.round(Math.min(100, normal(rng, v, 1.5))) };
    return { ...base, participants: [{ ...p, physiology }] };
  };
  for (const [what, rules, after] of cases) {
    it(what, () => {
      const ir = irOf(body(rules, after));
      for (let seed = 1; seed <= 12; seed++) {
        for (const lean of [false, true]) {
          const [a, e] = both(ir, 'visit', scenario(), seed, lean);
          expect(e, `seed ${seed}${lean ? ', lean' : ''}`).toBe(a);
        }
      }
    });
  }
});

describe('Stepper.quiet: a reading held back is the reading sent', () => {
  // The engine stepper keeps the last of a row of quiet readings back until the context is next read
  // or stepped; whoever reads the context then (the driver's state records, an app) sees it applied.
  it('the context after readings offered to quiet() equals the context after sending them, at every read', () => {
    const ir = exampleIR('individual-iv');
    const session = dosingSession(ir);
    const scenario = calibratedModel(ir, { session, seed: 3 });
    const options = { session, participant: scenario.participants[0]!.profile, staff: scenario.staffAtStart! };
    const quiet = engineStepper(ir, options);
    const sent = engineStepper(ir, options);
    for (const m of [quiet, sent]) {
      m.start();
      m.send({ type: 'measure', values: { sbp: 124, dbp: 79, hr: 71, spo2: 97 } });
    }
    let held = 0;
    for (let minute = 1; minute <= 200 && !sent.done(); minute++) {
      for (const m of [quiet, sent]) m.set(minute * 60_000);
      // Mostly unremarkable; now and then a moment below the desaturation threshold (not quiet),
      // read again at once above it (the rule wants a whole minute).
      for (const spo2 of minute % 13 === 0 ? [88, 95] : [92 + (minute % 9)]) {
        if (quiet.quiet('spo2', spo2)) held++;
        else quiet.send({ type: 'measure', values: { spo2 } });
        sent.send({ type: 'measure', values: { spo2 } });
      }
      // Other readings are sent as they are.
      if (minute % 10 === 5) for (const m of [quiet, sent]) m.send({ type: 'measure', values: { sbp: 120 + (minute % 30), dbp: 80, hr: 70 } });
      // Now and then somebody looks: the context, whether paused, the outcome.
      if (minute % 7 === 0) expect(JSON.stringify(quiet.context()), `minute ${minute}`).toBe(JSON.stringify(sent.context()));
      if (minute % 11 === 0) expect(quiet.paused()).toBe(sent.paused());
      expect(JSON.stringify(quiet.take())).toBe(JSON.stringify(sent.take()));
    }
    expect(JSON.stringify(quiet.context())).toBe(JSON.stringify(sent.context()));
    expect(quiet.done()).toBe(sent.done());
    expect(held).toBeGreaterThan(100);
    // The actor cannot tell: it takes no reading this way.
    const actor = actorStepper(ir, options);
    actor.start();
    expect(actor.quiet('spo2', 97)).toBe(false);
  });
});
