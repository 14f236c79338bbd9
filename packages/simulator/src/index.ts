export * from './trace.js';
export type * from './model.js';
export * from './rng.js';
export * from './driver.js';
export * from './trace-io.js';
export * from './scripted.js';
export {
  checkProperties,
  BUILTIN_NAMES,
  type BuiltinName,
  type CheckOptions,
  type PropertyResult,
  type PropertyStatus,
  type Witness,
} from './properties.js';
export { renderVignette, type VignetteOptions } from './vignette.js';
export {
  emptyCoverage,
  traceCoverage,
  mergeCoverage,
  neverExercised,
  renderCoverage,
  type Coverage,
  type NeverExercised,
} from './coverage.js';
