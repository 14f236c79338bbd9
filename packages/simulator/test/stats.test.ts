import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { accumulateStats, calibratedModel, runStats, simulate, statsFigures, statsSessionSeed, StatsError, type StatsAccumulator } from '../src/index.js';
import { wilson } from '../src/models/calibration.js';
import { exampleIR, irOf } from './helpers.js';

// The runtime simulates ~5–20 sessions a second today: keep runs small.
vi.setConfig({ testTimeout: 120_000 });

const IV = exampleIR('individual-iv');

/** A protocol whose pre-dose gate can never pass: every session is deferred. */
const ALWAYS_DEFER = irOf(`protocol "Always defer" {
  roles { therapist 1 }
  measures { sbp mmHg 50..260 }
  drugs { ketamine max 0.5 mg/kg }
  session dosing {
    stage predose duration 10 min {
      measure sbp at start
      gate sbp < 50 else defer "never dosed"
    }
    stage infusion duration 40 min {
      administer ketamine 0.5 mg/kg iv over 40 min
      monitor sbp every 10 min
    }
    discharge when elapsed >= 50 min
  }
}`);

/** The accumulator with every number replaced by 0: its shape. */
function shape(acc: StatsAccumulator): string {
  return JSON.stringify(acc, (_k, v: unknown) => (typeof v === 'number' ? 0 : v));
}

