import { describe, expect, it } from 'vitest';
import { dosingIR, drive, NORMAL } from './fixtures.js';

const ir = dosingIR();

describe('state tags', () => {
  it('stage states carry stage:<name>, sub-states running/paused, outcomes outcome:<name>', () => {
    const d = drive(ir, { until: 10 });
    expect(d.actor.getSnapshot().hasTag('stage:predose')).toBe(true);
    expect(d.actor.getSnapshot().hasTag('running')).toBe(true);
    const spike = (t: number) => ({ ...NORMAL, ...(t === 20 ? { sbp: 186 } : {}) });
    drive(ir, { vitals: spike, until: 25 }, d);
    const snap = d.actor.getSnapshot();
    expect([snap.hasTag('stage:infusion'), snap.hasTag('paused'), snap.hasTag('running'), snap.hasTag('stage:predose')]).toEqual([true, true, false, false]);
    drive(ir, { vitals: spike }, d);
    expect(d.actor.getSnapshot().hasTag('outcome:discharged')).toBe(true);
  });
});
