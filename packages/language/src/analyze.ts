/**
 * The whole front end in one call: parse, then check. This is what `kapspec
 * check` runs and what the compiler starts from.
 */
import type { Protocol } from './ast.js';
import { check, type SymbolTable } from './check.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { parse, type Comment, type ParseOptions } from './parse.js';

export interface AnalyzeResult {
  readonly protocol: Protocol | undefined;
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
  /** Declarations and name resolution; present whenever `protocol` is. */
  readonly symbols?: SymbolTable;
}

export function analyze(text: string, options: ParseOptions = {}): AnalyzeResult {
  const parsed = parse(text, options);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  // The checker also runs on a tree with syntax errors, so that one pass
  // reports every independent mistake; it then skips "something is missing"
  // checks, since the missing part may be the one the parser dropped.
  if (parsed.protocol === undefined) {
    return { protocol: undefined, comments: parsed.comments, diagnostics: sortDiagnostics(diagnostics) };
  }
  const checked = check(parsed.protocol, { partial: hasErrors(parsed.diagnostics) });
  // Where the parser reported a syntax error and recovered, the tree is a
  // guess; what the checker finds there would repeat the error or follow
  // from the guess. So would what it finds about a name written in such a
  // stretch (a declaration the parser skipped makes every use "unknown"),
  // and "needs a unit" about a number that a syntax error directly follows
  // (`2 hours`: the error is the unit).
  const syntaxErrorsAt = new Set(parsed.diagnostics.filter((d) => d.code.startsWith('KAP1')).map((d) => d.span.start));
  const afterSpace = (offset: number): number => {
    const space = /\s*/y;
    space.lastIndex = offset;
    space.exec(text);
    return space.lastIndex;
  };
  const unread = (d: Diagnostic): boolean =>
    parsed.recovered.some((r) => d.span.start < r.end && Math.max(d.span.end, d.span.start + 1) > r.start) ||
    parsed.unreadNames.has(text.slice(d.span.start, d.span.end)) ||
    (d.code === 'KAP3003' && syntaxErrorsAt.has(afterSpace(d.span.end)));
  diagnostics.push(...checked.diagnostics.filter((d) => !unread(d)));
  return {
    protocol: parsed.protocol,
    comments: parsed.comments,
    diagnostics: sortDiagnostics(diagnostics),
    symbols: checked.symbols,
  };
}
