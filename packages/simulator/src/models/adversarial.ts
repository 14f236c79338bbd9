/**
 * The `adversarial` participant model: fast-check arbitraries over
 * scenarios, for `testProtocol` (search.ts) to search for worst cases and
 * shrink a failing one to a small counterexample.
 *
 * A generated value is plain JSON (`AdversarialParameters`): small integers,
 * names and arrays, so fast-check's integer and array shrinkers do the
 * shrinking and a value can be shrunk without its generation context (the
 * search hands a failing value back to `fc.check` as an example). It maps
 * deterministically to a `Scenario` (`adversarialScenario`), whose header
 * parameters hold the value itself (`adversarial.parameters`), so a trace
 * can be replayed from its header (`adversarialScenarioFromHeader`).
 *
 * What is generated (per participant; a group protocol gets between its
 * declared minimum and maximum participants, shrinking toward the minimum):
 * - a profile inside the population's declared ranges: age (declared range,
 *   else POPULATION.ageRange), weight (POPULATION.weightRange), each declared
 *   `exclude`/`caution` flag (rare: 1 in 10, shrinking to absent);
 * - per declared measure a constant TRUE baseline, as an offset from a
 *   typical value (`MEASURE_LIMITS`), shrinking toward typical;
 * - up to `maxExcursions` EXCURSIONS: a trapezoid on one measure, up or down,
 *   with an onset minute, a rise (the steepest the rate limit allows plus
 *   `riseExtra` minutes; the fall mirrors the rise), a plateau of at least
 *   `MIN_PLATEAU_MINUTES` and a peak that is either `magnitude` units from
 *   baseline (`aim` 0) or `magnitude` units beyond the `aim`-th threshold the
 *   protocol compares that measure with (rules, gates, discharge, asserts,
 *   exclusions), nearest first — so the search tries surges that just cross
 *   the lines the protocol draws, and shrinks toward the smallest crossing;
 * - up to `maxEvents` discrete events: a declared event name at a minute
 *   (`sessionEvents`: in a session that gives no ketamine-like drug, only
 *   events that can happen without one, such as panic or a request to stop);
 * - (session-wide) staff called away and returning (`AdversarialOptions.staffAbsences`).
 * Minutes range over the session's planned length (`plannedLength`), or up to
 * the simulation's horizon when that is shorter (`sessionHorizonMinutes`).
 *
 * Plausibility (named limits, `MEASURE_LIMITS`): the true value of every
 * measure stays inside its band (the declared range intersected with a
 * physiological band) and never changes faster than the measure's
 * `maxRatePerMinute`; every excursion holds its peak for at least
 * `MIN_PLATEAU_MINUTES`. Construction guarantees it: each excursion's ramps
 * respect the rate; the excursions of a measure are summed into a TARGET
 * that saturates at the band; the true value follows the target minute by
 * minute no faster than the rate (a slew limit: only overlapping excursions
 * ever need it) and is linear between whole minutes. `plausibilityProblems`
 * checks a trace against the same limits.
 *
 * The truth ignores what the protocol delivers (no drug response: the
 * adversary decides the physiology), and readings are exact (no measurement
 * noise: the adversary's leverage is timing, not monitor error). Both are
 * documented simplifications, not clinical claims.
 */
import fc from 'fast-check';
import type { Expr, IR, Session } from '@kapspec/runtime';
import type { Physiology, Scenario, ScenarioParticipant } from '../model.js';
import type { Trace, TraceHeader, TraceParticipant } from '../trace.js';
import { sessionHorizonMinutes } from '../driver.js';
import { drugOnlyEvent } from './adverse.js';
import { plannedLength } from './calibrated.js';
import { potency } from './kinetics.js';
import { BASELINE, POPULATION } from './parameters.js';
import { vitalKind, type VitalKind } from './physiology.js';
import { staffRoster } from './staff.js';

// ── Named limits ─────────────────────────────────────────────────────────

/** Shortest time an excursion holds its peak (minutes): a surge or dip is a state that lasts, not a blip. */
export const MIN_PLATEAU_MINUTES = 3;
/** Longest plateau the search generates (minutes). */
export const MAX_PLATEAU_MINUTES = 45;
/** Most extra minutes of rise beyond the steepest plausible one. */
export const MAX_RISE_EXTRA_MINUTES = 15;
/** Largest `magnitude` (in measure units): from baseline, or beyond a threshold. */
export const MAX_MAGNITUDE_UNITS = 100;
/** Largest `aim` (thresholds are cycled through, nearest first). */
export const MAX_AIM = 4;
/** Shortest and longest staff absence (minutes). */
export const MIN_ABSENCE_MINUTES = 5;
export const MAX_ABSENCE_MINUTES = 60;
/** Defaults of `AdversarialOptions`. */
export const DEFAULT_MAX_EXCURSIONS = 3;
export const DEFAULT_MAX_EVENTS = 3;
export const DEFAULT_MAX_ABSENCES = 2;
/** Age and weight shrink toward these (clamped into the declared range). */
export const TYPICAL_AGE = 40;
export const TYPICAL_WEIGHT_KG = 80;

