/**
 * The physiology's `reader`, which lets the driver take a row of quiet
 * pulse-oximeter readings without working out each one's truth: the split
 * reading equals `measure`, draws the same numbers, never decreases with the
 * truth; the bounds contain the truth for every exposure on the way to the
 * envelope. Then the driver's row itself: stats' lean traces (which take
 * rows) keep every record that the reading-by-reading lean trace has, with
 * far fewer truths worked out, also when the protocol's threshold sits
 * inside the bounds so that rows end often.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { propertySeed } from './seed.js';
import type { Exposure, Physiology, Scenario } from '../src/model.js';
import { createRng } from '../src/rng.js';
import { calibratedModel } from '../src/models/calibrated.js';
import { effectBounds, totalEffect, type EffectKind } from '../src/models/kinetics.js';
import type { ParticipantPhysiology } from '../src/models/physiology.js';
import { simulate, type TraceRecord } from '../src/index.js';
import { exampleIR, irOf } from './helpers.js';

const iv = exampleIR('individual-iv');

/** The physiology of the calibrated model's session `seed` of the IV example. */
const physiologyOf = (seed: number): Physiology => calibratedModel(iv, { session: 'dosing', seed }).participants[0]!.physiology;

describe('reader (the split reading)', () => {
  it('is given for a pulse oximeter only', () => {
    const p = physiologyOf(1);
    expect(p.reader?.('spo2')).toBeDefined();
    for (const m of ['sbp', 'dbp', 'hr', 'cadss', 'nonesuch']) expect(p.reader?.(m), m).toBeUndefined();
  });

  it('read(v, noise(rng)) is measure(v, rng), drawing the same numbers; read never decreases with v', () => {
    const seed = propertySeed('reader = measure');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer(), fc.double({ min: 40, max: 110, noNaN: true }), fc.double({ min: 0, max: 20, noNaN: true }), (session, stream, v, dv) => {
        const p = physiologyOf(session);
        const reader = p.reader!('spo2')!;
        const a = createRng(stream);
        const b = createRng(stream);
        const noise = reader.noise(a);
        expect(Object.is(reader.read(v, noise), p.measure('spo2', v, 10, b))).toBe(true);
        expect(a.next()).toBe(b.next());
        expect(reader.read(v + dv, noise)).toBeGreaterThanOrEqual(reader.read(v, noise));
        expect(reader.read(v, noise + dv / 4)).toBeGreaterThanOrEqual(reader.read(v, noise));
      }),
      { seed, numRuns: 400 },
    );
  });

  it('uniforms: noiseOf(next(), next()) is noise(rng), bit for bit', () => {
    const seed = propertySeed('reader uniforms');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2000 }), fc.integer(), (session, stream) => {
        const reader = physiologyOf(session).reader!('spo2')!;
        const a = createRng(stream);
        const b = createRng(stream);
        const x = b.next();
        expect(Object.is(reader.noise(a), reader.uniforms!.noiseOf(x, b.next()))).toBe(true);
        expect(a.next()).toBe(b.next());
      }),
      { seed, numRuns: 200 },
    );
  });
});

