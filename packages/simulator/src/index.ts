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
export { describeEmitted, showDose, type Described, type DescribeOptions, type Tone } from './describe.js';
export { showProfile, showVital, seedLine, type SearchOrigin } from './show.js';
export {
  emptyCoverage,
  traceCoverage,
  mergeCoverage,
  neverExercised,
  renderCoverage,
  type Coverage,
  type NeverExercised,
} from './coverage.js';
export {
  adversarialArbitrary,
  adversarialScenario,
  adversarialScenarioDetails,
  adversarialScenarioFromHeader,
  parseAdversarialParameters,
  plausibilityProblems,
  sessionEvents,
  givesKetamine,
  measureLimits,
  measureThresholds,
  resolveExcursion,
  AdversarialModelError,
  KIND_LIMITS,
  OTHER_LIMITS,
  MIN_PLATEAU_MINUTES,
  MAX_PLATEAU_MINUTES,
  MAX_RISE_EXTRA_MINUTES,
  MAX_MAGNITUDE_UNITS,
  MAX_AIM,
  MIN_ABSENCE_MINUTES,
  MAX_ABSENCE_MINUTES,
  DEFAULT_MAX_EXCURSIONS,
  DEFAULT_MAX_EVENTS,
  DEFAULT_MAX_ABSENCES,
  type AdversarialParameters,
  type AdversarialParticipant,
  type AdversarialExcursion,
  type AdversarialEvent,
  type AdversarialAbsence,
  type AdversarialOptions,
  type AdversarialScenarioDetails,
  type KindLimits,
  type MeasureLimits,
  type ResolvedExcursion,
} from './models/adversarial.js';
export {
  testProtocol,
  defaultTracePath,
  replayCommand,
  counterexampleSeedLine,
  shellQuote,
  TestError,
  DEFAULT_MAX_SHRINK_RUNS,
  SHRINK_CHECK_INTERVAL_MINUTES,
  type TestOptions,
  type TestProgress,
  type TestProgressRow,
  type TestReport,
  type PropertyTestResult,
  type Counterexample,
} from './search.js';
export {
  ALL_PARAMETERS,
  AMPLITUDE,
  KERNELS,
  REFERENCE_DOSE,
  PER_PATIENT,
  IV_PROFILES,
  listParameters,
  type Parameter,
  type CitedParameter,
  type ChosenParameter,
  type CalibrationRow as CalibrationRowId,
  type IvProfile,
  type EventKind,
} from './models/parameters.js';
export { calibratedModel, CalibratedModelError, plannedExposure, type CalibratedOptions } from './models/calibrated.js';
export { ParticipantPhysiology, vitalKind, type VitalKind } from './models/physiology.js';
export { eventNameFor, drugOnlyEvent, EVENT_NAME_PATTERNS, UNDOSED_EVENT_KINDS, type AdverseEvent } from './models/adverse.js';
export { staffRoster, staffAbsences, type StaffOptions } from './models/staff.js';
export { calibrationReport, renderCalibrationMarkdown, wilson, type CalibrationReport, type CalibrationRow, type CalibrationOptions } from './models/calibration.js';
export {
  testProtocolInWorker,
  testWorkerUrl,
  testOptionsOf,
  type TestWorkerOptions,
} from './search-worker.js';
export {
  runStats,
  accumulateStats,
  mergeAccumulators,
  statsFigures,
  statsSessionSeed,
  statsUnitSize,
  courseSessionSeed,
  statsWorkerUrl,
  StatsError,
  STATS_VERSION,
  STATS_CHUNK_SIZE,
  type StatsOptions,
  type StatsReport,
  type StatsShare,
  type StatsPerParticipant,
  type StatsCalibration,
  type StatsCalibrationRow,
  type StatsFigure,
  type StatsExample,
  type StatsAccumulator,
  type Moments,
  type Interval,
} from './stats.js';
