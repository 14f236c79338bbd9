/** Expressions, properties and times as readable text (messages, vignettes, coverage). */
import { childrenOf, type Expr } from '@kapspec/runtime';
export { showExpr, showMinutes, showNumber, showProperty, showTime } from '@kapspec/runtime';

/** Measures an expression reads (true or observed). */
export function measuresIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'measure') out.add(e.name);
  else if (e.kind === 'observed' || e.kind === 'baseline') out.add(e.measure);
  for (const c of childrenOf(e)) measuresIn(c, out);
  return out;
}

/** Event names an expression mentions (as an atom or as `count(event)`). */
export function eventsIn(e: Expr, out: Set<string> = new Set()): Set<string> {
  if (e.kind === 'event') out.add(e.name);
  for (const c of childrenOf(e)) eventsIn(c, out);
  return out;
}
