/**
 * Arrays of one elements kind (see `generic` in the runtime's engine.ts):
 * an array that some sessions leave empty and others fill with objects
 * gets V8's generic kind from the start, so that optimized code meets one
 * kind only and is not thrown away when the first object arrives.
 */

const EMPTY_GENERIC: unknown[] = [null];
EMPTY_GENERIC.pop();

/**
 * An empty array of V8's generic elements kind: a copy of one such array,
 * not a literal here (one literal would be a single allocation site for
 * every such array, which V8 soon allocates straight in the old
 * generation, long-lived or not).
 */
export function generic<T>(): T[] {
  return EMPTY_GENERIC.slice() as T[];
}

/** `xs.filter(f)`, as a `generic` array. */
export function genericFilter<T>(xs: readonly T[], f: (x: T) => boolean): T[] {
  const out = generic<T>();
  for (let i = 0; i < xs.length; i++) if (f(xs[i]!)) out.push(xs[i]!);
  return out;
}
