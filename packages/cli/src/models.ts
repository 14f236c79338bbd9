/**
 * The participant models behind `simulate --model` and `replay`: a
 * `Scenario` for one session and seed, or the one a trace header names.
 * Loaded lazily (it pulls in the simulator and fast-check).
 */
import fc from 'fast-check';
import type { IR } from '@kapspec/runtime';
import * as sim from '@kapspec/simulator';
import type { Scenario, TraceHeader } from '@kapspec/simulator';

export interface ModelChoice {
  readonly session: string;
  readonly seed: number;
  readonly model: 'calibrated' | 'adversarial';
  readonly participants?: number;
  /** Calibrated model only: the IV response profile (default yale). */
  readonly profile?: 'yale' | 'cohort741';
  /** Calibrated model only: staff called away and returning. */
  readonly staff?: { readonly leaveRatePerHour?: number; readonly absenceMeanMinutes?: number };
}

/**
 * calibrated: `calibratedModel` with the seed. adversarial: one sample of
 * the adversarial arbitrary for the seed (with `participants`, the first
 * sample of that group size).
 */
export function buildScenario(ir: IR, choice: ModelChoice): Scenario {
  const { session, seed, participants } = choice;
  if (choice.model === 'adversarial') {
    let arb = sim.adversarialArbitrary(ir, { session });
    if (participants !== undefined) arb = arb.filter((p) => p.participants.length === participants);
    const [params] = fc.sample(arb, { seed, numRuns: 1 });
    if (params === undefined) throw new sim.AdversarialModelError('the adversarial model produced no sample');
    return sim.adversarialScenario(ir, params, { session });
  }
  return sim.calibratedModel(ir, {
    session,
    seed,
    ...(choice.profile !== undefined ? { profile: choice.profile } : {}),
    ...(participants !== undefined ? { participants } : {}),
    ...(choice.staff ? { staff: choice.staff } : {}),
  });
}

/**
 * The scenario a trace header describes, when its model can rebuild one from
 * the header alone (adversarial traces record their generated value); else
 * undefined, and replay plays the trace's recorded inputs back instead.
 */
export function scenarioFromHeader(ir: IR, header: TraceHeader): Scenario | undefined {
  if (header.model === 'adversarial') return sim.adversarialScenarioFromHeader(ir, header);
  return undefined;
}

/** A scenario or simulation the model or driver refused, with a message for the user (not a kapspec bug). */
export function isModelError(error: unknown): error is Error {
  return error instanceof sim.SimulationError || error instanceof sim.CalibratedModelError || error instanceof sim.AdversarialModelError;
}
