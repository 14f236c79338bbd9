/** Expressions, properties and times as readable text (messages, vignettes, coverage). */
import type { Expr } from '@kapspec/runtime';
export { showExpr, showMinutes, showNumber, showProperty, showTime } from '@kapspec/runtime';

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
