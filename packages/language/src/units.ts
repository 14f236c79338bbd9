/**
 * Units and dimensions. Every quantity in a protocol carries a unit; the
 * checker compares dimensions, and later stages convert to the canonical unit
 * of each dimension (minutes for time, mg for mass, mg/kg for weight-based
 * doses).
 */

export type Dimension =
  | 'time'
  | 'mass'
  | 'weight-dose'
  | 'pressure'
  | 'rate'
  | 'percent'
  | 'score';

export interface UnitInfo {
  readonly dimension: Dimension;
  /** Multiply a value in this unit by `factor` to get the canonical unit. */
  readonly factor: number;
}

export const UNITS: Readonly<Record<string, UnitInfo>> = {
  s: { dimension: 'time', factor: 1 / 60 },
  min: { dimension: 'time', factor: 1 },
  h: { dimension: 'time', factor: 60 },
  day: { dimension: 'time', factor: 1440 },
  days: { dimension: 'time', factor: 1440 },
  week: { dimension: 'time', factor: 10080 },
  weeks: { dimension: 'time', factor: 10080 },
  mcg: { dimension: 'mass', factor: 0.001 },
  mg: { dimension: 'mass', factor: 1 },
  g: { dimension: 'mass', factor: 1000 },
  'mcg/kg': { dimension: 'weight-dose', factor: 0.001 },
  'mg/kg': { dimension: 'weight-dose', factor: 1 },
  mmHg: { dimension: 'pressure', factor: 1 },
  bpm: { dimension: 'rate', factor: 1 },
  '/min': { dimension: 'rate', factor: 1 },
  '%': { dimension: 'percent', factor: 1 },
  score: { dimension: 'score', factor: 1 },
};

export const CANONICAL_UNIT: Readonly<Record<Dimension, string>> = {
  time: 'min',
  mass: 'mg',
  'weight-dose': 'mg/kg',
  pressure: 'mmHg',
  rate: 'bpm',
  percent: '%',
  score: 'score',
};

/** How a dimension is named in messages. */
export const DIMENSION_NAMES: Readonly<Record<Dimension, string>> = {
  time: 'a time',
  mass: 'a dose',
  'weight-dose': 'a weight-based dose',
  pressure: 'a pressure',
  rate: 'a rate',
  percent: 'a percentage',
  score: 'a score',
};

/** Dimensions of measures: a bare number next to one of these takes its unit. */
export const MEASURE_DIMENSIONS: ReadonlySet<Dimension> = new Set([
  'pressure',
  'rate',
  'percent',
  'score',
]);

export function unitInfo(unit: string): UnitInfo | undefined {
  return Object.prototype.hasOwnProperty.call(UNITS, unit) ? UNITS[unit] : undefined;
}

/** Converts a value in `unit` to the canonical unit of its dimension. */
export function toCanonical(value: number, unit: string): number {
  const info = unitInfo(unit);
  return info === undefined ? value : value * info.factor;
}

export function isDoseDimension(d: Dimension): boolean {
  return d === 'mass' || d === 'weight-dose';
}
