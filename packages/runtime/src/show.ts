/**
 * IR expressions, properties and times back to readable `.kap` text: for
 * messages, diagrams, vignettes and apps that show a rule's condition.
 */
import type { Expr, Property } from './ir.js';

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
