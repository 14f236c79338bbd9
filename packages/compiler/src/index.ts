export { compile, lower, type CompileOptions, type CompileResult } from './compile.js';
export { toMermaid, toDot, toXStateJson, selectSessions, TARGETS, type Target } from './export.js';
export { sessionGraph, type SessionGraph, type GraphNode, type GraphEdge } from './graph.js';