/** Physiological limits of one measure kind (chosen parameters, not published figures). */
export interface KindLimits {
  /** Largest change of the true value per minute. */
  readonly maxRatePerMinute: number;
  /** Largest excursion above / below baseline. */
  readonly maxRise: number;
  readonly maxDrop: number;
  /** Where a true value can be at all (intersected with the declared range). */
  readonly band: readonly [number, number];
  /** Baseline: typical value and how far (each way) a participant's may lie from it. */
  readonly typical: number;
  readonly spread: number;
}

const round = (x: number) => Math.round(x);

/**
 * Per vital kind (physiology.ts `vitalKind`). Typical baselines are the
 * calibrated model's population means (parameters.ts `BASELINE`), spreads
 * about 3 population SDs; rates, maximum excursions and bands are chosen
 * plausibility bounds (a hypertensive surge of 10 mmHg/min, a desaturation
 * of 4 %/min), documented here and recorded in every trace header.
 */
export const KIND_LIMITS: Readonly<Record<VitalKind, KindLimits>> = {
  sbp: { maxRatePerMinute: 10, maxRise: 100, maxDrop: 60, band: [60, 250], typical: round(BASELINE.sbpAt40.value), spread: round(3 * BASELINE.sbpSd.value) },
  dbp: { maxRatePerMinute: 6, maxRise: 60, maxDrop: 40, band: [30, 150], typical: round(BASELINE.dbpAt40.value), spread: 24 },
  map: { maxRatePerMinute: 8, maxRise: 70, maxDrop: 45, band: [40, 180], typical: round((BASELINE.sbpAt40.value + 2 * BASELINE.dbpAt40.value) / 3), spread: 25 },
  hr: { maxRatePerMinute: 20, maxRise: 80, maxDrop: 40, band: [30, 200], typical: round(BASELINE.hrMean.value), spread: round(3 * BASELINE.hrSd.value) },
  spo2: { maxRatePerMinute: 4, maxRise: 10, maxDrop: 35, band: [60, 100], typical: Math.floor(100 - BASELINE.spo2DeficitMean.value), spread: 3 },
  rr: { maxRatePerMinute: 4, maxRise: 20, maxDrop: 10, band: [4, 40], typical: round(BASELINE.rrMean.value), spread: round(3 * BASELINE.rrSd.value) },
  cadss: { maxRatePerMinute: 10, maxRise: 60, maxDrop: 10, band: [0, 92], typical: 0, spread: 6 },
};

/** Measures the model does not recognise: in percent of the declared range. */
export const OTHER_LIMITS = {
  /** One unit = this fraction of the declared range. */
  unitFraction: 0.01,
  maxRateUnitsPerMinute: 5,
  maxRiseUnits: 50,
  maxDropUnits: 50,
  spreadUnits: 10,
} as const;

/** The effective limits of one declared measure. */
export interface MeasureLimits {
  readonly measure: string;
  readonly kind: VitalKind | 'other';
  /** One step of a baseline offset or a `magnitude`. */
  readonly unit: number;
  readonly maxRatePerMinute: number;
  readonly maxRise: number;
  readonly maxDrop: number;
  readonly minPlateauMinutes: number;
  /** Declared range ∩ physiological band. */
  readonly band: readonly [number, number];
  readonly typical: number;
  /** Baseline offsets (in units) lie in [minOffset, maxOffset] (0 = typical). */
  readonly minOffset: number;
  readonly maxOffset: number;
}

/** The limits of every declared measure of `ir`. */
export function measureLimits(ir: IR): MeasureLimits[] {
  return ir.measures.map((m) => {
    const kind = vitalKind(m.name);
    if (kind === undefined) {
      const unit = (m.max - m.min) * OTHER_LIMITS.unitFraction || 1;
      const typical = (m.min + m.max) / 2;
      return {
        measure: m.name,
        kind: 'other',
        unit,
        maxRatePerMinute: OTHER_LIMITS.maxRateUnitsPerMinute * unit,
        maxRise: OTHER_LIMITS.maxRiseUnits * unit,
        maxDrop: OTHER_LIMITS.maxDropUnits * unit,
        minPlateauMinutes: MIN_PLATEAU_MINUTES,
        band: [m.min, m.max],
        typical,
        minOffset: -OTHER_LIMITS.spreadUnits,
        maxOffset: OTHER_LIMITS.spreadUnits,
      };
    }
    const k = KIND_LIMITS[kind];
    let lo = Math.max(m.min, k.band[0]);
    let hi = Math.min(m.max, k.band[1]);
    if (!(lo <= hi)) [lo, hi] = [m.min, m.max];
    const typical = Math.min(hi, Math.max(lo, k.typical));
    return {
      measure: m.name,
      kind,
      unit: 1,
      maxRatePerMinute: k.maxRatePerMinute,
      maxRise: k.maxRise,
      maxDrop: k.maxDrop,
      minPlateauMinutes: MIN_PLATEAU_MINUTES,
      band: [lo, hi],
      typical,
      minOffset: Math.ceil(Math.max(lo, k.typical - k.spread) - typical),
      maxOffset: Math.floor(Math.min(hi, k.typical + k.spread) - typical),
    };
  });
}

// ── Parameters (the generated values) ────────────────────────────────────

