/**
 * Effect time courses driven by exposure. The response to a unit of drug at
 * time 0 is an Erlang impulse response (n transit compartments, time
 * constant θ); what was delivered (`Exposure`, boluses and infusion
 * segments) is convolved with it in closed form, so a paused or stopped
 * infusion bends the curve. Each route's curve is normalised so that its
 * reference regimen (parameters.ts `REFERENCE_DOSE`) peaks at exactly 1.
 */
import type { Route } from '@kapspec/runtime';
import type { Exposure } from '../model.js';
import { DRUGS, KERNELS, REFERENCE_DOSE, type KernelShape } from './parameters.js';

export type EffectKind = 'hemodynamic' | 'dissociative';

/** Regularised lower incomplete gamma P(n, x) for integer n ≥ 1 (0 for x ≤ 0). */
function erlangCdf(n: number, x: number): number {
  if (x <= 0) return 0;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < n; k++) {
    term *= x / k;
    sum += term;
  }
  return 1 - Math.exp(-x) * sum;
}

/** Erlang density at τ ≥ 0 (integrates to 1). */
function erlangPdf(n: number, theta: number, tau: number): number {
  if (tau < 0) return 0;
  if (tau === 0) return n === 1 ? 1 / theta : 0;
  const x = tau / theta;
  let logFact = 0;
  for (let k = 2; k < n; k++) logFact += Math.log(k);
  return Math.exp((n - 1) * Math.log(x) - x - logFact) / theta;
}

/** Unnormalised response at `t` to `amount` delivered evenly over [start, end] (a bolus when end = start). */
export function segmentResponse(shape: KernelShape, t: number, start: number, end: number, amount: number): number {
  if (t < start || amount === 0) return 0;
  if (end <= start) return amount * erlangPdf(shape.n, shape.theta, t - start);
  const rate = amount / (end - start);
  return rate * (erlangCdf(shape.n, (t - start) / shape.theta) - erlangCdf(shape.n, (t - Math.min(t, end)) / shape.theta));
}

// By route, then kind (no string keys: this is read for every dose at every truth sample).
const normCache = new Map<Route, Partial<Record<EffectKind, { norm: number; peakTime: number }>>>();

/** Scale factor making the route's reference regimen (1 reference unit) peak at 1, and the time of that peak. */
export function referencePeak(route: Route, kind: EffectKind): { norm: number; peakTime: number } {
  let byKind = normCache.get(route);
  const cached = byKind?.[kind];
  if (cached !== undefined) return cached;
  const shape = KERNELS[route][kind].value;
  const over = REFERENCE_DOSE[route].value.overMinutes;
  const f = (t: number) => segmentResponse(shape, t, 0, over, 1);
  let bestT = 0;
  let best = -Infinity;
  for (let t = 0; t <= 600; t += 0.5) {
    const v = f(t);
    if (v > best) {
      best = v;
      bestT = t;
    }
  }
  // Golden-section refinement around the grid maximum.
  let a = Math.max(0, bestT - 0.5);
  let b = bestT + 0.5;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let i = 0; i < 60; i++) {
    const x1 = b - g * (b - a);
    const x2 = a + g * (b - a);
    if (f(x1) < f(x2)) a = x1;
    else b = x2;
  }
  const peakTime = (a + b) / 2;
  const result = { norm: 1 / f(peakTime), peakTime };
  if (byKind === undefined) normCache.set(route, (byKind = {}));
  byKind[kind] = result;
  return result;
}

const potencyCache = new Map<string, number>();

/** Racemic-equivalent potency of a drug by name; 0 for drugs without a modelled effect. */
export function potency(drug: string): number {
  let k = potencyCache.get(drug);
  if (k === undefined) {
    k = potencyOf(drug);
    // Drug names come from protocols: a few per process; bounded all the same.
    if (potencyCache.size < 256) potencyCache.set(drug, k);
  }
  return k;
}

function potencyOf(drug: string): number {
  const d = drug.toLowerCase();
  if (!d.includes('ketamine')) return 0;
  if (d.includes('esketamine') || d.startsWith('s-ketamine')) return DRUGS.esketaminePotency.value;
  return 1;
}

/** A dose amount in reference units of its route (1 = the route's reference regimen), for a participant of `weightKg`. */
export function relativeDose(drug: string, route: Route, amount: number, unit: 'mg' | 'mg/kg', weightKg: number): number {
  const k = potency(drug);
  if (k === 0) return 0;
  const mg = (unit === 'mg/kg' ? amount * weightKg : amount) * k;
  const ref = REFERENCE_DOSE[route].value;
  const refMg = ref.unit === 'mg/kg' ? ref.amount * weightKg : ref.amount;
  return mg / refMg;
}

