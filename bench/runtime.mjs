// Run-time throughput: measurement events per second through the compiled
// individual IV example (`actor.send`), next to a hand-written reducer of the
// same session's rules over the same events (the baseline), as a ratio.
import { readFileSync } from 'node:fs';
import { createActor, SimulatedClock } from 'xstate';
import { compile } from '../packages/compiler/dist/index.js';
import { createProtocolMachine } from '../packages/runtime/dist/index.js';
import { measure } from './measure.mjs';

const EVENTS = 20_000;

/** Pre-built readings: steady vitals with small variation, no rule fires. */
function readings() {
  const out = [];
  for (let i = 0; i < EVENTS; i++) {
    out.push({ type: 'measure', values: { sbp: 128 + (i % 17), dbp: 78 + (i % 9), hr: 70 + (i % 11), spo2: 97 + (i % 3) } });
  }
  return out;
}

/** An actor of the dosing session, advanced into the infusion stage. */
function infusionActor(ir) {
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, { session: 'dosing' }), { clock });
  actor.start();
  actor.send({ type: 'measure', values: { sbp: 130, dbp: 80, hr: 72, spo2: 98 } });
  for (let m = 0; m < 16; m++) clock.increment(60_000);
  return actor;
}

/**
 * Baseline: the dosing session's rule logic for measurement events written by
 * hand as a switch reducer (last values, the hypertension, severe
 * hypertension and desaturation rules scoped as in the example).
 */
function handReducer(state, event) {
  switch (event.type) {
    case 'measure': {
      const v = event.values;
      const last = { ...state.last, ...v };
      let { paused, outcome } = state;
      if (state.stage === 'infusion' && (last.sbp > 180 || last.dbp > 110)) paused = true;
      if (paused && last.sbp <= 160 && last.dbp <= 100) paused = false;
      if (last.sbp > 200) outcome = 'escalated';
      if (last.spo2 < 90) outcome = 'escalated';
      return { ...state, last, paused, outcome };
    }
    default:
      return state;
  }
}

export function benchRuntime() {
  const ir = compile(readFileSync(new URL('../examples/individual-iv.kap', import.meta.url), 'utf8')).ir;
  if (!ir) throw new Error('examples/individual-iv.kap does not compile');
  const events = readings();
  const baseline = measure(() => {
    let s = { stage: 'infusion', last: {}, paused: false, outcome: undefined };
    for (const e of events) s = handReducer(s, e);
    return s;
  });
  const send = measure(
    () => {
      const actor = infusionActor(ir);
      for (const e of events) actor.send(e);
      actor.stop();
    },
    { warmup: 1, runs: 5 },
  );
  const rate = (t) => `${Math.round(EVENTS / (t / 1000)).toLocaleString('en')} events/s`;
  return {
    title: `Runtime: ${EVENTS.toLocaleString('en')} measurement events through the individual IV dosing session`,
    rows: [
      ['hand-written reducer (baseline)', rate(baseline), '1.00'],
      ['compiled machine, actor.send', rate(send), (baseline / send).toFixed(3)],
    ],
  };
}
