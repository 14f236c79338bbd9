import { readFileSync } from 'node:fs';
import { compile } from '@kapspec/compiler';
import type { IR } from '@kapspec/runtime';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { propertySeed } from './seed.js';
import type { Exposure } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { eventNameFor, sedationModel, sessionRates } from '../src/models/adverse.js';
import { calibratedModel, CalibratedModelError } from '../src/models/calibrated.js';
import { effectByRoute, effectTerms, referencePeak, relativeDose, termsEffect, totalEffect, type EffectKind } from '../src/models/kinetics.js';
import { listParameters } from '../src/models/parameters.js';
import { vitalKind } from '../src/models/physiology.js';

const SEED = 20261126;

function example(name: string): IR {
  const text = readFileSync(new URL(`../../../examples/${name}`, import.meta.url), 'utf8');
  const { ir, diagnostics } = compile(text);
  if (ir === undefined) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return ir;
}
const iv = example('individual-iv.kap');
const esk = example('intranasal-esketamine.kap');
const group = example('group-im.kap');

const IV_DOSE: Exposure = { doses: [{ drug: 'ketamine', route: 'iv', start: 15, end: 55, amount: 0.5, unit: 'mg/kg' }] };

describe('parameters', () => {
  it('every parameter has a value, a unit and a source (row id with citation, or a rationale)', () => {
    for (const { name, parameter } of listParameters()) {
      expect(parameter.unit, name).not.toBe('');
      if (parameter.source === 'parameter') expect(parameter.rationale.length, name).toBeGreaterThan(10);
      else {
        expect(parameter.source, name).toMatch(/^(IV|ES)\d+$/);
        expect(parameter.citation.length, name).toBeGreaterThan(5);
      }
    }
  });
});

describe('kinetics', () => {
  it('the IV reference regimen peaks at the end of the 40-min infusion, intranasal at 40 min', () => {
    expect(referencePeak('iv', 'hemodynamic').peakTime).toBeCloseTo(40, 0);
    expect(referencePeak('intranasal', 'hemodynamic').peakTime).toBeCloseTo(40, 1);
    expect(referencePeak('intranasal', 'dissociative').peakTime).toBeCloseTo(40, 1);
  });
});

describe('effectTerms', () => {
  // The physiology reads the drug effect minute by minute through `effectTerms` (resolved once per
  // exposure object) and `termsEffect`: the same sums, term for term, as `effectByRoute`.
  const dose = fc.record({
    drug: fc.constantFrom('ketamine', 'esketamine', 'ondansetron'),
    route: fc.constantFrom('iv', 'intranasal', 'im'),
    start: fc.double({ min: 0, max: 120, noNaN: true }),
    length: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 60, noNaN: true })),
    amount: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true })),
    unit: fc.constantFrom('mg', 'mg/kg'),
  });
  const exposureOf = (doses: readonly { drug: string; route: string; start: number; length: number; amount: number; unit: string }[]): Exposure => ({
    doses: doses.map((d) => ({ drug: d.drug, route: d.route as 'iv', start: d.start, end: d.start + d.length, amount: d.amount, unit: d.unit as 'mg' })),
  });

  it('sum as effectByRoute does, and are null exactly when the effective doses take several routes', () => {
    const seed = propertySeed('termsEffect = effectByRoute');
    fc.assert(
      fc.property(
        fc.array(dose, { maxLength: 4 }),
        fc.constantFrom<EffectKind>('hemodynamic', 'dissociative'),
        fc.double({ min: 30, max: 150, noNaN: true }),
        fc.array(fc.double({ min: 0, max: 300, noNaN: true }), { minLength: 1, maxLength: 5 }),
        (doses, kind, weightKg, times) => {
          const exposure = exposureOf(doses);
          // totalEffect, through terms or not: effectByRoute's values added up in order.
          for (const t of times) expect(Object.is(totalEffect(kind, t, exposure, weightKg), Object.values(effectByRoute(kind, t, exposure, weightKg)).reduce((a, v) => a + v, 0))).toBe(true);
          const terms = effectTerms(kind, exposure, weightKg);
          // Doses with an effect: a drug with none, a zero amount (or one too small to count) drops out.
          const routes = new Set(exposure.doses.filter((d) => relativeDose(d.drug, d.route, d.amount, d.unit, weightKg) !== 0).map((d) => d.route));
          expect(terms === null).toBe(routes.size > 1);
          if (terms === null) return;
          for (const t of times) {
            // One route: effectByRoute has that route's entry (the same number) once a dose has started, else none.
            const by = effectByRoute(kind, t, exposure, weightKg);
            const started = terms.some((x) => x.start <= t);
            expect(Object.keys(by)).toEqual(started ? [terms[0]!.route] : []);
            expect(Object.is(termsEffect(terms, t), started ? by[terms[0]!.route] : 0)).toBe(true);
          }
        },
      ),
      { seed, numRuns: 500 },
    );
  });
});

