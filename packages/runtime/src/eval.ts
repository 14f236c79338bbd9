/**
 * Interprets IR expressions. No code is generated from IR content.
 *
 * Values are three-valued: a number, a boolean, or `null` for "unknown"
 * (a measure never observed, a baseline not given, a division by zero).
 * Comparisons with an unknown are unknown; `and`/`or`/`not` follow Kleene
 * logic; a rule fires, a gate passes and discharge happens only on `true`.
 */
import type { CompareOp, Expr } from './ir.js';

export type Value = number | boolean | null;

export interface EvalEnv {
  measure(name: string): number | null;
  baseline(name: string): number | null;
  caution(flag: string): boolean;
  /** The event observed at this instant, if any. */
  eventNow(name: string): boolean;
  inStage(stage: string): boolean;
  paused(stage: string): boolean;
  outcome(name: string): boolean;
  elapsed(): number;
  present(role: string): number;
  free(role: string): number;
  dose(drug: string): number;
  count(event: string): number;
  /**
   * `for`: report whether the condition holds now; returns whether it has
   * held since at least `minutes` ago. `key` identifies the node.
   */
  sustained(key: string, holds: boolean, minutes: number): boolean;
}

const num = (v: Value): number | null => (typeof v === 'number' ? v : null);
const bool = (v: Value): boolean | null => (typeof v === 'boolean' ? v : null);

function and(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  if (a === null || b === null) return null;
  return true;
}
function or(a: boolean | null, b: boolean | null): boolean | null {
  if (a === true || b === true) return true;
  if (a === null || b === null) return null;
  return false;
}
const not = (a: boolean | null): boolean | null => (a === null ? null : !a);

/**
 * Evaluates `e`. Both sides of `and`/`or` are always evaluated so that every
 * `for` node sees every evaluation (its "held since" tracking stays exact).
 */
export function evaluate(e: Expr, env: EvalEnv, key = ''): Value {
  switch (e.kind) {
    case 'measure':
      return env.measure(e.name);
    case 'observed':
      return env.measure(e.measure);
    case 'baseline':
      return env.baseline(e.measure);
    case 'event':
      return env.eventNow(e.name);
    case 'inStage':
      return env.inStage(e.stage);
    case 'paused':
      return env.paused(e.stage);
    case 'outcome':
      return env.outcome(e.name);
    case 'caution':
      return env.caution(e.flag);
    case 'elapsed':
      return env.elapsed();
    case 'number':
      return e.value;
    case 'role':
    case 'drug':
      return null;
    case 'call': {
      const a0 = e.args[0];
      const name = a0 && (a0.kind === 'role' || a0.kind === 'drug' || a0.kind === 'event') ? a0.name : '';
      switch (e.fn) {
        case 'present':
          return env.present(name);
        case 'free':
          return env.free(name);
        case 'dose':
          return env.dose(name);
        case 'count':
          return env.count(name);
        case 'max':
        case 'min': {
          const a = num(evaluate(e.args[0]!, env, `${key}.0`));
          const b = num(evaluate(e.args[1]!, env, `${key}.1`));
          if (a === null || b === null) return null;
          return e.fn === 'max' ? Math.max(a, b) : Math.min(a, b);
        }
      }
      return null;
    }
    case 'not':
      return not(bool(evaluate(e.operand, env, `${key}.n`)));
    case 'neg': {
      const v = num(evaluate(e.operand, env, `${key}.n`));
      return v === null ? null : -v;
    }
    case 'binary': {
      const l = evaluate(e.left, env, `${key}.l`);
      const r = evaluate(e.right, env, `${key}.r`);
      switch (e.op) {
        case 'and':
          return and(bool(l), bool(r));
        case 'or':
          return or(bool(l), bool(r));
        case 'implies':
          return or(not(bool(l)), bool(r));
        case '==':
        case '!=': {
          if (l === null || r === null || typeof l !== typeof r) return null;
          return e.op === '==' ? l === r : l !== r;
        }
        default: {
          const a = num(l);
          const b = num(r);
          if (a === null || b === null) return null;
          return numericOp(e.op)(a, b);
        }
      }
      return null;
    }
    case 'for': {
      const holds = evaluate(e.expr, env, `${key}.f`) === true;
      return env.sustained(key, holds, e.minutes);
    }
    case 'during': {
      const inside = e.stages.some((s) => env.inStage(s));
      const v = evaluate(e.expr, env, `${key}.d`);
      return inside ? v : false;
    }
  }
}

