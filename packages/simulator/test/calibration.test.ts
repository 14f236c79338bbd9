/**
 * The calibrated model against CALIBRATION.md: every figure the model claims
 * to reproduce must lie inside its target interval (the tolerance rule of
 * each row is in the report), and docs/calibration.md is the rendered report
 * (`pnpm fixtures:update` recomputes it). Seed pinned; set CALIBRATION_SEED
 * to try another one (then the docs file is not compared).
 */
import { describe, expect, it } from 'vitest';
import { calibrationReport, renderCalibrationMarkdown, wilson } from '../src/models/calibration.js';

const PINNED = 20261126;
const fromEnv = process.env['CALIBRATION_SEED'];
const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : PINNED;
const RUNS = 1000;

describe('wilson', () => {
  it('matches known intervals', () => {
    const [lo, hi] = wilson(23, 2342);
    expect(lo).toBeCloseTo(0.00655, 4);
    expect(hi).toBeCloseTo(0.01468, 4);
    const [z0, z1] = wilson(0, 684);
    expect(z0).toBe(0);
    expect(z1).toBeCloseTo(0.00558, 4);
  });
});

describe('calibration', () => {
  console.log(`[calibration] seed ${seed}, ${RUNS} runs (set CALIBRATION_SEED to change)`);
  const report = calibrationReport({ seed, runs: RUNS });

  it('only the documented known gaps miss', () => {
    expect(report.rows.filter((r) => r.within === false).map((r) => `${r.id} ${r.figure}`)).toEqual(
      report.rows.filter((r) => r.knownGap === true && r.within === false).map((r) => `${r.id} ${r.figure}`),
    );
  });

  it.each(report.rows.filter((r) => r.within !== null && r.knownGap !== true).map((r) => [`${r.id} ${r.figure}`, r] as const))('%s', (_name, row) => {
    expect(row.target).toBeDefined();
    const [lo, hi] = row.target!;
    expect(row.simulated, `${row.id} ${row.figure}: ${row.simulated} outside [${lo}, ${hi}] (${row.rule})`).toBeGreaterThanOrEqual(lo);
    expect(row.simulated, `${row.id} ${row.figure}: ${row.simulated} outside [${lo}, ${hi}] (${row.rule})`).toBeLessThanOrEqual(hi);
  });

  it('covers every CALIBRATION.md row', () => {
    const ids = new Set(report.rows.map((r) => r.id));
    for (let i = 1; i <= 10; i++) expect(ids.has(`IV${i}` as never), `IV${i}`).toBe(true);
    for (let i = 1; i <= 13; i++) expect(ids.has(`ES${i}` as never), `ES${i}`).toBe(true);
  });

  it.runIf(fromEnv === undefined || fromEnv === '')('docs/calibration.md is up to date', async () => {
    await expect(renderCalibrationMarkdown(report)).toMatchFileSnapshot('../../../docs/calibration.md');
  });
});