export interface AdversarialExcursion {
  readonly measure: string;
  readonly direction: 'up' | 'down';
  /** Minute the excursion starts. */
  readonly onset: number;
  /** Minutes of rise beyond the steepest the rate limit allows (the fall mirrors the rise). */
  readonly riseExtra: number;
  /** Minutes at the peak (≥ MIN_PLATEAU_MINUTES). */
  readonly plateau: number;
  /** 0: the peak is `magnitude` units from baseline; j ≥ 1: `magnitude` units beyond the j-th threshold in that direction (nearest first, cycling). */
  readonly aim: number;
  /** ≥ 1, in the measure's units. */
  readonly magnitude: number;
}

export interface AdversarialEvent {
  readonly t: number;
  readonly name: string;
}

export interface AdversarialParticipant {
  /** Years from TYPICAL_AGE (clamped into the declared range). */
  readonly ageOffset: number;
  /** Kilograms from TYPICAL_WEIGHT_KG. */
  readonly weightOffset: number;
  /** Each declared `exclude` / `caution` flag. */
  readonly flags: Readonly<Record<string, boolean>>;
  /** Baseline by measure, in units from the typical value. */
  readonly baseline: Readonly<Record<string, number>>;
  readonly excursions: readonly AdversarialExcursion[];
  readonly events: readonly AdversarialEvent[];
}

/**
 * One person of `role` called away: `gap` minutes after that person's
 * previous return (or the session start), for `minutes`. `person` counts the
 * role's people who may be called away (see `AdversarialOptions.staffAbsences`);
 * an absence of a person the roster does not have is inert.
 */
export interface AdversarialAbsence {
  readonly role: string;
  readonly person: number;
  readonly gap: number;
  readonly minutes: number;
}

export interface AdversarialParameters {
  readonly participants: readonly AdversarialParticipant[];
  /** Staff on duty beyond the declared minimum, by role (only roles with a declared maximum). */
  readonly extraStaff: Readonly<Record<string, number>>;
  readonly absences: readonly AdversarialAbsence[];
}

export interface AdversarialOptions {
  /** Session to generate for (default: the protocol's only session, else its first). */
  readonly session?: string;
  readonly maxExcursions?: number;
  readonly maxEvents?: number;
  readonly maxAbsences?: number;
  /**
   * Who may be called away: `spare` (default) only people beyond what the
   * session's staffing lines require (absences never break a line by
   * themselves, but shrink the pool `attend` draws on); `any`: anyone on
   * duty; `none`: no absences.
   */
  readonly staffAbsences?: 'spare' | 'any' | 'none';
}

export class AdversarialModelError extends Error {
  override readonly name = 'AdversarialModelError';
}

// ── Thresholds the protocol draws ────────────────────────────────────────

const COMPARE = new Set(['<', '<=', '>', '>=', '==', '!=']);

function collect(e: Expr | undefined, out: Map<string, Set<number>>): void {
  if (!e) return;
  switch (e.kind) {
    case 'binary': {
      if (COMPARE.has(e.op)) {
        const pairs: [Expr, Expr][] = [
          [e.left, e.right],
          [e.right, e.left],
        ];
        for (const [a, b] of pairs) {
          const m = a.kind === 'measure' ? a.name : a.kind === 'observed' ? a.measure : undefined;
          if (m !== undefined && b.kind === 'number') {
            let s = out.get(m);
            if (!s) out.set(m, (s = new Set()));
            s.add(b.value);
          }
        }
      }
      collect(e.left, out);
      collect(e.right, out);
      return;
    }
    case 'not':
    case 'neg':
      collect(e.operand, out);
      return;
    case 'for':
    case 'during':
      collect(e.expr, out);
      return;
    case 'call':
      for (const a of e.args) collect(a, out);
      return;
    default:
      return;
  }
}

/** Every number the session (and the population) compares each measure with, ascending. */
export function measureThresholds(ir: IR, session: Session): Map<string, number[]> {
  const out = new Map<string, Set<number>>();
  for (const r of session.rules) {
    collect(r.when, out);
    collect(r.resume, out);
  }
  for (const st of session.stages) for (const g of st.gates) collect(g.expr, out);
  collect(session.discharge?.expr, out);
  for (const a of session.asserts) {
    const p = a.property;
    if (p.kind === 'leadsTo') {
      collect(p.cause, out);
      collect(p.effect, out);
    } else collect(p.expr, out);
  }
  for (const x of ir.population?.excludeWhen ?? []) collect(x.expr, out);
  return new Map([...out].map(([k, v]) => [k, [...v].sort((a, b) => a - b)]));
}

// ── The arbitrary ────────────────────────────────────────────────────────

function pickSession(ir: IR, name: string | undefined): Session {
  const s = name === undefined ? ir.sessions[0] : ir.sessions.find((x) => x.name === name);
  if (!s) throw new AdversarialModelError(name === undefined ? 'the protocol declares no session' : `no session "${name}" in the protocol (sessions: ${ir.sessions.map((x) => x.name).join(', ')})`);
  return s;
}

/** True when `session` may give a ketamine-like drug: a stage administers one, or a rule gives one. */
export function givesKetamine(session: Session): boolean {
  return (
    session.stages.some((st) => st.administer.some((a) => potency(a.drug) > 0)) ||
    session.rules.some((r) => r.actions.some((a) => a.kind === 'give' && potency(a.drug) > 0))
  );
}