/** An expression prepared by `compileExpr`: evaluates it as `evaluate(e, env, key)` does. */
export type CompiledExpr = (env: EvalEnv) => Value;

/**
 * Prepares `e` for repeated evaluation: a tree of closures with the `for`
 * keys worked out once, giving exactly what `evaluate(e, env, key)` gives
 * (same values, same calls to `env`, in the same order) without walking the
 * IR or building key strings on every call. The IR is interpreted, never
 * turned into code: the closures are fixed functions of this file.
 */
export function compileExpr(e: Expr, key = ''): CompiledExpr {
  switch (e.kind) {
    case 'measure': {
      const n = e.name;
      return (env) => env.measure(n);
    }
    case 'observed': {
      const n = e.measure;
      return (env) => env.measure(n);
    }
    case 'baseline': {
      const n = e.measure;
      return (env) => env.baseline(n);
    }
    case 'event': {
      const n = e.name;
      return (env) => env.eventNow(n);
    }
    case 'inStage': {
      const n = e.stage;
      return (env) => env.inStage(n);
    }
    case 'paused': {
      const n = e.stage;
      return (env) => env.paused(n);
    }
    case 'outcome': {
      const n = e.name;
      return (env) => env.outcome(n);
    }
    case 'caution': {
      const n = e.flag;
      return (env) => env.caution(n);
    }
    case 'elapsed':
      return (env) => env.elapsed();
    case 'number': {
      const v = e.value;
      return () => v;
    }
    case 'role':
    case 'drug':
      return () => null;
    case 'call': {
      const a0 = e.args[0];
      const name = a0 && (a0.kind === 'role' || a0.kind === 'drug' || a0.kind === 'event') ? a0.name : '';
      switch (e.fn) {
        case 'present':
          return (env) => env.present(name);
        case 'free':
          return (env) => env.free(name);
        case 'dose':
          return (env) => env.dose(name);
        case 'count':
          return (env) => env.count(name);
        case 'max':
        case 'min': {
          const fa = compileExpr(e.args[0]!, `${key}.0`);
          const fb = compileExpr(e.args[1]!, `${key}.1`);
          const max = e.fn === 'max';
          return (env) => {
            const a = num(fa(env));
            const b = num(fb(env));
            if (a === null || b === null) return null;
            return max ? Math.max(a, b) : Math.min(a, b);
          };
        }
      }
      return () => null;
    }
    case 'not': {
      const f = compileExpr(e.operand, `${key}.n`);
      return (env) => not(bool(f(env)));
    }
    case 'neg': {
      const f = compileExpr(e.operand, `${key}.n`);
      return (env) => {
        const v = num(f(env));
        return v === null ? null : -v;
      };
    }
    case 'binary': {
      const fl = compileExpr(e.left, `${key}.l`);
      const fr = compileExpr(e.right, `${key}.r`);
      switch (e.op) {
        case 'and':
          return (env) => {
            const l = fl(env);
            return and(bool(l), bool(fr(env)));
          };
        case 'or':
          return (env) => {
            const l = fl(env);
            return or(bool(l), bool(fr(env)));
          };
        case 'implies':
          return (env) => {
            const l = fl(env);
            return or(not(bool(l)), bool(fr(env)));
          };
        case '==':
        case '!=': {
          const eq = e.op === '==';
          return (env) => {
            const l = fl(env);
            const r = fr(env);
            if (l === null || r === null || typeof l !== typeof r) return null;
            return eq ? l === r : l !== r;
          };
        }
        default: {
          // The common `sbp > 180`: the number inline, the comparison written out.
          if (e.right.kind === 'number') {
            const k = e.right.value;
            const num1 = (env: EvalEnv) => num(fl(env));
            switch (e.op) {
              case '<':
                return (env) => {
                  const a = num1(env);
                  return a === null ? null : a < k;
                };
              case '<=':
                return (env) => {
                  const a = num1(env);
                  return a === null ? null : a <= k;
                };
              case '>':
                return (env) => {
                  const a = num1(env);
                  return a === null ? null : a > k;
                };
              case '>=':
                return (env) => {
                  const a = num1(env);
                  return a === null ? null : a >= k;
                };
            }
          }
          const op = numericOp(e.op);
          return (env) => {
            const a = num(fl(env));
            const b = num(fr(env));
            if (a === null || b === null) return null;
            return op(a, b);
          };
        }
      }
    }
    case 'for': {
      const f = compileExpr(e.expr, `${key}.f`);
      const minutes = e.minutes;
      return (env) => env.sustained(key, f(env) === true, minutes);
    }
    case 'during': {
      const f = compileExpr(e.expr, `${key}.d`);
      const stages = e.stages;
      return (env) => {
        const inside = stages.some((s) => env.inStage(s));
        const v = f(env);
        return inside ? v : false;
      };
    }
  }
}