describe('calibratedModel', () => {
  const scenario = calibratedModel(iv, { session: 'dosing', seed: SEED });
  const p = scenario.participants[0]!;

  it('is deterministic for a seed', () => {
    const again = calibratedModel(iv, { session: 'dosing', seed: SEED });
    expect(again.participants[0]!.profile).toEqual(p.profile);
    expect(again.participants[0]!.events).toEqual(p.events);
    expect(again.participants[0]!.physiology.truth(47, IV_DOSE)).toEqual(p.physiology.truth(47, IV_DOSE));
  });

  it('gives every declared measure a value; truth is deterministic', () => {
    const v = p.physiology.truth(30, IV_DOSE);
    expect(Object.keys(v).sort()).toEqual(iv.measures.map((m) => m.name).sort());
    expect(p.physiology.truth(30, IV_DOSE)).toEqual(v);
  });

  it('responds to exposure: the rise needs a dose, and pausing the infusion bends the curve', () => {
    const none: Exposure = { doses: [] };
    const paused: Exposure = {
      doses: [
        { drug: 'ketamine', route: 'iv', start: 15, end: 25, amount: 0.125, unit: 'mg/kg' },
        { drug: 'ketamine', route: 'iv', start: 45, end: 75, amount: 0.375, unit: 'mg/kg' },
      ],
    };
    const at = (e: Exposure, t: number) => p.physiology.truth(t, e)['sbp']!;
    const rise = at(IV_DOSE, 55) - at(none, 55);
    expect(rise).toBeGreaterThan(0);
    expect(at(paused, 40)).toBeLessThan(at(IV_DOSE, 40));
    // Back to baseline well after the end (IV7).
    expect(Math.abs(at(IV_DOSE, 55 + 90) - at(none, 55 + 90))).toBeLessThan(1);
    // Ondansetron has no modelled effect.
    const ond: Exposure = { doses: [{ drug: 'ondansetron', route: 'iv', start: 20, end: 20, amount: 4, unit: 'mg' }] };
    expect(p.physiology.truth(30, ond)).toEqual(p.physiology.truth(30, none));
  });

  it('measure adds noise; an oximeter displays at most 100 % but nothing else is bounded', () => {
    const rng = createRng(1);
    const spo2 = Array.from({ length: 200 }, () => p.physiology.measure('spo2', 99.5, 0, rng));
    expect(Math.max(...spo2)).toBe(100);
    expect(new Set(spo2).size).toBeGreaterThan(3);
    // Blood pressure noise is not bounded: a reading may leave the declared range and be rejected.
    const sbp = Array.from({ length: 200 }, () => p.physiology.measure('sbp', 258, 0, rng));
    expect(Math.max(...sbp)).toBeGreaterThan(260);
  });

  it('an unknown measure is flat in the middle of its range', () => {
    const ir: IR = { ...iv, measures: [...iv.measures, { ...iv.measures[0]!, name: 'pain', unit: 'score', min: 0, max: 10 }] };
    const s = calibratedModel(ir, { session: 'dosing', seed: SEED });
    expect(s.participants[0]!.physiology.truth(10, IV_DOSE)['pain']).toBe(5);
    expect(s.participants[0]!.physiology.truth(50, IV_DOSE)['pain']).toBe(5);
  });

  it('emits only declared event names, at times after the planned dose (except pre-dose nausea)', () => {
    const declared = new Set(esk.events.map((e) => e.name));
    let total = 0;
    for (let seed = 0; seed < 200; seed++) {
      const s = calibratedModel(esk, { session: 'dosing', seed });
      for (const e of s.participants[0]!.events) {
        total++;
        expect(declared.has(e.name)).toBe(true);
        expect(e.t).toBeGreaterThanOrEqual(0);
      }
    }
    expect(total).toBeGreaterThan(50);
  });

  it('samples ages within the population, derives caution flags, and sometimes carries an exclude flag', () => {
    let excluded = 0;
    for (let seed = 0; seed < 300; seed++) {
      const prof = calibratedModel(iv, { session: 'dosing', seed }).participants[0]!.profile;
      expect(prof.age).toBeGreaterThanOrEqual(18);
      expect(prof.age).toBeLessThanOrEqual(75);
      expect(prof.flags.includes('age_50_or_over')).toBe(prof.age >= 50);
      if (prof.flags.some((f) => ['psychotic_disorder', 'pregnancy', 'vascular_aneurysm'].includes(f))) excluded++;
    }
    expect(excluded).toBeGreaterThan(0);
  });

  it('keeps the same people across a course (sessionIndex changes only the session draws)', () => {
    const s1 = calibratedModel(esk, { session: 'dosing', seed: SEED, sessionIndex: 1 });
    const s5 = calibratedModel(esk, { session: 'dosing', seed: SEED, sessionIndex: 5 });
    expect(s5.participants[0]!.profile.age).toBe(s1.participants[0]!.profile.age);
  });

  it('group: participants and a roster scaled per participants; staff absences only when a rate is set', () => {
    const s = calibratedModel(group, { session: 'circle', seed: SEED, participants: 6 });
    expect(s.participants).toHaveLength(6);
    expect(s.staffAtStart['facilitator']).toBe(2);
    expect(s.staff).toEqual([]);
    const away = calibratedModel(group, { session: 'circle', seed: SEED, participants: 6, staff: { leaveRatePerHour: 1 } });
    expect(away.staff.length).toBeGreaterThan(0);
    expect(away.parameters['STAFF.leaveRatePerHour']).toBe(1);
  });

  it('rejects an unknown session with a typed error', () => {
    expect(() => calibratedModel(iv, { session: 'nope', seed: 1 })).toThrow(CalibratedModelError);
  });
});