/**
 * The effect of everything delivered so far, per route (a route's amplitude
 * multiplies its own curve): `out[route]` in reference-peak units.
 */
export function effectByRoute(kind: EffectKind, t: number, exposure: Exposure, weightKg: number): Partial<Record<Route, number>> {
  const out: Partial<Record<Route, number>> = {};
  for (const d of exposure.doses) {
    if (d.start > t) continue;
    const rel = relativeDose(d.drug, d.route, d.amount, d.unit, weightKg);
    if (rel === 0) continue;
    const { norm } = referencePeak(d.route, kind);
    const v = norm * segmentResponse(KERNELS[d.route][kind].value, t, d.start, d.end, rel);
    out[d.route] = (out[d.route] ?? 0) + v;
  }
  return out;
}

/** Total effect across routes (reference-peak units): the sum of `effectByRoute`'s values, in the same order. */
export function totalEffect(kind: EffectKind, t: number, exposure: Exposure, weightKg: number): number {
  // The common case, every dose by one route: one running sum, exactly as `effectByRoute` adds it.
  const terms = effectTerms(kind, exposure, weightKg);
  return terms !== null ? termsEffect(terms, t) : sumOf(effectByRoute(kind, t, exposure, weightKg));
}

/**
 * One dose of an exposure as `totalEffect` reads it, its lookups done: the
 * relative dose (never 0), the route's normalisation and kernel.
 */
export interface EffectTerm {
  readonly route: Route;
  readonly start: number;
  readonly end: number;
  readonly rel: number;
  readonly norm: number;
  readonly shape: KernelShape;
}

/**
 * The doses of `exposure` that have an effect, resolved for `termsEffect`;
 * null when they are given by more than one route (`totalEffect` then sums
 * by route, in another order).
 */
export function effectTerms(kind: EffectKind, exposure: Exposure, weightKg: number): EffectTerm[] | null {
  const terms: EffectTerm[] = [];
  let route: Route | undefined;
  for (const d of exposure.doses) {
    const rel = relativeDose(d.drug, d.route, d.amount, d.unit, weightKg);
    if (rel === 0) continue;
    if (route !== undefined && d.route !== route) return null;
    route = d.route;
    terms.push({ route: d.route, start: d.start, end: d.end, rel, norm: referencePeak(d.route, kind).norm, shape: KERNELS[d.route][kind].value });
  }
  return terms;
}

/** The effect at `t` of resolved doses (`effectTerms`): `effectByRoute`'s one entry, added up term for term as it adds it. */
export function termsEffect(terms: readonly EffectTerm[], t: number): number {
  let s = 0;
  for (let i = 0; i < terms.length; i++) {
    const x = terms[i]!;
    if (x.start > t) continue;
    s += x.norm * segmentResponse(x.shape, t, x.start, x.end, x.rel);
  }
  return s;
}

function sumOf(by: Partial<Record<Route, number>>): number {
  let s = 0;
  for (const v of Object.values(by)) s += v ?? 0;
  return s;
}

/** The highest value of the Erlang density of `shape` (at its mode), padded up by a relative 1e-9 for rounding. */
function maxDensity(shape: KernelShape): number {
  const peak = shape.n <= 1 ? 1 / shape.theta : erlangPdf(shape.n, shape.theta, (shape.n - 1) * shape.theta);
  return peak * (1 + 1e-9);
}

/**
 * Bounds on `totalEffect(kind, t, e, weightKg)` for every t and every
 * exposure e delivering, of each dose of `envelope`, between none and all of
 * it (same drug, route, unit and start; an infusion segment cut short keeps
 * its rate). A dose's response never exceeds its amount times the kernel's
 * highest density (an infusion spreads the amount out), so each dose adds
 * between 0 and that much, on its sign's side; a small pad covers rounding
 * in `segmentResponse`'s difference of two distribution functions.
 */
export function effectBounds(kind: EffectKind, envelope: Exposure, weightKg: number): { lo: number; hi: number } {
  let lo = 0;
  let hi = 0;
  for (const d of envelope.doses) {
    const rel = relativeDose(d.drug, d.route, d.amount, d.unit, weightKg);
    if (rel === 0) continue;
    const norm = referencePeak(d.route, kind).norm;
    const most = norm * rel * maxDensity(KERNELS[d.route][kind].value);
    // |rate| × 1e-12 for a segment (its response is rate × a difference of two numbers in [0, 1]).
    const pad = Math.abs(norm * rel) * (d.end > d.start ? 1e-12 / (d.end - d.start) : 0) + 1e-12;
    if (most > 0) hi += most;
    else lo += most;
    lo -= pad;
    hi += pad;
  }
  return { lo, hi };
}
