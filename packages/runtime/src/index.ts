export * from './ir.js';
export { loadIR, safeLoadIR, IRError, type IRErrorCode, type SafeLoadResult } from './load.js';
export { irSchema } from './schema.js';
export { createProtocolMachine, type ProtocolMachine, type ProtocolMachineOptions } from './machine.js';
export type { ParticipantProfile, SessionContext, Violation } from './engine.js';
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
} from './events.js';