/**
 * The declared events the search sends in `session`, in declaration order:
 * every one where the session may give a ketamine-like drug (at any minute,
 * before the dose too, as the calibrated model's pre-dose nausea); in a
 * session without one, only those that are not drug effects alone
 * (`drugOnlyEvent`): nausea or dissociation at a screening visit would be a
 * finding about the model, not about the protocol.
 */
export function sessionEvents(ir: IR, session: Session): string[] {
  const names = ir.events.map((e) => e.name);
  return givesKetamine(session) ? names : names.filter((n) => !drugOnlyEvent(n));
}

function ageRange(ir: IR): readonly [number, number] {
  return ir.population?.age ? [ir.population.age.min, ir.population.age.max] : POPULATION.ageRange.value;
}

function participantRange(ir: IR): readonly [number, number] {
  return ir.setting.mode === 'group' ? [ir.setting.min, ir.setting.max] : [1, 1];
}

/** Declared flags a profile may carry: exclusions first, then cautions (deduplicated). */
function declaredFlags(ir: IR): string[] {
  const names = [...(ir.population?.exclude ?? []), ...(ir.population?.caution ?? [])].map((f) => f.flag);
  return [...new Set(names)];
}

/** Per role: [floor, ceiling] of the people on duty the session's staffing lines allow with `n` participants. */
function staffBounds(session: Session, role: string, n: number): [number, number] {
  let floor = 0;
  let ceiling = Number.POSITIVE_INFINITY;
  for (const l of session.staffing) {
    if (l.role !== role) continue;
    const c = l.perParticipants !== undefined ? l.count * Math.ceil(n / l.perParticipants) : l.count;
    switch (l.op) {
      case '>=':
        floor = Math.max(floor, c);
        break;
      case '>':
        floor = Math.max(floor, c + 1);
        break;
      case '==':
        floor = Math.max(floor, c);
        ceiling = Math.min(ceiling, c);
        break;
      case '<=':
        ceiling = Math.min(ceiling, c);
        break;
      case '<':
        ceiling = Math.min(ceiling, c - 1);
        break;
      case '!=':
        break;
    }
  }
  return [floor, ceiling];
}

/** Extra staff a role may have on duty (declared maximum − minimum; roles scaled per participants get none). */
function extraRoom(ir: IR, role: string): number {
  const r = ir.roles.find((x) => x.name === role);
  if (!r || r.max === undefined || r.perParticipants !== undefined) return 0;
  return Math.max(0, r.max - r.min);
}

/** People of each role who may be called away, with `n` participants and `extra` staff. */
function callable(ir: IR, session: Session, n: number, extra: Readonly<Record<string, number>>, mode: 'spare' | 'any' | 'none'): Record<string, number> {
  const roster = staffRoster(ir, n);
  const out: Record<string, number> = {};
  for (const r of ir.roles) {
    const present = (roster[r.name] ?? 0) + (extra[r.name] ?? 0);
    out[r.name] = mode === 'none' ? 0 : mode === 'any' ? present : Math.max(0, present - staffBounds(session, r.name, n)[0]);
  }
  return out;
}

/** Extra staff that keeps every `==`/`<=`/`<` line satisfied at `n` participants. */
function allowedExtra(ir: IR, session: Session, role: string, n: number, wanted: number): number {
  const roster = staffRoster(ir, n)[role] ?? 0;
  const ceiling = staffBounds(session, role, n)[1];
  return Math.max(0, Math.min(wanted, extraRoom(ir, role), ceiling - roster));
}

/** `[]`, shrinkable without context (`fc.constant([])` is not: it compares by identity). */
function none<T>(): fc.Arbitrary<T[]> {
  return fc.array(fc.constant(0), { maxLength: 0 }) as unknown as fc.Arbitrary<T[]>;
}

/** Weight of a measure that some assert reads, against 1 for the others: the search leans on what the properties talk about. */
export const ASSERTED_MEASURE_WEIGHT = 3;

function assertedMeasures(session: Session): Set<string> {
  const names = new Set<string>();
  const walk = (e: Expr | undefined): void => {
    if (!e) return;
    switch (e.kind) {
      case 'measure':
        names.add(e.name);
        return;
      case 'observed':
      case 'baseline':
        names.add(e.measure);
        return;
      case 'binary':
        walk(e.left);
        walk(e.right);
        return;
      case 'not':
      case 'neg':
        walk(e.operand);
        return;
      case 'for':
      case 'during':
        walk(e.expr);
        return;
      case 'call':
        e.args.forEach(walk);
        return;
      default:
        return;
    }
  };
  for (const a of session.asserts) {
    const p = a.property;
    if (p.kind === 'leadsTo') {
      walk(p.cause);
      walk(p.effect);
    } else walk(p.expr);
  }
  return names;
}

/** A weighted boolean that is rare and shrinks to false. */
const rareFlag = () => fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(false), weight: 9 }, { arbitrary: fc.constant(true), weight: 1 });

/**
 * The arbitrary of `AdversarialParameters` for `session` of `ir`. Every
 * generated value (and every shrink of one) maps to a plausible scenario.
 */
