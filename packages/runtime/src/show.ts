/**
 * IR expressions, properties and times back to readable `.kap` text: for
 * messages, diagrams, vignettes and apps that show a rule's condition.
 *
 * Parentheses follow the language's binding levels (docs/language.md,
 * "Precedence"): the printer adds only the ones the parser needs to read the
 * same tree back (`implies` groups to the right, comparisons do not chain, the
 * other binary operators group to the left, `for`/`during` qualify the whole
 * condition before them). The one addition beyond that is in the properties
 * with `within`: a condition that `within` follows is parenthesized unless it
 * binds at least as tightly as a comparison, so `… implies (a or not b)
 * within 5 min` cannot be read as `a or (not b within 5 min)`.
 */
import type { Expr, Property } from './ir.js';

/** Binding levels, loosest first, as in the parser. */
const Level = {
  Condition: 0,
  Implies: 1,
  Or: 2,
  And: 3,
  Not: 4,
  Compare: 5,
  Add: 6,
  Mul: 7,
  Neg: 8,
  Atom: 9,
} as const;
type Level = (typeof Level)[keyof typeof Level];

const BINARY_LEVEL: Record<string, Level> = {
  implies: Level.Implies,
  or: Level.Or,
  and: Level.And,
  '<': Level.Compare,
  '<=': Level.Compare,
  '>': Level.Compare,
  '>=': Level.Compare,
  '==': Level.Compare,
  '!=': Level.Compare,
  '+': Level.Add,
  '-': Level.Add,
  '*': Level.Mul,
  '/': Level.Mul,
};

function levelOf(e: Expr): Level {
  switch (e.kind) {
    case 'for':
    case 'during':
      return Level.Condition;
    case 'not':
      return Level.Not;
    case 'neg':
      return Level.Neg;
    case 'binary':
      return BINARY_LEVEL[e.op] ?? Level.Condition;
    default:
      return Level.Atom;
  }
}

export function showNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}

function num(value: number, unit?: string): string {
  const v = Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  return unit ? `${v} ${unit}` : v;
}

/** Minutes as `.kap` text: `5 min`, `4 h`. */
export function showMinutes(m: number): string {
  if (m >= 60 && m % 60 === 0) return `${m / 60} h`;
  return `${showNumber(m)} min`;
}

/** A session time: `t+45 min`. */
export function showTime(t: number): string {
  return `t+${showNumber(t)} min`;
}

/** An expression as `.kap` text, with the parentheses it needs to read back as the same tree. */
export function showExpr(e: Expr): string {
  return show(e, Level.Condition);
}

/** Prints `e` so that it parses back where the grammar expects binding level `min` or tighter. */
function show(e: Expr, min: Level): string {
  const text = bare(e);
  return levelOf(e) < min ? `(${text})` : text;
}

function bare(e: Expr): string {
  switch (e.kind) {
    case 'measure':
    case 'event':
    case 'role':
    case 'drug':
    case 'outcome':
      return e.name;
    case 'inStage':
      return e.stage;
    case 'paused':
      return `${e.stage} paused`;
    case 'observed':
      return `observed ${e.measure}`;
    case 'baseline':
      return `baseline ${e.measure}`;
    case 'caution':
      return `caution ${e.flag}`;
    case 'elapsed':
      return 'elapsed';
    case 'number':
      return num(e.value, e.unit);
    case 'call':
      // `during a, b` would take the next argument for a stage: parenthesize it unless it is last.
      return `${e.fn}(${e.args.map((a, i) => show(a, a.kind === 'during' && i < e.args.length - 1 ? Level.Implies : Level.Condition)).join(', ')})`;
    case 'not':
      return `not ${show(e.operand, Level.Not)}`;
    case 'neg':
      return `-${show(e.operand, Level.Neg)}`;
    case 'binary': {
      const own = levelOf(e);
      // `implies` groups to the right, comparisons do not chain, the rest group to the left.
      const [l, r]: [Level, Level] =
        own === Level.Implies ? [Level.Or, Level.Implies] : own === Level.Compare ? [Level.Add, Level.Add] : [own, (own + 1) as Level];
      return `${show(e.left, l)} ${e.op} ${show(e.right, r)}`;
    }
    case 'for':
      return `${show(e.expr, Level.Condition)} for ${showMinutes(e.minutes)}`;
    case 'during':
      return `${show(e.expr, Level.Condition)} during ${e.stages.join(', ')}`;
  }
}

/** A condition followed by `within T`: in parentheses unless it binds at least as tightly as a comparison. */
function beforeWithin(e: Expr): string {
  return show(e, Level.Compare);
}

/** A property as `.kap` text (the part after the assert's name). */
export function showProperty(p: Property): string {
  switch (p.kind) {
    case 'always':
      return `always ${showExpr(p.expr)}`;
    case 'never':
      return `never ${showExpr(p.expr)}`;
    case 'eventually':
      return `eventually ${beforeWithin(p.expr)} within ${showMinutes(p.within)}`;
    case 'leadsTo':
      return `${show(p.cause, Level.Or)} implies ${beforeWithin(p.effect)} within ${showMinutes(p.within)}`;
  }
}
