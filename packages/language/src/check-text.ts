/**
 * Text for checker messages: expressions printed back as the author would
 * write them, so that a message can quote `sbp > 180 bpm` and a hint can show
 * the corrected line.
 */
import type { Expr, Quantity } from './ast.js';

/** Longest expression quoted in a message; longer ones are "this condition". */
const MAX_QUOTE = 60;

export function showQuantity(q: Quantity): string {
  return q.unit ? `${q.text} ${q.unit.text}` : q.text;
}

/**
 * Prints an expression in source syntax. `override` replaces the text of
 * chosen subexpressions (used to show a corrected version in a hint).
 */
export function show(e: Expr, override?: (e: Expr) => string | undefined): string {
  const o = override?.(e);
  if (o !== undefined) return o;
  const s = (x: Expr): string => show(x, override);
  switch (e.kind) {
    case 'Quantity':
      return showQuantity(e);
    case 'Ref':
      return e.name.text;
    case 'Paused':
      return `${e.stage.text} paused`;
    case 'Observed':
      return `observed ${e.measure.text}`;
    case 'Baseline':
      return `baseline ${e.measure.text}`;
    case 'Caution':
      return `caution ${e.flag.text}`;
    case 'InStage':
      return `stage ${e.stage.text}`;
    case 'Elapsed':
      return 'elapsed';
    case 'Call':
      return `${e.callee.text}(${e.args.map(s).join(', ')})`;
    case 'Not':
      return `not ${s(e.operand)}`;
    case 'Neg':
      return `-${s(e.operand)}`;
    case 'Binary':
      return `${s(e.left)} ${e.op} ${s(e.right)}`;
    case 'Group':
      return `(${s(e.expr)})`;
    case 'For':
      return `${s(e.expr)} for ${showQuantity(e.duration)}`;
    case 'During':
      return `${s(e.expr)} during ${e.stages.map((n) => n.text).join(', ')}`;
    case 'Missing':
      return '…';
  }
}

/** The expression in backticks, or a plain description when it is too long to quote. */
export function quote(e: Expr, fallback = 'this expression'): string {
  const text = show(e);
  return text.length <= MAX_QUOTE && !text.includes('…') ? `\`${text}\`` : fallback;
}

/** `a`, `a or b`, `a, b or c` — for lists in hints. */
export function orList(words: readonly string[], conj: 'or' | 'and' = 'or', max = 6): string {
  const shown = words.slice(0, max).map((w) => `\`${w}\``);
  if (words.length > max) return `${shown.join(', ')}, …`;
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} ${conj} ${shown[shown.length - 1]}`;
}

/** "1 argument", "2 arguments". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