export function adversarialArbitrary(ir: IR, options: AdversarialOptions = {}): fc.Arbitrary<AdversarialParameters> {
  const session = pickSession(ir, options.session);
  // Nothing after the simulation's horizon is ever reached (and a session too long to simulate is refused here).
  const horizon = Math.max(1, Math.ceil(Math.min(plannedLength(session), sessionHorizonMinutes(session))));
  const limits = measureLimits(ir);
  const [nMin, nMax] = participantRange(ir);
  const [aMin, aMax] = ageRange(ir);
  const typicalAge = Math.min(aMax, Math.max(aMin, TYPICAL_AGE));
  const [wMin, wMax] = POPULATION.weightRange.value;
  const maxExcursions = options.maxExcursions ?? DEFAULT_MAX_EXCURSIONS;
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const maxAbsences = options.maxAbsences ?? DEFAULT_MAX_ABSENCES;
  const mode = options.staffAbsences ?? 'spare';

  const asserted = assertedMeasures(session);
  const thresholds = measureThresholds(ir, session);
  const flags = declaredFlags(ir);
  const flagArb = fc.record(Object.fromEntries(flags.map((f) => [f, rareFlag()])) as Record<string, fc.Arbitrary<boolean>>);
  const baselineArb = fc.record(Object.fromEntries(limits.map((l) => [l.measure, fc.integer({ min: Math.min(0, l.minOffset), max: Math.max(0, l.maxOffset) })])) as Record<string, fc.Arbitrary<number>>);
  // Measure and direction are drawn together, weighted toward what the protocol looks at: a measure
  // some assert reads weighs ASSERTED_MEASURE_WEIGHT (else 1), a direction 1 + the number of
  // thresholds that lie that way from the typical baseline.
  const excursionArb = (): fc.Arbitrary<AdversarialExcursion> =>
    fc.oneof(
      { withCrossShrink: true },
      ...limits.flatMap((l) =>
        (['up', 'down'] as const).map((direction) => {
          const cs = thresholds.get(l.measure) ?? [];
          const lean = 1 + cs.filter((c) => (direction === 'up' ? c > l.typical : c < l.typical)).length;
          return {
            weight: (asserted.has(l.measure) ? ASSERTED_MEASURE_WEIGHT : 1) * lean,
            arbitrary: fc.record({
              measure: fc.constant(l.measure),
              direction: fc.constant(direction),
              onset: fc.integer({ min: 0, max: horizon }),
              riseExtra: fc.integer({ min: 0, max: MAX_RISE_EXTRA_MINUTES }),
              plateau: fc.integer({ min: MIN_PLATEAU_MINUTES, max: MAX_PLATEAU_MINUTES }),
              aim: fc.integer({ min: 0, max: MAX_AIM }),
              magnitude: fc.integer({ min: 1, max: MAX_MAGNITUDE_UNITS }),
            }),
          };
        }),
      ),
    );
  const eventNames = sessionEvents(ir, session);
  const eventArb = (): fc.Arbitrary<AdversarialEvent> => fc.record({ t: fc.integer({ min: 0, max: horizon }), name: fc.constantFrom(...eventNames) });
  // Key order is shrink order: what makes a counterexample long (events, excursions) goes first,
  // so a limited shrink budget is spent there before the profile.
  const participantArb: fc.Arbitrary<AdversarialParticipant> = fc.record({
    events: eventNames.length === 0 ? none<AdversarialEvent>() : fc.array(eventArb(), { maxLength: maxEvents }),
    excursions: limits.length === 0 ? none<AdversarialExcursion>() : fc.array(excursionArb(), { maxLength: maxExcursions }),
    baseline: baselineArb,
    flags: flagArb,
    ageOffset: fc.integer({ min: aMin - typicalAge, max: aMax - typicalAge }),
    weightOffset: fc.integer({ min: wMin - TYPICAL_WEIGHT_KG, max: wMax - TYPICAL_WEIGHT_KG }),
  });

  const extraRoles = ir.roles.filter((r) => extraRoom(ir, r.name) > 0);
  const extraArb = fc.record(Object.fromEntries(extraRoles.map((r) => [r.name, fc.integer({ min: 0, max: extraRoom(ir, r.name) })])) as Record<string, fc.Arbitrary<number>>);
  // Roles that could ever have someone to call away, and the most people any of them could.
  let maxPeople = 0;
  const callableRoles: string[] = [];
  if (mode !== 'none') {
    for (const r of ir.roles) {
      let most = 0;
      for (let n = nMin; n <= nMax; n++) most = Math.max(most, callable(ir, session, n, { [r.name]: extraRoom(ir, r.name) }, mode)[r.name] ?? 0);
      if (most > 0) callableRoles.push(r.name);
      maxPeople = Math.max(maxPeople, most);
    }
  }
  const absenceArb: fc.Arbitrary<AdversarialAbsence[]> =
    callableRoles.length === 0 || maxAbsences === 0
      ? none<AdversarialAbsence>()
      : fc.array(
          fc.record({
            role: fc.constantFrom(...callableRoles),
            person: fc.integer({ min: 0, max: maxPeople - 1 }),
            gap: fc.integer({ min: 0, max: horizon }),
            minutes: fc.integer({ min: MIN_ABSENCE_MINUTES, max: MAX_ABSENCE_MINUTES }),
          }),
          { maxLength: maxAbsences },
        );

  // No bias: fast-check's bias toward small integers would crowd onsets into the first minutes
  // and magnitudes toward 1; shrinking (not generation) is what makes values small.
  return fc.noBias(
    fc.record({
      participants: fc.array(participantArb, { minLength: nMin, maxLength: nMax }),
      extraStaff: extraArb,
      absences: absenceArb,
    }),
  );
}

