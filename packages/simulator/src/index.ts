export * from './trace.js';
export type * from './model.js';
