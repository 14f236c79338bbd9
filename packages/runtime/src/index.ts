export * from './ir.js';
export { loadIR, safeLoadIR, IRError, type IRErrorCode, type SafeLoadResult } from './load.js';
export { irSchema } from './schema.js';
export {
  createProtocolMachine,
  nextDeadline,
  sessionState,
  SessionOptionsError,
  type ProtocolMachine,
  type ProtocolMachineOptions,
  type GroupProtocolMachine,
  type GroupMachineOptions,
  type SessionOptionsErrorCode,
} from './machine.js';
export { createSessionEngine, type SessionEngine, type IndividualEngine, type GroupEngine } from './session-engine.js';
export type { ParticipantProfile, ParticipantState, QuietRange, SessionContext, SessionState, Violation } from './engine.js';
export type { GroupContext, GroupParticipant, GroupSessionState, Member } from './group.js';
export { populationExclusion } from './engine.js';
export {
  createCourseMachine,
  courseInitial,
  courseStart,
  courseApply,
  validateCourseEvent,
  type CourseMachine,
  type CourseMachineOptions,
  type CourseContext,
  type CourseInEvent,
  type CourseEmitted,
  type CourseOutput,
  type HeldSession,
  type RefusalCode,
  type SessionRequestEvent,
  type SessionDoneEvent,
  type CourseEndEvent,
} from './course.js';
export {
  validateEvent,
  type EventCheck,
  type InputError,
  type InputErrorCode,
  type ProtocolInEvent,
  type MeasureEvent,
  type ObservationEvent,
  type StaffEvent,
  type ProtocolEmitted,
  type MeasureRequest,
  type NotifyOut,
  type GiveOut,
  type ReduceOut,
  type AdministerOut,
  type AttendOut,
  type EscalateOut,
  type StageOut,
  type RuleFiredOut,
  type StaffingViolationOut,
  type InputRejectedOut,
  type SessionOutput,
  type GroupOutput,
} from './events.js';
export { showExpr, showProperty, showMinutes, showNumber, showTime } from './show.js';
export { childrenOf, numericOp } from './eval.js';
export { staffRequired, staffCompare } from './staffing.js';
