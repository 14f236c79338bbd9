/** Compiled examples and scripted traces for the terminal UI tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '@kapspec/compiler';
import type { IR } from '@kapspec/runtime';
import { scriptedScenario, simulate, type Trace } from '@kapspec/simulator';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export function example(path: string): { ir: IR; source: string; file: string } {
  const source = readFileSync(`${ROOT}${path}`, 'utf8');
  const r = compile(source, { file: path });
  if (!r.ir) throw new Error(`${path} does not compile: ${JSON.stringify(r.diagnostics)}`);
  return { ir: r.ir, source, file: path };
}

let iv: { ir: IR; source: string; file: string; trace: Trace } | undefined;

/**
 * examples/individual-iv.kap, session dosing: systolic pressure surges to 195
 * mmHg around minute 35 (read at 35: the rule `hypertension` pauses the
 * infusion), nausea at minute 30; the session is handed over at 3 h.
 */
export function ivSurge(): { ir: IR; source: string; file: string; trace: Trace } {
  if (iv) return iv;
  const ex = example('examples/individual-iv.kap');
  const scenario = scriptedScenario({
    participants: [
      {
        id: 'p1',
        vitals: { sbp: [[0, 130], [25, 130], [35, 195], [45, 150]], dbp: 80, hr: 72, spo2: 98, cadss: 0 },
        events: [{ t: 30, name: 'nausea' }],
      },
    ],
    staffAtStart: { therapist: 1, medical_provider: 1 },
  });
  iv = { ...ex, trace: simulate(ex.ir, { session: 'dosing', scenario, seed: 1 }) };
  return iv;
}

let group: { ir: IR; source: string; file: string; trace: Trace } | undefined;

/** examples/group-im.kap, a circle of 6: p1 and p2 panic at minute 40 (both facilitators taken); all discharged at 150. */
export function groupPanics(): { ir: IR; source: string; file: string; trace: Trace } {
  if (group) return group;
  const ex = example('examples/group-im.kap');
  const participants = Array.from({ length: 6 }, (_, i) => ({
    id: `p${i + 1}`,
    vitals: { sbp: [[0, 125 + i * 3], [60, 140 + i * 3], [120, 125 + i * 3]] as [number, number][], dbp: 80, hr: 70 + i, spo2: 97 },
    events: i < 2 ? [{ t: 40, name: 'panic' }] : [],
  }));
  const scenario = scriptedScenario({ participants, staffAtStart: { facilitator: 2, medical_provider: 1 } });
  group = { ...ex, trace: simulate(ex.ir, { session: 'circle', scenario, seed: 1 }) };
  return group;
}

/** examples/flawed/bp-every-20-min.kap: a surge just after the 15-minute reading is not seen until 35: `responsive` fails. */
export function flawedSurge(): { ir: IR; source: string; file: string; trace: Trace } {
  const ex = example('examples/flawed/bp-every-20-min.kap');
  const scenario = scriptedScenario({
    participants: [{ id: 'p1', vitals: { sbp: [[0, 130], [16, 130], [18, 190], [40, 190], [45, 140]], dbp: 80, spo2: 98 } }],
    staffAtStart: { therapist: 1, medical_provider: 1 },
  });
  return { ...ex, trace: simulate(ex.ir, { session: 'dosing', scenario, seed: 1 }) };
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it holds (or throws after `timeout` ms with the last frame). */
export async function until(check: () => boolean, describe: () => string, timeout = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeout) throw new Error(`timed out waiting; last frame:\n${describe()}`);
    await delay(10);
  }
}

/** Strips ANSI escapes (ink colours even in tests when chalk detects colour). */
export function plain(s: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  return (s ?? '').replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}
