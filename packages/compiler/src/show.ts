/** IR expressions back to readable `.kap` text, for diagram labels. */
import type * as I from '@kapspec/runtime';

const PRECEDENCE: Record<string, number> = {
  implies: 1, or: 2, and: 3, '<': 5, '<=': 5, '>': 5, '>=': 5, '==': 5, '!=': 5, '+': 6, '-': 6, '*': 7, '/': 7,
};

function num(value: number, unit?: string): string {
  const v = Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
  if (!unit) return v;
  return unit === '%' ? `${v} %` : `${v} ${unit}`;
}

export function showExpr(e: I.Expr, parent = 0): string {
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
      const text = `${showExpr(e.expr, 1)} for ${num(e.minutes, 'min')}`;
      return parent > 0 ? `(${text})` : text;
    }
    case 'during': {
      const text = `${showExpr(e.expr, 1)} during ${e.stages.join(', ')}`;
      return parent > 0 ? `(${text})` : text;
    }
  }
}
