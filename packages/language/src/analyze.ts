/**
 * The whole front end in one call: parse, then check. This is what `kapspec
 * check` runs and what the compiler starts from.
 */
import type { Protocol } from './ast.js';
import { sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { parse, type Comment, type ParseOptions } from './parse.js';

export interface AnalyzeResult {
  readonly protocol: Protocol | undefined;
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
}

export function analyze(text: string, options: ParseOptions = {}): AnalyzeResult {
  const parsed = parse(text, options);
  const diagnostics: Diagnostic[] = [...parsed.diagnostics];
  // The checker runs here once it exists (it also runs on a tree with syntax
  // errors, so that one pass reports every independent mistake).
  return { protocol: parsed.protocol, comments: parsed.comments, diagnostics: sortDiagnostics(diagnostics) };
}
