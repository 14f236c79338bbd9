/** Expressions, properties and times as readable text (messages, vignettes, coverage). */
import type { Expr, Property } from '@kapspec/runtime';

const PRECEDENCE: Record<string, number> = {
  implies: 1, or: 2, and: 3, '<': 5, '<=': 5, '>': 5, '>=': 5, '==': 5, '!=': 5, '+': 6, '-': 6, '*': 7, '/': 7,
};

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

export function showExpr(e: Expr, parent = 0): string {
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
      return `${e.fn}(${e.args.map((a) => showExpr(a)).join(', ')})`;
    case 'not':
      return `not ${showExpr(e.operand, 4)}`;
    case 'neg':
      return `-${showExpr(e.operand, 8)}`;
    case 'binary': {
      const p = PRECEDENCE[e.op] ?? 0;
      const text = `${showExpr(e.left, p)} ${e.op} ${showExpr(e.right, p + 1)}`;
      return p < parent ? `(${text})` : text;
    }
    case 'for': {
      const text = `${showExpr(e.expr, 1)} for ${showMinutes(e.minutes)}`;
      return parent > 0 ? `(${text})` : text;
    }
    case 'during': {
      const text = `${showExpr(e.expr, 1)} during ${e.stages.join(', ')}`;
      return parent > 0 ? `(${text})` : text;
    }
  }
}

export function showProperty(p: Property): string {
  switch (p.kind) {
    case 'always':
      return `always ${showExpr(p.expr, 1)}`;
    case 'never':
      return `never ${showExpr(p.expr, 1)}`;
    case 'eventually':
      return `eventually ${showExpr(p.expr, 1)} within ${showMinutes(p.within)}`;
    case 'leadsTo':
      return `${showExpr(p.cause, 2)} implies ${showExpr(p.effect, 2)} within ${showMinutes(p.within)}`;
  }
}

/** Measures an expression reads (true or observed). */
export function measuresIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'measure':
      out.add(e.name);
      break;
    case 'observed':
    case 'baseline':
      out.add(e.measure);
      break;
    case 'call':
      e.args.forEach((a) => measuresIn(a, out));
      break;
    case 'not':
    case 'neg':
      measuresIn(e.operand, out);
      break;
    case 'binary':
      measuresIn(e.left, out);
      measuresIn(e.right, out);
      break;
    case 'for':
    case 'during':
      measuresIn(e.expr, out);
      break;
    default:
      break;
  }
  return out;
}

/** Event names an expression mentions (as an atom or as `count(event)`). */
export function eventsIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  switch (e.kind) {
    case 'event':
      out.add(e.name);
      break;
    case 'call':
      e.args.forEach((a) => eventsIn(a, out));
      break;
    case 'not':
    case 'neg':
      eventsIn(e.operand, out);
      break;
    case 'binary':
      eventsIn(e.left, out);
      eventsIn(e.right, out);
      break;
    case 'for':
    case 'during':
      eventsIn(e.expr, out);
      break;
    default:
      break;
  }
  return out;
}
