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
  diagnostics.push(...checked.diagnostics);
  return {
    protocol: parsed.protocol,
    comments: parsed.comments,
    diagnostics: sortDiagnostics(diagnostics),
    symbols: checked.symbols,
  };
}
