/**
 * How a session ends: whatever the outcome, the stage the session is in is
 * left as any stage is left: its delivery stops (`administer stop` for an
 * infusion not yet complete, the delivered dose frozen) and `stage exit` is
 * emitted. A rule's `stop <stage>` is carried out even when another action
 * of the same instant ends the session.
 */
import { describe, expect, it } from 'vitest';
import type { IR, Rule } from '../src/ir.js';
import { dosingIR, drive, NORMAL, ofType, sp } from './fixtures.js';

const ir = dosingIR();
const stages = (log: Parameters<typeof ofType>[0]) => ofType(log, 'stage').map((e) => `${e.at} ${e.phase} ${e.stage}${e.rule ? ` (${e.rule})` : ''}`);

/** The dosing IR with one rule's actions replaced. */
function withRule(id: string, actions: Rule['actions']): IR {
  const x = dosingIR();
  const s = x.sessions[0]!;
  return { ...x, sessions: [{ ...s, rules: s.rules.map((r) => (r.id === id ? { ...r, actions } : r)) }] };
}

const surge = (t: number) => ({ ...NORMAL, ...(t === 30 ? { sbp: 205 } : {}) });

describe('ending a session', () => {
  it('`stop infusion, escalate emergency`: the pump is told to stop, the dose frozen, the stage exited', () => {
    const d = drive(ir, { vitals: surge });
    expect(d.actor.getSnapshot().output).toMatchObject({ outcome: 'escalated', rule: 'severe_hypertension', at: 30 });
    // 205 mmHg also pauses the infusion (rule hypertension, first in the file).
    const adm = ofType(d.log, 'administer');
    expect(adm.map((e) => e.phase)).toEqual(['start', 'pause', 'stop']);
    // 15 of 40 minutes of a 0.5 mg/kg infusion.
    expect(adm[2]).toMatchObject({ phase: 'stop', rule: 'severe_hypertension', stage: 'infusion', at: 30 });
    expect(adm[2]!.delivered).toBeCloseTo(0.1875);
    expect(d.actor.getSnapshot().context.infusions[0]!.frozen).toBeCloseTo(0.1875);
    expect(stages(d.log).slice(-1)).toEqual(['30 exit infusion (severe_hypertension)']);
    // The ending comes first, then the stage is left.
    const types = d.log.filter((e) => e.at === 30 && e.type !== 'measure.request').map((e) => e.type);
    expect(types.slice(-4)).toEqual(['rule', 'escalate', 'administer', 'stage']);
  });

  it('the `stop` may come after the ending action in the rule', () => {
    const x = withRule('severe_hypertension', [
      { kind: 'escalate', level: 'emergency', span: sp(54, 25) },
      { kind: 'stop', stage: 'infusion', span: sp(54, 10) },
    ]);
    const d = drive(x, { vitals: surge });
    expect(ofType(d.log, 'administer').map((e) => `${e.phase} ${e.rule ?? ''}`)).toEqual(['start ', 'pause hypertension', 'stop severe_hypertension']);
  });

  it('an ending without `stop` also stops the delivery: the session, and the protocol, are over', () => {
    const x = withRule('severe_hypertension', [{ kind: 'escalate', level: 'emergency', span: sp(54, 25) }]);
    const d = drive(x, { vitals: surge });
    expect(ofType(d.log, 'administer').map((e) => e.phase)).toEqual(['start', 'pause', 'stop']);
    expect(stages(d.log).slice(-1)).toEqual(['30 exit infusion (severe_hypertension)']);
  });

  it('a paused infusion is stopped too', () => {
    const vitals = (t: number) => ({ ...NORMAL, ...(t === 20 ? { sbp: 186 } : t === 25 ? { sbp: 205 } : {}) });
    const d = drive(ir, { vitals });
    expect(ofType(d.log, 'administer').map((e) => `${e.at} ${e.phase}`)).toEqual(['15 start', '20 pause', '25 stop']);
    expect(ofType(d.log, 'administer')[2]!.delivered).toBeCloseTo(0.0625);
  });

  it('a failed gate exits its stage', () => {
    const now = drive(ir, { vitals: () => ({ ...NORMAL, sbp: 172 }) });
    expect(stages(now.log)).toEqual(['0 enter predose', '0 exit predose']);
    const atEnd = drive(ir, { silent: true });
    expect(stages(atEnd.log)).toEqual(['0 enter predose', '15 exit predose']);
    expect(atEnd.actor.getSnapshot().output?.outcome).toBe('deferred');
  });

  it('an excluded participant never enters a stage, so none is exited', () => {
    const d = drive(ir, { options: { session: 'dosing', participant: { age: 40, flags: ['pregnancy'] } } });
    expect(ofType(d.log, 'stage')).toEqual([]);
  });

  it('each stage entered is exited exactly once, whatever the outcome', () => {
    const runs = [
      drive(ir),
      drive(ir, { vitals: surge }),
      drive(ir, { vitals: () => ({ ...NORMAL, sbp: 172 }) }),
      drive(ir, { until: 200, events: [{ at: 30, event: { type: 'measure', values: { spo2: 87 } } }] }),
      drive(ir, { until: 200, events: [{ at: 20, event: { type: 'event', name: 'request_stop' } }, { at: 100, event: { type: 'measure', values: { cadss: 1 } } }] }),
    ];
    for (const d of runs) {
      expect(d.actor.getSnapshot().status, JSON.stringify(d.actor.getSnapshot().value)).toBe('done');
      const s = ofType(d.log, 'stage');
      const entered = s.filter((e) => e.phase === 'enter').map((e) => e.stage);
      const exited = s.filter((e) => e.phase === 'exit').map((e) => e.stage);
      expect(exited).toEqual(entered);
    }
  });
});