describe('reader bounds', () => {
  const dose = fc.record({
    drug: fc.constantFrom('ketamine', 'esketamine', 'ondansetron'),
    route: fc.constantFrom('iv', 'intranasal', 'im', 'sublingual'),
    start: fc.double({ min: 0, max: 120, noNaN: true }),
    length: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 60, noNaN: true })),
    amount: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 200, noNaN: true })),
    unit: fc.constantFrom('mg', 'mg/kg'),
    // How much of the dose was delivered by the time of the reading (an infusion cut short keeps its rate).
    part: fc.double({ min: 0, max: 1, noNaN: true }),
  });

  it('contain the truth at every time, for every exposure on the way to the envelope', () => {
    const seed = propertySeed('reader bounds contain the truth');
    let bounded = 0;
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.array(dose, { maxLength: 4 }), fc.array(fc.double({ min: 0, max: 400, noNaN: true }), { minLength: 1, maxLength: 8 }), (session, doses, times) => {
        const p = physiologyOf(session);
        const envelope: Exposure = { doses: doses.map((d) => ({ drug: d.drug, route: d.route as 'iv', start: d.start, end: d.start + d.length, amount: d.amount, unit: d.unit as 'mg' })) };
        const b = p.reader!('spo2')!.bounds(envelope);
        // None when the session has a desaturation excursion (see spo2Bounds).
        const desaturation = (p as ParticipantPhysiology).session.desaturation !== undefined;
        expect(b === undefined).toBe(desaturation);
        if (b === undefined) return;
        bounded++;
        const cut: Exposure = { doses: doses.map((d) => ({ drug: d.drug, route: d.route as 'iv', start: d.start, end: d.start + d.length * d.part, amount: d.amount * d.part, unit: d.unit as 'mg' })) };
        for (const e of [envelope, cut]) {
          for (const t of times) {
            const v = p.truthOf!('spo2', t, e)!;
            expect(v, `minute ${t}`).toBeGreaterThanOrEqual(b.lo);
            expect(v, `minute ${t}`).toBeLessThanOrEqual(b.hi);
          }
        }
      }),
      { seed, numRuns: 600 },
    );
    expect(bounded).toBeGreaterThan(400);
  });

  it('are close enough to be of use: the example session without excursions spans a few percent', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const p = physiologyOf(seed);
      const b = p.reader!('spo2')!.bounds({ doses: [{ drug: 'ketamine', route: 'iv', start: 15, end: 55, amount: 0.5, unit: 'mg/kg' }] });
      if (b === undefined) continue;
      expect(b.hi).toBeLessThanOrEqual(100);
      expect(b.lo).toBeGreaterThan(85);
    }
  });
});

describe('effectBounds', () => {
  const dose = fc.record({
    drug: fc.constantFrom('ketamine', 'esketamine', 'ondansetron'),
    route: fc.constantFrom('iv', 'intranasal', 'im', 'sublingual'),
    start: fc.double({ min: 0, max: 120, noNaN: true }),
    // (A segment some 1e-300 min long has a rate that overflows: an effect of NaN, bounded by nothing.)
    length: fc.oneof(fc.constant(0), fc.double({ min: 1e-9, max: 60, noNaN: true })),
    amount: fc.double({ min: 0, max: 200, noNaN: true }),
    unit: fc.constantFrom('mg', 'mg/kg'),
    part: fc.double({ min: 0, max: 1, noNaN: true }),
  });
  it('contain the effect of every exposure on the way to the envelope, and a lone bolus reaches the upper one', () => {
    const seed = propertySeed('effectBounds contain the effect');
    fc.assert(
      fc.property(fc.array(dose, { maxLength: 4 }), fc.constantFrom<EffectKind>('hemodynamic', 'dissociative'), fc.double({ min: 30, max: 150, noNaN: true }), fc.array(fc.double({ min: 0, max: 400, noNaN: true }), { minLength: 1, maxLength: 8 }), (doses, kind, weightKg, times) => {
        const envelope: Exposure = { doses: doses.map((d) => ({ drug: d.drug, route: d.route as 'iv', start: d.start, end: d.start + d.length, amount: d.amount, unit: d.unit as 'mg' })) };
        const cut: Exposure = { doses: doses.map((d) => ({ drug: d.drug, route: d.route as 'iv', start: d.start, end: d.start + d.length * d.part, amount: d.amount * d.part, unit: d.unit as 'mg' })) };
        const b = effectBounds(kind, envelope, weightKg);
        for (const e of [envelope, cut]) {
          for (const t of times) {
            const v = totalEffect(kind, t, e, weightKg);
            expect(v).toBeGreaterThanOrEqual(b.lo);
            expect(v).toBeLessThanOrEqual(b.hi);
          }
        }
      }),
      { seed, numRuns: 500 },
    );
    // The bound of a bolus is its peak: attained (to a part in a million) at the kernel's mode.
    for (const route of ['iv', 'im', 'intranasal', 'sublingual'] as const) {
      const bolus: Exposure = { doses: [{ drug: 'ketamine', route, start: 10, end: 10, amount: 50, unit: 'mg' }] };
      const hi = effectBounds('dissociative', bolus, 70).hi;
      let peak = 0;
      for (let t = 10; t < 400; t += 0.01) peak = Math.max(peak, totalEffect('dissociative', t, bolus, 70));
      expect(peak, route).toBeLessThanOrEqual(hi);
      expect(peak / hi, route).toBeGreaterThan(0.999);
    }
  });
});

