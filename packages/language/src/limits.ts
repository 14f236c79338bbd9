/**
 * Resource limits. A file beyond them gets a clear diagnostic instead of a
 * hang or a stack overflow. They are generous for real protocols (a large
 * multi-session protocol is a few hundred lines) and can be raised per call.
 */
export interface Limits {
  /** Characters of source text. */
  readonly maxSourceLength: number;
  /** Nested parentheses in one expression. */
  readonly maxNestingDepth: number;
  /** Depth of one expression tree (operators chained or nested). */
  readonly maxExpressionDepth: number;
  /** Declarations in one file: sessions, stages, rules, asserts, measures, events, roles, drugs. */
  readonly maxDeclarations: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxSourceLength: 8 * 1024 * 1024,
  maxNestingDepth: 64,
  maxExpressionDepth: 256,
  maxDeclarations: 100_000,
};