const NUMERIC: Readonly<Record<string, (a: number, b: number) => number | boolean | null>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => (b === 0 ? null : a / b),
};
const NO_VALUE = () => null;

/**
 * A comparison or arithmetic operator on two numbers: a boolean, a number,
 * or null (division by zero; an operator that is not numeric). The one
 * definition the runtime's evaluators and the simulator's property checker
 * share.
 */
export function numericOp(op: string): (a: number, b: number) => number | boolean | null {
  return NUMERIC[op] ?? NO_VALUE;
}

/** The sub-expressions of `e` (operands, arguments, the body of `for` and `during`), in order. */
export function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'call':
      return e.args;
    case 'not':
    case 'neg':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    case 'for':
    case 'during':
      return [e.expr];
    default:
      return [];
  }
}

/** Measures an expression reads (gates wait for these to be observed). */
export function measuresOf(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'measure') out.add(e.name);
  else if (e.kind === 'observed') out.add(e.measure);
  for (const c of childrenOf(e)) measuresOf(c, out);
  return out;
}

/**
 * What an expression's value can depend on, for skipping a re-evaluation
 * that cannot change it (engine.ts `evaluateAll`): the measures it reads
 * (their values and, for `baseline`, the first reading); the stage, pause
 * or outcome (`in`, `paused`, `outcome`, `during`); the event of this
 * instant or the event counts; and whether it can change with nothing but
 * time or staff (`elapsed`, `dose`, `present`, `free`, `for`, which also
 * remembers since when): such an expression is `volatile`, always
 * evaluated. `caution` flags, numbers, roles and drugs never change.
 */
export interface Reads {
  readonly measures: Set<string>;
  stage: boolean;
  events: boolean;
  volatile: boolean;
}

export function readsOf(e: Expr, out: Reads = { measures: new Set(), stage: false, events: false, volatile: false }): Reads {
  switch (e.kind) {
    case 'measure':
      out.measures.add(e.name);
      break;
    case 'observed':
    case 'baseline':
      out.measures.add(e.measure);
      break;
    case 'event':
      out.events = true;
      break;
    case 'inStage':
    case 'paused':
    case 'outcome':
    case 'during':
      out.stage = true;
      break;
    case 'elapsed':
    case 'for':
      out.volatile = true;
      break;
    case 'call':
      if (e.fn === 'count') out.events = true;
      else if (e.fn === 'dose' || e.fn === 'present' || e.fn === 'free') out.volatile = true;
      break;
    case 'caution':
    case 'number':
    case 'role':
    case 'drug':
    case 'not':
    case 'neg':
    case 'binary':
      break;
    default: {
      const never: never = e;
      // An expression kind this analysis does not know: always evaluate it.
      out.volatile = never !== undefined;
    }
  }
  for (const c of childrenOf(e)) readsOf(c, out);
  return out;
}

/** Whether an expression mentions any event (`when panic`; not `count(panic)`). */
export function mentionsEvent(e: Expr): boolean {
  if (e.kind === 'event') return true;
  if (e.kind === 'call' && e.fn === 'count') return false;
  return childrenOf(e).some(mentionsEvent);
}

/** Minutes `m` for which an expression compares `elapsed` with the number `m`: times worth waking at. */
export function elapsedThresholds(e: Expr, out: Set<number> = new Set()): Set<number> {
  if (e.kind === 'binary') {
    if (e.left.kind === 'elapsed' && e.right.kind === 'number') out.add(e.right.value);
    if (e.right.kind === 'elapsed' && e.left.kind === 'number') out.add(e.left.value);
  }
  for (const c of childrenOf(e)) elapsedThresholds(c, out);
  return out;
}

/**
 * The value of comparing `l` with `r` by `op`, exactly as a compiled
 * comparison computes it from its two operands' values.
 */
