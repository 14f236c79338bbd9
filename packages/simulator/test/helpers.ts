/**
 * Shared by the simulator tests and by `child-trace.ts`, the script a test
 * runs in a separate process to check that traces are byte-identical across
 * processes.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '@kapspec/compiler';
import type { IR } from '@kapspec/runtime';
import { normal, scriptedScenario, type Physiology, type Scenario } from '../src/index.js';

export function exampleIR(name: string): IR {
  const file = fileURLToPath(new URL(`../../../examples/${name}.kap`, import.meta.url));
  return irOf(readFileSync(file, 'utf8'), `${name}.kap`);
}

export function irOf(text: string, file = 'test.kap'): IR {
  const r = compile(text, { file });
  if (!r.ir) throw new Error(`does not compile:\n${r.diagnostics.map((d) => `${d.code} @${d.span.start}: ${d.message}`).join('\n')}`);
  return r.ir;
}

/** Normal vitals for individual-iv: nothing fires, discharge at 2 h. */
export const CALM = { sbp: 125, dbp: 78, hr: 72, spo2: 98, cadss: 0 } as const;

/**
 * A scenario with measurement noise drawn from the driver's rng (so the
 * determinism tests exercise the seed), a surge and a few events.
 */
export function noisyScenario(): Scenario {
  const base = scriptedScenario({
    participants: [
      {
        id: 'p1',
        vitals: { sbp: [[0, 128], [30, 150], [42, 186], [60, 150], [120, 130]], dbp: [[0, 80], [42, 96], [120, 82]], hr: 74, spo2: [[0, 98], [70, 96], [80, 98]], cadss: [[0, 0], [35, 22], [100, 1]] },
        events: [{ t: 33.5, name: 'nausea' }, { t: 70, name: 'panic' }],
      },
    ],
    staff: [{ t: 80, action: 'leave', role: 'therapist' }, { t: 95, action: 'arrive', role: 'therapist' }],
  });
  const p = base.participants[0]!;
  const physiology: Physiology = {
    truth: (t, exposure) => p.physiology.truth(t, exposure),
    measure: (m, v, _t, rng) => normal(rng, v, m === 'sbp' || m === 'dbp' ? 3 : 0.5),
  };
  return { ...base, participants: [{ ...p, physiology }], model: 'adversarial', parameters: { noise: 'normal sd 3 mmHg / 0.5' } };
}
