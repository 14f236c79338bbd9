/**
 * The simulation trace: everything that happened in one simulated session,
 * in time order — the participant's true physiology, what was measured and
 * sent to the machine, what the machine did, and the staff pool. Properties
 * are checked over it, counterexamples are printed from it, and `kapspec
 * replay` re-runs it.
 *
 * Format (version 1): JSON Lines. The first line is the `TraceHeader`; every
 * other line is one `TraceRecord`. Times `t` are session minutes (numbers,
 * un-rounded). Records are written in the order they happened; records at the
 * same `t` keep their causal order (input, then what the machine emitted, then
 * the state after it). Same IR + seed + model ⇒ byte-identical file.
 */

export const TRACE_VERSION = 1 as const;

export interface TraceHeader {
  readonly kapspecTrace: typeof TRACE_VERSION;
  /** Protocol title and the session simulated. */
  readonly protocol: string;
  readonly session: string;
  /** SHA-256 (hex) of the canonical IR JSON: `replay` refuses a trace made from another protocol. */
  readonly irHash: string;
  readonly seed: number;
  readonly model: 'calibrated' | 'adversarial' | 'scripted';
  /** Model parameters that are not in the IR (named, documented), for reproduction. */
  readonly parameters: Readonly<Record<string, number | string | boolean>>;
  readonly participants: readonly TraceParticipant[];
  /** Staff on duty at the start, by role. */
  readonly staff: Readonly<Record<string, number>>;
}

export interface TraceParticipant {
  readonly id: string;
  readonly age: number;
  readonly weightKg: number;
  /** Baseline (pre-dose) true values by measure. */
  readonly baseline: Readonly<Record<string, number>>;
  /** Condition flags of the profile (population `exclude`/`caution` names). */
  readonly flags: readonly string[];
}

/** The participant's true values at `t` (sampled at the model's resolution and at every input). */
export interface TruthRecord {
  readonly t: number;
  readonly type: 'truth';
  readonly participant: string;
  readonly values: Readonly<Record<string, number>>;
}

/** The machine asked for measurements (`measure.request`). */
export interface RequestRecord {
  readonly t: number;
  readonly type: 'request';
  readonly participant?: string;
  readonly measures: readonly string[];
  readonly stage: string;
  readonly continuous?: boolean;
}

/** A measurement sent to the machine: true value plus measurement noise. */
export interface ObserveRecord {
  readonly t: number;
  readonly type: 'observe';
  readonly participant?: string;
  readonly values: Readonly<Record<string, number>>;
}

/** A discrete observation sent to the machine (`panic`, `nausea`, …). */
export interface EventRecord {
  readonly t: number;
  readonly type: 'event';
  readonly participant?: string;
  readonly name: string;
}

/** A staff member leaves or arrives (`staff.leave` / `staff.arrive`). */
export interface StaffRecord {
  readonly t: number;
  readonly type: 'staff';
  readonly action: 'arrive' | 'leave';
  readonly role: string;
}

/** Anything the machine emitted other than measure requests (actions, stage changes, violations, rejections). */
export interface EmitRecord {
  readonly t: number;
  readonly type: 'emit';
  /** The emitted event as the runtime produced it (its `type` is e.g. `notify`, `stage`, `staffing.violation`). */
  readonly event: Readonly<Record<string, unknown>> & { readonly type: string };
}

/** The machine's observable state after a step, written whenever it changes. */
export interface StateRecord {
  readonly t: number;
  readonly type: 'state';
  /** Current stage (undefined once the session is over). */
  readonly stage?: string;
  readonly paused: readonly string[];
  /** People present and free (not attending anyone), by role. */
  readonly present: Readonly<Record<string, number>>;
  readonly free: Readonly<Record<string, number>>;
  /** Dose delivered so far by drug, in its tracking unit (a group session: summed over the participants). */
  readonly dose: Readonly<Record<string, number>>;
  /** Group sessions only: dose delivered so far by participant id, then drug. */
  readonly doses?: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** The session (or, in a group, one participant) reached an outcome. */
export interface OutcomeRecord {
  readonly t: number;
  readonly type: 'outcome';
  readonly participant?: string;
  readonly outcome: 'discharged' | 'deferred' | 'ended' | 'escalated';
  readonly reason?: string;
  readonly rule?: string;
}

/** The simulation stopped without an outcome (time horizon reached). */
export interface EndRecord {
  readonly t: number;
  readonly type: 'end';
  readonly reason: 'horizon' | 'outcome';
}

export type TraceRecord =
  | TruthRecord
  | RequestRecord
  | ObserveRecord
  | EventRecord
  | StaffRecord
  | EmitRecord
  | StateRecord
  | OutcomeRecord
  | EndRecord;

export interface Trace {
  readonly header: TraceHeader;
  readonly records: readonly TraceRecord[];
}