export function compareValues(op: CompareOp, l: Value, r: Value): Value {
  if (op === '==' || op === '!=') {
    if (l === null || r === null || typeof l !== typeof r) return null;
    return op === '==' ? l === r : l !== r;
  }
  const a = num(l);
  const b = num(r);
  if (a === null || b === null) return null;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/**
 * One place where an expression reads a measure's latest value: compared
 * with a value fixed for the session (numbers, baselines, arithmetic and
 * `max`/`min` of those). For a reading, the comparison's value is
 * `compareValues(op, reading, other(env))`.
 */
export interface ReadingAtom {
  /** The comparison with the reading on the left (written the other way round, the operator is turned: `90 > spo2` is `spo2 < 90`). */
  readonly op: CompareOp;
  /** The other operand's value. */
  readonly other: (env: EvalEnv) => Value;
  /** `other` reads `env` (it is not a number). */
  readonly readsEnv: boolean;
}

const TURNED: Readonly<Record<CompareOp, CompareOp>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

const COMPARISONS: ReadonlySet<string> = new Set<CompareOp>(['<', '<=', '>', '>=', '==', '!=']);
const ARITHMETIC: ReadonlySet<string> = new Set(['+', '-', '*', '/']);

const readsMeasure = (e: Expr, measure: string): boolean => (e.kind === 'measure' && e.name === measure) || (e.kind === 'observed' && e.measure === measure);

/**
 * A value that stays the same all session once known: a baseline is the
 * profile's or the first reading's, set once.
 */
function fixedForSession(e: Expr): boolean {
  switch (e.kind) {
    case 'number':
    case 'baseline':
      return true;
    case 'neg':
      return fixedForSession(e.operand);
    case 'binary':
      return ARITHMETIC.has(e.op) && fixedForSession(e.left) && fixedForSession(e.right);
    case 'call':
      return (e.fn === 'max' || e.fn === 'min') && e.args.every(fixedForSession);
    default:
      return false;
  }
}

/**
 * Collects into `out` every place `e` reads `measure`'s latest value and
 * returns true, when each of them compares the reading with a value fixed
 * for the session (`spo2 < 90`, `sbp <= max(baseline sbp + 10, 140)`):
 * then `e`'s value depends on the reading only through which side of each
 * such value it falls. False when `e` reads the measure any other way
 * (`sbp - dbp > 60`): no such shortcut.
 */
export function readingAtoms(e: Expr, measure: string, out: ReadingAtom[]): boolean {
  if (readsMeasure(e, measure)) return false;
  if (e.kind === 'binary' && COMPARISONS.has(e.op)) {
    const op = e.op as CompareOp;
    if (readsMeasure(e.left, measure) && fixedForSession(e.right)) {
      out.push(atom(op, e.right, true));
      return true;
    }
    if (readsMeasure(e.right, measure) && fixedForSession(e.left)) {
      out.push(atom(op, e.left, false));
      return true;
    }
  }
  return childrenOf(e).every((c) => readingAtoms(c, measure, out));
}

function atom(op: CompareOp, other: Expr, readingLeft: boolean): ReadingAtom {
  const turned = readingLeft ? op : TURNED[op];
  // The common case (`spo2 < 90`): nothing to read.
  if (other.kind === 'number') {
    const k = other.value;
    return { op: turned, other: () => k, readsEnv: false };
  }
  return { op: turned, other: compileExpr(other), readsEnv: true };
}

/**
 * Whether `e`'s value can change between two instants at which nothing
 * happens to the session (no input, no deadline due): false when it reads
 * `elapsed` other than as `elapsed >= n` or `elapsed < n` (which change at
 * a deadline), the dose of a drug in `continuous` (delivered over time), or,
 * unless `events`, an event of the instant. Stage, staff, counts and `for`
 * windows only change at inputs and deadlines.
 */
export function steadyBetweenSteps(e: Expr, continuous: ReadonlySet<string>, events: boolean): boolean {
  switch (e.kind) {
    case 'elapsed':
      return false;
    case 'event':
      return events;
    case 'call':
      if (e.fn === 'dose') {
        const a0 = e.args[0];
        return !(a0 !== undefined && (a0.kind === 'drug' || a0.kind === 'role' || a0.kind === 'event') && continuous.has(a0.name));
      }
      break;
    case 'binary':
      // `elapsed >= 120` turns true at minute 120 and `elapsed < 120` false
      // there: a deadline of the engine. `elapsed > 120` (or `<=`, `==`)
      // changes just after it, at whatever step comes next.
      if ((e.left.kind === 'elapsed' && e.right.kind === 'number' && (e.op === '>=' || e.op === '<')) || (e.right.kind === 'elapsed' && e.left.kind === 'number' && (e.op === '<=' || e.op === '>'))) return true;
      break;
    default:
      break;
  }
  return childrenOf(e).every((c) => steadyBetweenSteps(c, continuous, events));
}
