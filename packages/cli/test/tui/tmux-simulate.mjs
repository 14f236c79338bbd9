#!/usr/bin/env node
// Shows the live session view in a real terminal, for test/e2e-tui.test.ts
// (which runs it under tmux) and for trying the view by hand:
//
//   pnpm build && node packages/cli/test/tui/tmux-simulate.mjs [individual|group] [speed] [paused]
//
// It imports the BUILT packages (packages/*/dist) and plays a scripted trace
// of examples/individual-iv.kap (a blood pressure surge at minute 35 that
// pauses the infusion) or examples/group-im.kap (a circle of 6, two panics at
// minute 40). Keys: space, →, + / −, q.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile } from '@kapspec/compiler';
import { scriptedScenario, simulate } from '@kapspec/simulator';
import { showSimulation } from '../../dist/tui/index.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const which = process.argv[2] ?? 'individual';
const speed = Number(process.argv[3] ?? 60);
const paused = process.argv[4] === 'paused';

function load(path) {
  const r = compile(readFileSync(`${root}${path}`, 'utf8'), { file: path });
  if (!r.ir) throw new Error(`${path} does not compile`);
  return r.ir;
}

let ir;
let trace;
if (which === 'group') {
  ir = load('examples/group-im.kap');
  const participants = Array.from({ length: 6 }, (_, i) => ({
    id: `p${i + 1}`,
    vitals: { sbp: [[0, 125 + i * 3], [60, 150 + i * 5], [120, 128 + i * 3]], dbp: 80, hr: 70 + i, spo2: 97 },
    events: i < 2 ? [{ t: 40, name: 'panic' }] : [],
  }));
  const scenario = scriptedScenario({ participants, staffAtStart: { facilitator: 2, medical_provider: 1 } });
  trace = simulate(ir, { session: 'circle', scenario, seed: 1 });
} else {
  ir = load('examples/individual-iv.kap');
  const scenario = scriptedScenario({
    participants: [
      {
        id: 'p1',
        vitals: { sbp: [[0, 130], [25, 130], [35, 195], [45, 150], [80, 134]], dbp: [[0, 80], [35, 104], [45, 82]], hr: [[0, 72], [35, 96], [60, 76]], spo2: 98, cadss: [[0, 0], [30, 22], [70, 3]] },
        events: [{ t: 30, name: 'nausea' }],
      },
    ],
    staffAtStart: { therapist: 1, medical_provider: 1 },
  });
  trace = simulate(ir, { session: 'dosing', scenario, seed: 1 });
}

await showSimulation({ ir, trace, speed, paused });