// ── Parameters → scenario ────────────────────────────────────────────────

/** One excursion resolved against a baseline: signed amplitude and its time points. */
export interface ResolvedExcursion {
  readonly measure: string;
  /** Signed change at the plateau (0: the excursion has no room and does nothing). */
  readonly amplitude: number;
  readonly onset: number;
  readonly rise: number;
  readonly plateau: number;
  /** Minute it is over (onset + 2 × rise + plateau). */
  readonly end: number;
}

/** The peak an excursion aims at, then its amplitude within the measure's limits. */
export function resolveExcursion(x: AdversarialExcursion, baseline: number, l: MeasureLimits, thresholds: readonly number[]): ResolvedExcursion {
  const up = x.direction === 'up';
  let peak: number;
  const beyond = thresholds.filter((c) => (up ? c > baseline : c < baseline)).sort((a, b) => Math.abs(a - baseline) - Math.abs(b - baseline));
  if (x.aim > 0 && beyond.length > 0) {
    const c = beyond[(x.aim - 1) % beyond.length]!;
    peak = up ? c + x.magnitude * l.unit : c - x.magnitude * l.unit;
  } else peak = up ? baseline + x.magnitude * l.unit : baseline - x.magnitude * l.unit;
  // Within the measure's maximum excursion and band.
  peak = up ? Math.min(peak, baseline + l.maxRise, l.band[1]) : Math.max(peak, baseline - l.maxDrop, l.band[0]);
  const amplitude = up ? Math.max(0, peak - baseline) : Math.min(0, peak - baseline);
  const steepest = Math.max(1, Math.ceil(Math.abs(amplitude) / l.maxRatePerMinute - 1e-9));
  const rise = steepest + x.riseExtra;
  const plateau = Math.max(l.minPlateauMinutes, x.plateau);
  return { measure: x.measure, amplitude, onset: x.onset, rise, plateau, end: x.onset + 2 * rise + plateau };
}

function trapezoid(t: number, x: ResolvedExcursion): number {
  const u = t - x.onset;
  if (u <= 0 || x.amplitude === 0) return 0;
  if (u < x.rise) return (x.amplitude * u) / x.rise;
  if (u <= x.rise + x.plateau) return x.amplitude;
  const d = u - x.rise - x.plateau;
  if (d < x.rise) return x.amplitude * (1 - d / x.rise);
  return 0;
}

/**
 * One measure's true curve: whole-minute values (target = baseline + the
 * excursions, saturated at the band; followed no faster than the rate),
 * linear in between, flat after the last.
 */
function curve(baseline: number, xs: readonly ResolvedExcursion[], l: MeasureLimits): Float64Array {
  const clampBand = (v: number) => Math.min(l.band[1], Math.max(l.band[0], v));
  if (xs.every((x) => x.amplitude === 0)) return Float64Array.of(baseline);
  const last = Math.max(...xs.map((x) => x.end));
  const values: number[] = [baseline];
  let v = baseline;
  for (let k = 1; ; k++) {
    let target = baseline;
    for (const x of xs) target += trapezoid(k, x);
    target = clampBand(target);
    const step = Math.max(-l.maxRatePerMinute, Math.min(l.maxRatePerMinute, target - v));
    v = v + step;
    // Snap float drift so a finished curve lands exactly on its target.
    if (Math.abs(v - target) < 1e-9) v = target;
    values.push(v);
    if (k >= last && v === baseline) break;
  }
  return Float64Array.from(values);
}

function valueAt(c: Float64Array, t: number): number {
  if (!(t > 0)) return c[0]!;
  const k = Math.floor(t);
  if (k >= c.length - 1) return c[c.length - 1]!;
  const f = t - k;
  return f === 0 ? c[k]! : c[k]! + (c[k + 1]! - c[k]!) * f;
}

/** The adversarial physiology: exact readings, truth independent of exposure. */
class AdversarialPhysiology implements Physiology {
  private readonly names: string[];
  constructor(private readonly curves: ReadonlyMap<string, Float64Array>) {
    this.names = [...curves.keys()];
  }
  truth(t: number): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of this.names) out[n] = valueAt(this.curves.get(n)!, t);
    return out;
  }
  measure(_measure: string, value: number): number {
    return value;
  }
}

/** Header parameter keys. */
export const PARAMETERS_KEY = 'adversarial.parameters';
export const LIMITS_KEY = 'adversarial.limits';
export const OPTIONS_KEY = 'adversarial.options';

/** Stable JSON (keys sorted) for header parameters. */
function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

export interface AdversarialScenarioDetails {
  readonly scenario: Scenario;
  /** Each participant's excursions as resolved (amplitudes, minutes). */
  readonly excursions: readonly (readonly ResolvedExcursion[])[];
}

