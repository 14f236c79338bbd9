/** Protocols, scripted scenarios and traces shared by the simulate / replay / test command tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '@kapspec/compiler';
import type { IR } from '@kapspec/runtime';
import { scriptedScenario, serializeTrace, simulate, type Scenario, type Trace } from '@kapspec/simulator';

/** A small individual protocol: a pause rule, an attend rule, a continuous monitor, an assert. */
export const SMALL = `protocol "Small" {
  roles {
    therapist        1..2
    medical_provider 1
  }

  measures {
    sbp  mmHg 50..260
    spo2 %    50..100
  }

  events { panic }

  drugs { ketamine max 0.5 mg/kg }

  session dosing {
    staffing {
      therapist >= 1
    }

    stage predose duration 10 min {
      measure sbp at start
    }

    stage infusion duration 40 min {
      administer ketamine 0.5 mg/kg iv over 40 min
      monitor sbp every 10 min
      monitor spo2 continuously
    }

    stage recovery duration at least 20 min {
      monitor sbp every 10 min
    }

    discharge when elapsed >= 70 min and sbp <= 160

    rule hypertension {
      when sbp > 180 during infusion
      then pause infusion, notify medical_provider
      resume when sbp <= 160 for 5 min
    }

    rule panic {
      when panic
      then attend therapist within 2 min for 10 min
    }

    assert responsive (sbp > 180 during infusion) implies (infusion paused) within 5 min
  }
}
`;

/** The assert's line in SMALL. */
export const SMALL_ASSERT_LINE = SMALL.split('\n').findIndex((l) => l.includes('assert responsive')) + 1;

export function irOf(text: string, file: string): IR {
  const r = compile(text, { file });
  if (!r.ir) throw new Error(`does not compile: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.ir;
}

/**
 * A surge that starts right after the reading at t+20 and is seen at t+30
 * (the assert fails), a panic at t+25, the therapist called away at t+40.
 */
export function surgeScenario(): Scenario {
  return scriptedScenario({
    participants: [
      {
        id: 'p1',
        vitals: { sbp: [[0, 130], [21, 130], [24, 195], [45, 195], [50, 140]], spo2: 98 },
        events: [{ t: 25, name: 'panic' }],
      },
    ],
    staffAtStart: { therapist: 2, medical_provider: 1 },
    staff: [
      { t: 40, action: 'leave', role: 'therapist' },
      { t: 55, action: 'arrive', role: 'therapist' },
    ],
  });
}

/** The surge scenario simulated: a trace whose assert `responsive` fails. */
export function surgeTrace(file = 'small.kap'): { ir: IR; trace: Trace; text: string } {
  const ir = irOf(SMALL, file);
  const trace = simulate(ir, { session: 'dosing', scenario: surgeScenario(), seed: 3 });
  return { ir, trace, text: serializeTrace(trace) };
}

/** The repository's examples, by repository-relative path. */
export function example(path: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../${path}`, import.meta.url)), 'utf8');
}
