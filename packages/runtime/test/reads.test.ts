/**
 * readsOf: what a rule condition can depend on. The engine skips evaluating a
 * condition whose inputs did not change, so every input must be classified:
 * a condition reading time, doses or staff must be `volatile` (always
 * evaluated); the simulator's stepper test checks the skipping end to end.
 */
import { describe, expect, it } from 'vitest';
import { readsOf } from '../src/eval.js';
import type { Expr } from '../src/index.js';

const n = (value: number): Expr => ({ kind: 'number', value }) as Expr;
const m = (name: string): Expr => ({ kind: 'measure', name }) as Expr;
const gt = (left: Expr, right: Expr): Expr => ({ kind: 'binary', op: '>', left, right }) as Expr;
const call = (fn: string, name: string, kind = 'drug'): Expr => ({ kind: 'call', fn, args: [{ kind, name }] }) as Expr;

describe('readsOf', () => {
  it('measures, observed and baseline readings', () => {
    const r = readsOf({ kind: 'binary', op: 'and', left: gt(m('sbp'), n(180)), right: gt({ kind: 'observed', measure: 'dbp' } as Expr, { kind: 'baseline', measure: 'hr' } as Expr) } as Expr);
    expect([...r.measures].sort()).toEqual(['dbp', 'hr', 'sbp']);
    expect(r).toMatchObject({ stage: false, events: false, volatile: false });
  });

  it.each<[string, Expr, Partial<{ stage: boolean; events: boolean; volatile: boolean }>]>([
    ['an event', { kind: 'event', name: 'panic' } as Expr, { events: true, volatile: false }],
    ['count(event)', gt(call('count', 'vomiting', 'event'), n(1)), { events: true, volatile: false }],
    ['a stage', { kind: 'inStage', stage: 'infusion' } as Expr, { stage: true, volatile: false }],
    ['a paused stage', { kind: 'paused', stage: 'infusion' } as Expr, { stage: true }],
    ['an outcome', { kind: 'outcome', name: 'ended' } as Expr, { stage: true }],
    ['during', { kind: 'during', expr: gt(m('sbp'), n(1)), stages: ['infusion'] } as Expr, { stage: true, volatile: false }],
    ['elapsed', gt({ kind: 'elapsed' } as Expr, n(120)), { volatile: true }],
    ['for', { kind: 'for', expr: gt(m('spo2'), n(90)), minutes: 1 } as Expr, { volatile: true }],
    ['dose(drug)', gt(call('dose', 'ketamine'), n(0.3)), { volatile: true }],
    ['present(role)', gt(call('present', 'nurse', 'role'), n(0)), { volatile: true }],
    ['free(role)', gt(call('free', 'nurse', 'role'), n(0)), { volatile: true }],
    ['caution and numbers only', { kind: 'caution', flag: 'x' } as Expr, { stage: false, events: false, volatile: false }],
  ])('%s', (_name, e, expected) => {
    expect(readsOf(e)).toMatchObject(expected);
  });
});