describe('runStats', () => {
  it('outcome rates sum to 1 and carry the Wilson interval of their counts', async () => {
    const r = await runStats(IV, { sessions: 8, seed: 3 });
    expect(r.sessions).toBe(8);
    expect(r.participants).toBe(8);
    const total = r.outcomes.reduce((s, o) => s + o.rate, 0);
    expect(total).toBeCloseTo(1, 12);
    expect(r.outcomes.reduce((s, o) => s + o.count, 0)).toBe(8);
    for (const o of r.outcomes) {
      expect(o.ci).toEqual(wilson(o.count, r.participants));
      expect(o.ci[0]).toBeLessThanOrEqual(o.rate);
      expect(o.ci[1]).toBeGreaterThanOrEqual(o.rate);
    }
    for (const rule of r.rules) expect(rule.ci).toEqual(wilson(rule.sessions, r.sessions));
    expect(r.pause.ci).toEqual(wilson(r.pause.sessions, r.sessions));
    expect(r.staff.violationCi).toEqual(wilson(r.staff.violationSessions, r.sessions));
    // Every declared rule and role is reported, in declaration order.
    expect(r.rules.map((x) => x.rule)).toEqual(IV.sessions.find((s) => s.name === 'dosing')!.rules.map((x) => x.id));
    expect(r.staff.roles.map((x) => x.role)).toEqual(IV.roles.map((x) => x.name));
  });

  it('a protocol whose gate always defers: deferred rate 1, with its Wilson interval', async () => {
    const r = await runStats(ALWAYS_DEFER, { sessions: 6, seed: 1 });
    const deferred = r.outcomes.find((o) => o.outcome === 'deferred')!;
    expect(deferred.count).toBe(6);
    expect(deferred.rate).toBe(1);
    expect(deferred.ci).toEqual(wilson(6, 6));
    expect(deferred.ci[0]).toBeGreaterThan(0.5);
    expect(deferred.ci[1]).toBe(1);
    for (const o of r.outcomes.filter((x) => x.outcome !== 'deferred')) expect(o.rate).toBe(0);
    expect(r.calibration.dosed).toBe(0);
    expect(r.pause.sessions).toBe(0);
  });

  it('1 worker and 2 or 3 workers give identical JSON for the same seed (fixed chunk boundaries)', async () => {
    const opts = { sessions: 10, seed: 11, chunkSize: 3 } as const;
    const one = JSON.stringify(await runStats(IV, { ...opts, workers: 1 }));
    const two = JSON.stringify(await runStats(IV, { ...opts, workers: 2 }));
    expect(two).toBe(one);
    const three = JSON.stringify(await runStats(IV, { ...opts, workers: 3 }));
    expect(three).toBe(one);
    const other = JSON.stringify(await runStats(IV, { ...opts, seed: 12, workers: 1 }));
    expect(other).not.toBe(one);
  });

  it('examples: the first session of the run to reach each outcome, fire each rule and break a staffing line, whose seed simulates it alone', async () => {
    const sessions = 60;
    const staff = { leaveRatePerHour: 1 };
    // Chunks of 4 over 2 workers: the first sessions come from whichever chunk has them, merged in order.
    const r = await runStats(IV, { sessions, seed: 9, chunkSize: 4, workers: 2, staff });
    const expected = { outcomes: new Map<string, number>(), rules: new Map<string, number>(), staffing: new Map<string, number>() };
    const first = (m: Map<string, number>, k: string, i: number) => {
      if (!m.has(k)) m.set(k, i);
    };
    for (let i = 0; i < sessions; i++) {
      const seed = statsSessionSeed(9, i);
      const trace = simulate(IV, { session: 'dosing', scenario: calibratedModel(IV, { session: 'dosing', seed, staff }), seed, stepper: 'engine' });
      const outcome = trace.records.find((x) => x.type === 'outcome');
      first(expected.outcomes, outcome?.type === 'outcome' ? outcome.outcome : 'none', i);
      for (const x of trace.records) {
        if (x.type !== 'emit') continue;
        const e = x.event as { type: string; rule?: string; role?: string };
        if (e.type === 'rule') first(expected.rules, e.rule!, i);
        if (e.type === 'staffing.violation') first(expected.staffing, e.role!, i);
      }
    }
    const byOrder = (m: Map<string, number>, order: readonly string[]) => order.filter((k) => m.has(k)).map((k) => ({ of: k, session: m.get(k)!, seed: statsSessionSeed(9, m.get(k)!) }));
    expect(r.examples!.outcomes).toEqual(byOrder(expected.outcomes, ['discharged', 'deferred', 'ended', 'escalated', 'none']));
    expect(r.examples!.rules).toEqual(byOrder(expected.rules, IV.sessions.find((x) => x.name === 'dosing')!.rules.map((x) => x.id)));
    expect(r.examples!.staffing).toEqual(byOrder(expected.staffing, IV.roles.map((x) => x.name)));
    expect(r.examples!.outcomes.length).toBeGreaterThan(1);
    expect(r.examples!.rules.length).toBeGreaterThan(2);
    expect(r.examples!.staffing.length).toBeGreaterThan(0);
  });

  it('examples: none in course mode (a session of a course depends on the ones before it)', async () => {
    const r = await runStats(exampleIR('intranasal-esketamine'), { sessions: 2, seed: 1, course: true });
    expect(r.examples).toBeUndefined();
  });

  it('a worker that outgrows its heap limit ends the run with a clear error', async () => {
    const hungry = new URL('./fixtures/hungry-worker.mjs', import.meta.url);
    const run = runStats(IV, { sessions: 4, seed: 2, workers: 2, chunkSize: 1, workerUrl: hungry });
    await expect(run).rejects.toThrow(StatsError);
    await expect(run).rejects.toThrow(/ran out of its 20 MiB heap; run with one worker/);
  }, 30_000);

  it('progress is reported up to the total, with workers too', async () => {
    const seen: number[] = [];
    await runStats(IV, { sessions: 4, seed: 2, workers: 2, chunkSize: 2, onProgress: (done, total) => {
      expect(total).toBe(4);
      seen.push(done);
    } });
    expect(seen.at(-1)).toBe(4);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
  });

  it('streaming: the accumulator has the same shape (size) for 2 and for 9 sessions', async () => {
    const small = await accumulateStats(IV, { sessions: 2, seed: 5 });
    const large = await accumulateStats(IV, { sessions: 9, seed: 5 });
    expect(small.sessions).toBe(2);
    expect(large.sessions).toBe(9);
    expect(shape(large)).toBe(shape(small));
    // No per-session lists anywhere: every array is a fixed-bin histogram.
    const arrays: number[] = [];
    JSON.stringify(large, (_k, v: unknown) => {
      if (Array.isArray(v)) arrays.push(v.length);
      return v;
    });
    expect(arrays.every((n) => n <= 500)).toBe(true);
  });

  it('session i is reproducible from its seed, as `kapspec test --model calibrated` run i', () => {
    expect(statsSessionSeed(1, 0)).toBe(statsSessionSeed(1, 0));
    expect(statsSessionSeed(1, 0)).not.toBe(statsSessionSeed(1, 1));
    expect(statsSessionSeed(1, 0)).not.toBe(statsSessionSeed(2, 0));
  });

  it('IV protocol: the CALIBRATION.md rows the route allows, with comparability labelled', async () => {
    const r = await runStats(IV, { sessions: 6, seed: 4 });
    expect(r.calibration.route).toBe('iv');
    const ids = r.calibration.rows.map((x) => x.id);
    expect(ids).toEqual(expect.arrayContaining(['IV1', 'IV2', 'IV3', 'IV4', 'IV8', 'IV9']));
    const iv1 = r.calibration.rows.find((x) => x.id === 'IV1')!;
    expect(iv1.publishedValue).toBe(16);
    expect(iv1.comparable).toBe(true);
    expect(r.calibration.rows.find((x) => x.id === 'IV6')!.comparable).toBe(false);
    const iv4 = r.calibration.rows.find((x) => x.id === 'IV4')!;
    expect(iv4.ci).toEqual(wilson(Math.round(iv4.value! * iv4.n), iv4.n));
    expect(r.calibration.notComputed.map((x) => x.id)).toEqual(expect.arrayContaining(['IV7', 'IV10']));
  });

  it('blood pressure and pulse are found by the name the model reads them by (systolic, diastolic, pulse), not only sbp, dbp, hr', async () => {
    const text = readFileSync(new URL('../../../examples/individual-iv.kap', import.meta.url), 'utf8');
    const renamed = irOf(text.replace(/\bsbp\b/g, 'systolic').replace(/\bdbp\b/g, 'diastolic').replace(/\bhr\b/g, 'pulse'));
    expect(renamed.measures.map((m) => m.name)).toEqual(['systolic', 'diastolic', 'pulse', 'spo2', 'cadss']);
    const a = await runStats(IV, { sessions: 40, seed: 3 });
    const b = await runStats(renamed, { sessions: 40, seed: 3 });
    // The same sessions (the model reads the renamed measures as the same vitals): the same figures.
    expect(b.calibration.withReadings).toBe(a.calibration.withReadings);
    expect(b.calibration.withReadings).toBeGreaterThan(0);
    expect(b.calibration.rows).toEqual(a.calibration.rows);
    // A measure named exactly sbp is the one read, even after another the model also takes for systolic.
    const both = irOf(text.replace(/^( {4}sbp {3}mmHg {2}50\.\.260)$/m, '    sbp_standing mmHg 50..260\n$1'));
    expect(both.measures.map((m) => m.name).slice(0, 2)).toEqual(['sbp_standing', 'sbp']);
    const c = await runStats(both, { sessions: 40, seed: 3 });
    expect(c.calibration.rows.find((x) => x.id === 'IV1')).toEqual(a.calibration.rows.find((x) => x.id === 'IV1'));
  });

  it('intranasal protocol: per-session adverse events against the model-implied per-session rates', async () => {
    const ir = exampleIR('intranasal-esketamine');
    const r = await runStats(ir, { sessions: 5, seed: 4 });
    expect(r.calibration.route).toBe('intranasal');
    const es1 = r.calibration.rows.find((x) => x.id === 'ES1')!;
    expect(es1.comparable).toBe(true);
    expect(es1.publishedValue).toBeGreaterThan(0.03);
    expect(es1.publishedValue).toBeLessThan(0.2);
    expect(r.calibration.rows.find((x) => x.id === 'ES13')!.publishedValue).toBe(0.347);
    expect(r.calibration.rows.filter((x) => ['ES8', 'ES9', 'ES10', 'ES11'].includes(x.id)).every((x) => !x.comparable)).toBe(true);
  });

  it('a route without CALIBRATION.md figures says so', async () => {
    const r = await runStats(exampleIR('sublingual-lozenge'), { sessions: 2, seed: 1 });
    expect(r.calibration.rows).toEqual([]);
    expect(r.calibration.notComputed[0]!.reason).toMatch(/no figures for the sublingual route/);
  });

  it('flat figures cover every section; every proportion CI brackets its value', async () => {
    const r = await runStats(IV, { sessions: 3, seed: 9 });
    const figures = statsFigures(r);
    expect(new Set(figures.map((f) => f.section))).toEqual(new Set(['outcomes', 'rules', 'pause', 'staff', 'session', 'calibration']));
    for (const f of figures) {
      if (f.value === null || f.ciLow === null || f.ciHigh === null) continue;
      expect(f.ciLow).toBeLessThanOrEqual(f.value + 1e-12);
      expect(f.ciHigh).toBeGreaterThanOrEqual(f.value - 1e-12);
    }
  });

  it('bad options are named errors, not clamped', async () => {
    await expect(runStats(IV, { sessions: 0, seed: 1 })).rejects.toThrow(StatsError);
    await expect(runStats(IV, { sessions: 2.5, seed: 1 })).rejects.toThrow(/sessions must be a positive integer/);
    await expect(runStats(IV, { sessions: 2, seed: -1 })).rejects.toThrow(/seed/);
    await expect(runStats(IV, { sessions: 2, seed: 1, workers: 0 })).rejects.toThrow(/workers/);
    await expect(runStats(IV, { sessions: 2, seed: 1, session: 'nope' })).rejects.toThrow(/no session "nope"/);
  });
});
