export * from './ast.js';
export { parse, lex, type ParseResult, type ParseOptions, type Comment } from './parse.js';
export * from './diagnostics.js';
export * from './span.js';
export * from './units.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { analyze, type AnalyzeResult } from './analyze.js';
export {
  renderDiagnostic,
  renderDiagnostics,
  diagnosticToJson,
  diagnosticsToJson,
  summarize,
  type RenderOptions,
  type JsonDiagnostic,
  type JsonRange,
} from './render.js';
export { closest, editDistance } from './suggest.js';
export { format, printProtocol, printExpression, type FormatResult } from './format.js';
export {
  check,
  type CheckOptions,
  type CheckResult,
  type SymbolTable,
  type SessionSymbol,
  type SettingSymbol,
  type FlagSymbol,
  type RefKind,
  type ExprType,
} from './check.js';