describe('rows of quiet readings (stats lean traces)', () => {
  const keep = new Set(['sbp', 'dbp', 'hr']);
  /**
   * The scenario with the pulse oximeter's truths counted, and the noises
   * worked out from their uniforms; `plain`: its reader without `uniforms`.
   */
  const counted = (scenario: Scenario, plain = false): { scenario: Scenario; truths: () => number; noises: () => number } => {
    let n = 0;
    let noises = 0;
    const participants = scenario.participants.map((x) => {
      const p = x.physiology;
      const physiology: Physiology = {
        truth: (t, e) => p.truth(t, e),
        truthOf: (m, t, e) => {
          if (m === 'spo2') n++;
          return p.truthOf!(m, t, e);
        },
        measure: (m, v, t, rng) => p.measure(m, v, t, rng),
        reader: (m) => {
          const r = p.reader?.(m);
          if (r === undefined) return undefined;
          const u = r.uniforms!;
          return {
            noise: r.noise,
            read: r.read,
            bounds: r.bounds,
            ...(plain
              ? {}
              : {
                  uniforms: {
                    noiseOf: (a: number, b: number) => {
                      noises++;
                      return u.noiseOf(a, b);
                    },
                    firstAtMost: u.firstAtMost,
                  },
                }),
          };
        },
      };
      return { ...x, physiology };
    });
    return { scenario: { ...scenario, participants }, truths: () => n, noises: () => noises };
  };
  const text = readFileSync(new URL('../../../examples/individual-iv.kap', import.meta.url), 'utf8');
  // Thresholds inside the bounds: rows end at readings that are not quiet, and bounds often cannot tell.
  // Discharge reading the last oximeter reading: the one a row keeps back must reach the engine.
  const tight = irOf(text.replace('when spo2 < 90 for 1 min', 'when spo2 < 97 for 3 min').replace('and cadss < 5', 'and cadss < 5\n      and spo2 >= 96'));

  for (const [name, ir, plain] of [
    ['the example', iv, false],
    ['a threshold of 97 %', tight, false],
    ['the example, noise not from uniforms', iv, true],
    ['a threshold of 97 %, noise not from uniforms', tight, true],
  ] as const) {
    it(`${name}: every record of the reading-by-reading lean trace but quiet oximeter readings, with fewer truths`, () => {
      let rowTruths = 0;
      let allTruths = 0;
      let fired = 0;
      let readings = 0;
      let noises = 0;
      for (let seed = 1; seed <= 40; seed++) {
        const scenario = calibratedModel(ir, { session: 'dosing', seed });
        const a = counted(scenario);
        const all = simulate(ir, { session: 'dosing', scenario: a.scenario, seed, stepper: 'engine', lean: true });
        const b = counted(scenario, plain);
        const rows = simulate(ir, { session: 'dosing', scenario: b.scenario, seed, stepper: 'engine', lean: true, leanReadings: keep });
        const quietSpo2 = (r: TraceRecord) => r.type === 'observe' && 'spo2' in r.values;
        expect(rows.header).toEqual(all.header);
        expect(rows.records.filter((r) => !quietSpo2(r))).toEqual(all.records.filter((r) => !quietSpo2(r)));
        // The oximeter readings a row keeps are those that were not quiet: each is in the full lean trace.
        const kept = rows.records.filter(quietSpo2).map((r) => JSON.stringify(r));
        const every = new Set(all.records.filter(quietSpo2).map((r) => JSON.stringify(r)));
        for (const k of kept) expect(every.has(k), k).toBe(true);
        fired += rows.records.filter((r) => r.type === 'emit' && (r.event as { type: string; rule?: string }).rule === 'desaturation').length;
        rowTruths += b.truths();
        allTruths += a.truths();
        readings += all.records.filter(quietSpo2).length;
        noises += b.noises();
      }
      // Most of a row's noises are known to be quiet from their first uniform alone (none without uniforms).
      if (plain) expect(noises).toBe(0);
      else if (ir === iv) expect(noises).toBeLessThan(readings / 5);
      if (ir === tight) {
        // Rows end at almost every reading, and the rule fires: a row still saves some truths.
        expect(fired).toBeGreaterThan(0);
        expect(rowTruths).toBeLessThan(allTruths);
      } else expect(rowTruths).toBeLessThan(allTruths / 5);
    }, 60_000);
  }
});