describe('names', () => {
  it('maps measures and events by name', () => {
    expect(vitalKind('sbp')).toBe('sbp');
    expect(vitalKind('systolic_bp')).toBe('sbp');
    expect(vitalKind('heart_rate')).toBe('hr');
    expect(vitalKind('spo2')).toBe('spo2');
    expect(vitalKind('cadss')).toBe('cadss');
    expect(vitalKind('pain')).toBeUndefined();
    expect(eventNameFor('anxiety', ['panic', 'nausea'])).toBe('panic');
    expect(eventNameFor('anxiety', ['panic', 'anxiety'])).toBe('anxiety');
    expect(eventNameFor('request_stop', ['request_stop'])).toBe('request_stop');
    expect(eventNameFor('dizziness', ['nausea'])).toBeUndefined();
  });
});

describe('per-session rates', () => {
  it('accumulate to the per-patient figures', () => {
    const r = sessionRates('nausea');
    let none = Math.pow(1 - r.background, 8);
    for (let k = 0; k < 8; k++) none *= 1 - r.first * Math.pow(0.9, k);
    expect(1 - none).toBeCloseTo(0.28, 6);
    const s = sedationModel();
    expect(s.a / (s.a + s.b)).toBeCloseTo(0.347, 6);
  });
});

describe('Physiology.truthOf', () => {
  it('is exactly truth()[measure], for every measure, time, dose and participant', () => {
    const ir = esk;
    const seed = propertySeed('truthOf = truth()[m]');
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 8 }),
        fc.double({ min: 0, max: 240, noNaN: true }),
        fc.array(fc.record({ start: fc.double({ min: 0, max: 120, noNaN: true }), length: fc.double({ min: 0, max: 60, noNaN: true }), amount: fc.double({ min: 0, max: 100, noNaN: true }) }), { maxLength: 3 }),
        (s, index, t, segments) => {
          const scenario = calibratedModel(ir, { session: 'dosing', seed: s, sessionIndex: index });
          const physiology = scenario.participants[0]!.physiology;
          const exposure: Exposure = { doses: segments.map((g) => ({ drug: 'esketamine', route: 'intranasal', start: g.start, end: g.start + g.length, amount: g.amount, unit: 'mg' })) };
          const all = physiology.truth(t, exposure);
          for (const m of ir.measures) expect(Object.is(physiology.truthOf!(m.name, t, exposure), all[m.name])).toBe(true);
          expect(physiology.truthOf!('not_a_measure', t, exposure)).toBeUndefined();
        },
      ),
      { seed, numRuns: 300 },
    );
  });
});
