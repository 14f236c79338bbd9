import { describe, expect, it } from 'vitest';
import { checkProperties, emptyCoverage, mergeCoverage, neverExercised, renderCoverage, traceCoverage } from '../src/index.js';
import { TraceBuilder, flagship, flawedIR } from './trace-builder.js';

const ir = flawedIR();

/** A calm session: no rule fires, discharged at 130. */
function calm() {
  const b = new TraceBuilder();
  b.enter(0, 'predose').truth(0, { sbp: 130 }).observe(0, { sbp: 130 });
  b.enter(20, 'infusion').truth(20, { sbp: 140 }).observe(20, { sbp: 140 });
  b.enter(100, 'recovery').observe(100, { sbp: 135 });
  b.emit(130, { type: 'stage', stage: 'recovery', phase: 'exit' }).state(130, { stage: undefined }).outcome(130, 'discharged').end(130, 'outcome');
  return b.build();
}

/** Deferred before dosing. */
function deferred() {
  const b = new TraceBuilder();
  b.enter(0, 'predose').truth(0, { sbp: 170 }).observe(0, { sbp: 170 });
  b.state(0, { stage: undefined }).outcome(0, 'deferred', undefined, 'pre-dose blood pressure too high').end(0, 'outcome');
  return b.build();
}

describe('coverage', () => {
  const a = traceCoverage(ir, 'dosing', flagship().build());
  const b = traceCoverage(ir, 'dosing', calm());
  const c = traceCoverage(ir, 'dosing', deferred());

  it('one trace: rules fired, stages entered, outcomes reached, asserts triggered', () => {
    expect(a.runs).toBe(1);
    expect(a.rules).toEqual({ hypertension: 1, panic: 0, nausea: 0 });
    expect(a.stages).toEqual({ predose: 1, infusion: 1, recovery: 1 });
    expect(a.outcomes).toEqual({ discharged: 1, deferred: 0, ended: 0, escalated: 0 });
    expect(a.asserts['responsive']).toBe(1);
    expect(b.asserts['responsive']).toBe(0); // the surge never happened
  });

  it('accepts precomputed property results', () => {
    const trace = flagship().build();
    expect(traceCoverage(ir, 'dosing', trace, checkProperties(ir, 'dosing', trace))).toEqual(a);
  });

  it('merges associatively and commutatively, from the empty coverage', () => {
    const e = emptyCoverage(ir, 'dosing');
    const abc = mergeCoverage(mergeCoverage(a, b), c);
    expect(mergeCoverage(a, mergeCoverage(b, c))).toEqual(abc);
    expect(mergeCoverage(mergeCoverage(c, e), mergeCoverage(b, a))).toEqual(abc);
    expect(abc.runs).toBe(3);
    expect(abc.stages).toEqual({ predose: 3, infusion: 2, recovery: 2 });
    expect(abc.outcomes).toMatchObject({ discharged: 2, deferred: 1 });
  });

  it('lists what was never exercised', () => {
    const abc = mergeCoverage(mergeCoverage(a, b), c);
    expect(neverExercised(ir, 'dosing', abc)).toEqual({
      rules: ['panic', 'nausea'],
      stages: [],
      outcomes: ['ended', 'escalated'],
      asserts: neverExercised(ir, 'dosing', abc).asserts,
    });
    expect(neverExercised(ir, 'dosing', abc).asserts).toContain('paused_by_50');
    expect(neverExercised(ir, 'dosing', abc).asserts).not.toContain('responsive');
  });

  it('renders a stable report', async () => {
    const abc = mergeCoverage(mergeCoverage(a, b), c);
    await expect(renderCoverage(ir, 'dosing', abc)).toMatchFileSnapshot('./__snapshots__/coverage.txt');
  });
});