/** The scenario of `params` (deterministic), with the resolved excursions. */
export function adversarialScenarioDetails(ir: IR, params: AdversarialParameters, options: AdversarialOptions = {}): AdversarialScenarioDetails {
  const session = pickSession(ir, options.session);
  sessionHorizonMinutes(session); // refuses a session too long to simulate, as the arbitrary does
  const limits = measureLimits(ir);
  const byName = new Map(limits.map((l) => [l.measure, l]));
  const thresholds = measureThresholds(ir, session);
  const [aMin, aMax] = ageRange(ir);
  const typicalAge = Math.min(aMax, Math.max(aMin, TYPICAL_AGE));
  const [nMin, nMax] = participantRange(ir);
  const n = params.participants.length;
  if (n < nMin || n > nMax) throw new AdversarialModelError(`${n} participants: the protocol takes ${nMin === nMax ? nMin : `${nMin} to ${nMax}`}`);
  const declaredEvents = new Set(ir.events.map((e) => e.name));
  const flagNames = new Set(declaredFlags(ir));

  const resolved: ResolvedExcursion[][] = [];
  const participants: ScenarioParticipant[] = params.participants.map((p, i) => {
    const id = `p${i + 1}`;
    const baseline: Record<string, number> = {};
    for (const l of limits) {
      const off = p.baseline[l.measure] ?? 0;
      baseline[l.measure] = Math.min(l.band[1], Math.max(l.band[0], l.typical + off * l.unit));
    }
    const xs: ResolvedExcursion[] = [];
    for (const x of p.excursions) {
      const l = byName.get(x.measure);
      if (!l) throw new AdversarialModelError(`participant ${id}: excursion on "${x.measure}", which the protocol does not declare`);
      xs.push(resolveExcursion(x, baseline[l.measure]!, l, thresholds.get(l.measure) ?? []));
    }
    resolved.push(xs);
    const curves = new Map<string, Float64Array>();
    for (const l of limits) curves.set(l.measure, curve(baseline[l.measure]!, xs.filter((x) => x.measure === l.measure), l));
    for (const e of p.events) if (!declaredEvents.has(e.name)) throw new AdversarialModelError(`participant ${id}: event "${e.name}" is not declared`);
    const flags = Object.keys(p.flags).filter((f) => p.flags[f] === true);
    for (const f of flags) if (!flagNames.has(f)) throw new AdversarialModelError(`participant ${id}: flag "${f}" is not declared`);
    const profile: TraceParticipant = {
      id,
      age: Math.min(aMax, Math.max(aMin, typicalAge + p.ageOffset)),
      weightKg: TYPICAL_WEIGHT_KG + p.weightOffset,
      baseline,
      flags,
    };
    const events = [...p.events].sort((a, b) => a.t - b.t).map((e) => ({ t: e.t, name: e.name }));
    return { profile, physiology: new AdversarialPhysiology(curves), events };
  });

  // Staff: the declared roster (extra staff where allowed), then absences laid out per person.
  const mode = options.staffAbsences ?? 'spare';
  const roster = staffRoster(ir, n);
  const extra: Record<string, number> = {};
  for (const r of ir.roles) {
    const e = allowedExtra(ir, session, r.name, n, params.extraStaff[r.name] ?? 0);
    if (e > 0) extra[r.name] = e;
  }
  const staffAtStart: Record<string, number> = {};
  for (const r of ir.roles) staffAtStart[r.name] = (roster[r.name] ?? 0) + (extra[r.name] ?? 0);
  const can = callable(ir, session, n, extra, mode);
  const cursor = new Map<string, number>();
  const staff: { t: number; action: 'arrive' | 'leave'; role: string }[] = [];
  for (const a of params.absences) {
    if (!ir.roles.some((r) => r.name === a.role)) throw new AdversarialModelError(`absence of role "${a.role}", which the protocol does not declare`);
    if (a.person >= (can[a.role] ?? 0)) continue; // inert: the roster has no such person to call away
    const key = `${a.role}#${a.person}`;
    const leave = (cursor.get(key) ?? 0) + a.gap;
    const back = leave + Math.max(MIN_ABSENCE_MINUTES, a.minutes);
    cursor.set(key, back);
    staff.push({ t: leave, action: 'leave', role: a.role }, { t: back, action: 'arrive', role: a.role });
  }
  staff.sort((a, b) => a.t - b.t || (a.action === b.action ? 0 : a.action === 'arrive' ? -1 : 1) || (a.role < b.role ? -1 : a.role > b.role ? 1 : 0));

  const limitRecord = Object.fromEntries(limits.map((l) => [l.measure, { band: l.band, maxRatePerMinute: l.maxRatePerMinute, maxRise: l.maxRise, maxDrop: l.maxDrop, minPlateauMinutes: l.minPlateauMinutes, unit: l.unit }]));
  const scenario: Scenario = {
    participants,
    staff,
    staffAtStart,
    parameters: {
      [PARAMETERS_KEY]: stableJson(params),
      [OPTIONS_KEY]: stableJson({ session: session.name, staffAbsences: mode }),
      [LIMITS_KEY]: stableJson(limitRecord),
      'adversarial.excursions': resolved.reduce((s, xs) => s + xs.filter((x) => x.amplitude !== 0).length, 0),
      'adversarial.events': participants.reduce((s, p) => s + p.events.length, 0),
      'adversarial.absences': staff.length / 2,
    },
    model: 'adversarial',
  };
  return { scenario, excursions: resolved };
}

