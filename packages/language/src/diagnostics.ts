/**
 * The diagnostic registry: every problem kapspec can report, one code each,
 * banded by the stage that finds it.
 *
 *   KAP1xxx  syntax (lexer, parser, resource limits)
 *   KAP2xxx  names (declarations and references)
 *   KAP3xxx  units, types and protocol semantics
 *
 * Later stages add their own bands (KAP4xxx compile, KAP5xxx run time).
 * Messages are one sentence, present tense, names in backticks; a remedy goes
 * in the hint.
 */
import type { Span } from './span.js';

export type Severity = 'error' | 'warning';

export interface DiagnosticInfo {
  readonly severity: Severity;
  /** Short kebab-case title, stable; used to name golden fixtures. */
  readonly title: string;
}

export const DIAGNOSTIC_CODES = {
  // ── KAP1xxx syntax ────────────────────────────────────────────────────
  /** A character that starts no token (`@`, `é`, a stray `.`). */
  KAP1001: { severity: 'error', title: 'unexpected-character' },
  /** A string literal with no closing quote on its line. */
  KAP1002: { severity: 'error', title: 'unterminated-string' },
  /** The parser expected one thing and found another. */
  KAP1003: { severity: 'error', title: 'unexpected-token' },
  /** Nothing that may start here starts with this token. */
  KAP1004: { severity: 'error', title: 'unexpected-item' },
  /** Text after the end of the protocol block. */
  KAP1005: { severity: 'error', title: 'trailing-input' },
  /** A `{` or `(` that is never closed. */
  KAP1006: { severity: 'error', title: 'unclosed-delimiter' },
  /** A `}` or `)` with nothing to close. */
  KAP1007: { severity: 'error', title: 'unmatched-delimiter' },
  /** A block comment with no closing `*\/`. */
  KAP1008: { severity: 'error', title: 'unterminated-comment' },
  /** A reserved word (keyword or unit) used as a declared name. */
  KAP1009: { severity: 'error', title: 'reserved-word' },
  /** The source is larger than the parser accepts. */
  KAP1010: { severity: 'error', title: 'file-too-large' },
  /** Parentheses or expressions nested deeper than the parser accepts. */
  KAP1011: { severity: 'error', title: 'nesting-too-deep' },
  /** More declarations than the checker accepts. */
  KAP1012: { severity: 'error', title: 'too-many-declarations' },
  /** `1 < sbp < 3`: comparisons written as a chain. */
  KAP1014: { severity: 'error', title: 'chained-comparison' },
  /** A number that is not finite or not a whole number where one is needed. */
  KAP1013: { severity: 'error', title: 'invalid-number' },
  /** A file that is not text: NUL bytes, bytes that are not UTF-8, or many control characters. */
  KAP1015: { severity: 'error', title: 'not-text' },

  // ── KAP2xxx names ─────────────────────────────────────────────────────
  /** A name declared twice in the same scope. */
  KAP2001: { severity: 'error', title: 'duplicate-declaration' },
  /** A name that is not declared. */
  KAP2002: { severity: 'error', title: 'unknown-name' },
  /** A section (`roles`, `setting`, …) written twice. */
  KAP2003: { severity: 'error', title: 'duplicate-section' },
  /** A name of the wrong kind (a role where a stage is expected, …). */
  KAP2004: { severity: 'error', title: 'wrong-kind-of-name' },
  /** An unknown function in an expression. */
  KAP2005: { severity: 'error', title: 'unknown-function' },
  // KAP2006 (unknown unit) is retired: unit words are tokens, so an unknown
  // unit is a syntax error (KAP1003) and the checker never sees one.

  // ── KAP3xxx units, types and semantics ────────────────────────────────
  /** Two quantities of different dimensions compared or combined. */
  KAP3001: { severity: 'error', title: 'unit-mismatch' },
  /** A quantity of the wrong dimension (a dose where a time is needed). */
  KAP3002: { severity: 'error', title: 'wrong-dimension' },
  /** A number without the unit its position needs. */
  KAP3003: { severity: 'error', title: 'missing-unit' },
  /** A yes/no condition was needed and a value was found, or the reverse. */
  KAP3004: { severity: 'error', title: 'type-mismatch' },
  /** A range whose lower bound is above its upper bound. */
  KAP3005: { severity: 'error', title: 'empty-range' },
  /** A threshold outside the measure's declared possible range. */
  KAP3006: { severity: 'warning', title: 'threshold-out-of-range' },
  /** A declared event that no rule handles. */
  KAP3007: { severity: 'warning', title: 'unhandled-event' },
  /** A measure that a rule reads but the session never measures. */
  KAP3008: { severity: 'warning', title: 'measure-never-observed' },
  /** A stage that no transition can reach. */
  KAP3009: { severity: 'warning', title: 'unreachable-stage' },
  /** An assert that mentions nothing observable. */
  KAP3010: { severity: 'warning', title: 'assert-observes-nothing' },
  /** An assert written without a temporal form. */
  KAP3011: { severity: 'error', title: 'malformed-assert' },
  /** A construct used where it has no meaning (an outcome in a rule, `observed` in `population`, …). */
  KAP3012: { severity: 'error', title: 'misplaced-construct' },
  /** A count, interval or duration that is zero or negative. */
  KAP3013: { severity: 'error', title: 'non-positive-quantity' },
  /** A group-only construct in an individual protocol, or the reverse. */
  KAP3014: { severity: 'warning', title: 'setting-mismatch' },
  /** A protocol with no session, or a session with no stage. */
  KAP3015: { severity: 'error', title: 'empty-protocol' },
  /** Wrong number of arguments to a function. */
  KAP3016: { severity: 'error', title: 'wrong-arity' },
  /** A redundant construct with no effect (`observed` in a rule). */
  KAP3017: { severity: 'warning', title: 'redundant-construct' },

  // ── KAP4xxx compile ───────────────────────────────────────────────────
  /** One drug dosed in both mass and weight-based units. */
  KAP4001: { severity: 'error', title: 'inconsistent-dose-units' },
  /** A monitoring line whose first time falls after its stage has ended. */
  KAP4002: { severity: 'warning', title: 'monitor-never-fires' },
  /** A stage that can last more than a day (`LONG_STAGE_MINUTES`): most likely a unit slip. */
  KAP4003: { severity: 'warning', title: 'stage-longer-than-a-day' },
} as const satisfies Record<string, DiagnosticInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export interface RelatedSpan {
  readonly span: Span;
  readonly message: string;
}

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  readonly message: string;
  /** Offsets into the source text (end exclusive). */
  readonly span: Span;
  readonly related?: readonly RelatedSpan[];
  readonly hint?: string;
}

export function diagnostic(
  code: DiagnosticCode,
  message: string,
  span: Span,
  extra: { hint?: string; related?: RelatedSpan[] } = {},
): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = {
    code,
    severity: DIAGNOSTIC_CODES[code].severity,
    message,
    span,
  };
  if (extra.related && extra.related.length > 0) d.related = extra.related;
  if (extra.hint !== undefined) d.hint = extra.hint;
  return d;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sort by position, then code, so output order is stable. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => a.span.start - b.span.start || a.span.end - b.span.end || a.code.localeCompare(b.code),
  );
}
