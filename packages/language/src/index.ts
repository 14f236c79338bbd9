export * from './ast.js';
export { parse, lex, type ParseResult, type ParseOptions, type Comment } from './parse.js';
export * from './diagnostics.js';
export * from './span.js';
export * from './units.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
