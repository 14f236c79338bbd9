import { describe, expect, it } from 'vitest';
import { IRError, loadIR, safeLoadIR } from '../src/load.js';
import { dosingIR } from './fixtures.js';

type Mutable = Record<string, any>;
const mutate = (f: (ir: Mutable) => void): Mutable => {
  const ir = structuredClone(dosingIR()) as Mutable;
  f(ir);
  return ir;
};
const errorOf = (json: unknown): IRError => {
  const r = safeLoadIR(json);
  if (r.ok) throw new Error('expected an IRError');
  return r.error;
};

describe('loadIR', () => {
  it('accepts the fixture as an object and as JSON text', () => {
    const ir = dosingIR();
    expect(loadIR(ir)).toEqual(ir);
    expect(loadIR(JSON.stringify(ir))).toEqual(ir);
  });

  it('throws IRError on truncated JSON', () => {
    const text = JSON.stringify(dosingIR());
    expect(() => loadIR(text.slice(0, text.length / 2))).toThrow(IRError);
    expect(errorOf(text.slice(0, 100))).toMatchObject({ code: 'invalid-json', path: '$' });
  });

  it('names a newer version', () => {
    const e = errorOf(mutate((ir) => (ir.kapspecIR = 2)));
    expect(e).toMatchObject({ code: 'newer-version', path: '$.kapspecIR' });
    expect(e.message).toBe('$.kapspecIR: IR version 2 is newer than this runtime understands (1); upgrade @kapspec/runtime');
  });

  it('rejects documents that are not IR', () => {
    expect(errorOf({ hello: 1 })).toMatchObject({ code: 'not-ir', path: '$' });
    expect(errorOf([1, 2])).toMatchObject({ code: 'not-ir', path: '$' });
    expect(errorOf({ kapspecIR: '1' })).toMatchObject({ code: 'not-ir', path: '$.kapspecIR' });
  });

  it.each([
    ['a missing stage duration', (ir: Mutable) => delete ir.sessions[0].stages[2].duration, '$.sessions[0].stages[2].duration', 'expected a stage duration (an object), got nothing'],
    ['a negative duration', (ir: Mutable) => (ir.sessions[0].stages[1].duration.exact = -5), '$.sessions[0].stages[1].duration.exact', 'expected at least 0, got -5'],
    ['exact and atLeast together', (ir: Mutable) => (ir.sessions[0].stages[1].duration.atLeast = 5), '$.sessions[0].stages[1].duration', 'a duration is either exact or bounded by atLeast/atMost, not both'],
    ['a bad schedule', (ir: Mutable) => (ir.sessions[0].stages[1].monitors[0].schedule = { kind: 'hourly' }), '$.sessions[0].stages[1].monitors[0].schedule.kind', 'expected one of "every", "at", "start", "continuously", got "hourly"'],
    ['a zero interval', (ir: Mutable) => (ir.sessions[0].stages[1].monitors[0].schedule.minutes = 0), '$.sessions[0].stages[1].monitors[0].schedule.minutes', 'expected a number above 0, got 0'],
    ['a bad route', (ir: Mutable) => (ir.sessions[0].stages[1].administer[0].route = 'iv drip'), '$.sessions[0].stages[1].administer[0].route', 'expected one of "iv", "im", "sublingual", "intranasal", "oral", got "iv drip"'],
    ['a bad dose unit', (ir: Mutable) => (ir.sessions[0].stages[1].administer[0].dose.unit = 'mcg'), '$.sessions[0].stages[1].administer[0].dose.unit', 'expected one of "mg", "mg/kg", got "mcg"'],
    ['a missing span', (ir: Mutable) => delete ir.sessions[0].rules[3].span, '$.sessions[0].rules[3].span', 'expected a source span (an object), got nothing'],
    ['a bad expression kind', (ir: Mutable) => (ir.sessions[0].rules[1].when.left = { kind: 'eval', code: 'x' }), '$.sessions[0].rules[1].when.left.kind', 'expected one of "measure", "event", "inStage", "paused", "outcome", "observed", "baseline", "caution", "elapsed", "number", "role", "drug", "call", "not", "neg", "binary", "for", "during", got "eval"'],
    ['an inverted measure range', (ir: Mutable) => (ir.measures[0].max = 10), '$.measures[0].max', 'max is below min'],
    ['no sessions', (ir: Mutable) => (ir.sessions = []), '$.sessions', 'a protocol needs at least one session'],
    ['a gate that escalates', (ir: Mutable) => (ir.sessions[0].stages[0].gates[0].otherwise = { kind: 'escalate', level: 'x', span: ir.sessions[0].span }), '$.sessions[0].stages[0].gates[0].otherwise.kind', 'a gate ends in "defer" or "endSession"'],
    ['a call with the wrong argument', (ir: Mutable) => (ir.sessions[0].rules[1].when = { kind: 'binary', op: '>', left: { kind: 'call', fn: 'dose', args: [{ kind: 'role', name: 'therapist' }] }, right: { kind: 'number', value: 1 } }), '$.sessions[0].rules[1].when.left.args[0].kind', 'dose() takes a drug name'],
  ])('names the path of %s', (_what, f, path, detail) => {
    const e = errorOf(mutate(f));
    expect(e).toBeInstanceOf(IRError);
    expect({ path: e.path, detail: e.detail }).toEqual({ path, detail });
  });

  it.each([
    ['an undeclared measure in a rule', (ir: Mutable) => (ir.sessions[0].rules[1].when.left.name = 'spo3'), '$.sessions[0].rules[1].when.left.name', 'unknown measure "spo3" (declared: sbp, dbp, hr, spo2, cadss)'],
    ['an undeclared stage in pause', (ir: Mutable) => (ir.sessions[0].rules[0].actions[0].stage = 'infuse'), '$.sessions[0].rules[0].actions[0].stage', 'unknown stage "infuse" (declared: predose, infusion, recovery)'],
    ['an undeclared role in staffing', (ir: Mutable) => (ir.sessions[0].staffing[0].role = 'nurse'), '$.sessions[0].staffing[0].role', 'unknown role "nurse" (declared: therapist, medical_provider)'],
    ['an undeclared drug', (ir: Mutable) => (ir.sessions[0].stages[1].administer[0].drug = 'esketamine'), '$.sessions[0].stages[1].administer[0].drug', 'unknown drug "esketamine" (declared: ketamine, ondansetron)'],
    ['an undeclared monitored measure', (ir: Mutable) => (ir.sessions[0].stages[1].monitors[1].measures[0] = 'etco2'), '$.sessions[0].stages[1].monitors[1].measures[0]', 'unknown measure "etco2" (declared: sbp, dbp, hr, spo2, cadss)'],
    ['a duplicate rule', (ir: Mutable) => (ir.sessions[0].rules[1].id = 'hypertension'), '$.sessions[0].rules[1].id', 'rule "hypertension" is declared twice'],
  ])('names the path of %s', (_what, f, path, detail) => {
    expect(errorOf(mutate(f))).toMatchObject({ path, detail });
  });

  it('never throws anything but IRError on arbitrary truncations', () => {
    const text = JSON.stringify(dosingIR());
    for (let i = 0; i < text.length; i += 97) {
      const r = safeLoadIR(text.slice(0, i));
      expect(r.ok).toBe(false);
    }
  });
});