/** The scenario of `params` (deterministic). */
export function adversarialScenario(ir: IR, params: AdversarialParameters, options: AdversarialOptions = {}): Scenario {
  return adversarialScenarioDetails(ir, params, options).scenario;
}

// ── Replay from a trace header ───────────────────────────────────────────

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

function bad(what: string): never {
  throw new AdversarialModelError(`the trace header's "${PARAMETERS_KEY}" is not adversarial parameters: ${what}`);
}

/** Reads and checks the `AdversarialParameters` a trace header records (a named error, never a guess). */
export function parseAdversarialParameters(json: string): AdversarialParameters {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    bad('not JSON');
  }
  if (!isObj(v) || !Array.isArray(v['participants']) || !isObj(v['extraStaff']) || !Array.isArray(v['absences'])) bad('needs participants, extraStaff and absences');
  (v['participants'] as unknown[]).forEach((p, i) => {
    if (!isObj(p) || !isInt(p['ageOffset']) || !isInt(p['weightOffset']) || !isObj(p['flags']) || !isObj(p['baseline']) || !Array.isArray(p['excursions']) || !Array.isArray(p['events'])) {
      bad(`participant ${i + 1} is malformed`);
    }
    for (const x of p['excursions'] as unknown[]) {
      if (!isObj(x) || typeof x['measure'] !== 'string' || (x['direction'] !== 'up' && x['direction'] !== 'down') || !['onset', 'riseExtra', 'plateau', 'aim', 'magnitude'].every((k) => isInt(x[k]))) {
        bad(`an excursion of participant ${i + 1} is malformed`);
      }
    }
    for (const e of p['events'] as unknown[]) if (!isObj(e) || typeof e['name'] !== 'string' || !isInt(e['t'])) bad(`an event of participant ${i + 1} is malformed`);
  });
  for (const a of v['absences'] as unknown[]) {
    if (!isObj(a) || typeof a['role'] !== 'string' || !['person', 'gap', 'minutes'].every((k) => isInt(a[k]))) bad('an absence is malformed');
  }
  return v as unknown as AdversarialParameters;
}

/** The scenario a trace of the adversarial model was made from (for `kapspec replay`). */
export function adversarialScenarioFromHeader(ir: IR, header: TraceHeader): Scenario {
  const raw = header.parameters[PARAMETERS_KEY];
  if (header.model !== 'adversarial' || typeof raw !== 'string') throw new AdversarialModelError(`the trace was not made by the adversarial model (model ${header.model}, no "${PARAMETERS_KEY}")`);
  const opts = header.parameters[OPTIONS_KEY];
  let options: AdversarialOptions = { session: header.session };
  if (typeof opts === 'string') {
    try {
      const o = JSON.parse(opts) as { staffAbsences?: AdversarialOptions['staffAbsences'] };
      if (o.staffAbsences !== undefined) options = { ...options, staffAbsences: o.staffAbsences };
    } catch {
      throw new AdversarialModelError(`the trace header's "${OPTIONS_KEY}" is not JSON`);
    }
  }
  return adversarialScenario(ir, parseAdversarialParameters(raw), options);
}

// ── Plausibility ─────────────────────────────────────────────────────────

/**
 * Where `trace`'s true values break the named limits of `ir`'s measures:
 * outside the band, or changing faster than `maxRatePerMinute` between two
 * truth samples; and any event that is a drug effect alone in a session that
 * gives no ketamine-like drug (`sessionEvents`). Empty for every adversarial
 * trace.
 */
export function plausibilityProblems(ir: IR, trace: Trace): string[] {
  const limits = new Map(measureLimits(ir).map((l) => [l.measure, l]));
  const last = new Map<string, { t: number; v: number }>();
  const out: string[] = [];
  const session = ir.sessions.find((s) => s.name === trace.header.session);
  const events = session === undefined ? undefined : new Set(sessionEvents(ir, session));
  for (const r of trace.records) {
    if (r.type === 'event' && events !== undefined && !events.has(r.name)) {
      out.push(`${r.participant ?? trace.header.participants[0]?.id ?? 'the participant'}: event "${r.name}" at ${r.t} min is a drug effect, in session ${trace.header.session}, which gives no ketamine-like drug`);
    }
    if (r.type !== 'truth') continue;
    for (const [m, v] of Object.entries(r.values)) {
      const l = limits.get(m);
      if (!l) continue;
      if (v < l.band[0] - 1e-9 || v > l.band[1] + 1e-9) out.push(`${r.participant} ${m} = ${v} at ${r.t} min is outside ${l.band[0]}..${l.band[1]}`);
      const key = `${r.participant}|${m}`;
      const prev = last.get(key);
      if (prev && r.t > prev.t) {
        const rate = Math.abs(v - prev.v) / (r.t - prev.t);
        if (rate > l.maxRatePerMinute + 1e-6) out.push(`${r.participant} ${m} changes ${rate.toFixed(3)}/min between ${prev.t} and ${r.t} min (limit ${l.maxRatePerMinute}/min)`);
      }
      last.set(key, { t: r.t, v });
    }
  }
  return out;
}
