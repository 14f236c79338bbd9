/**
 * The kapspec IR: the lowered, name-resolved form of a checked `.kap`
 * protocol, as versioned JSON. It is the only thing the runtime reads.
 *
 * Conventions
 * - Time is in minutes (number), everywhere.
 * - Doses keep their unit: `{ value, unit: 'mg' | 'mg/kg' }` (canonical units
 *   of the two dose dimensions; `mcg` and `mcg/kg` are converted).
 * - Every declaration, line and action carries the `SourceSpan` of the `.kap`
 *   text it came from, so a run-time verdict can point at the line.
 *   Expressions may carry one too (`span?`).
 * - Names in expressions and actions are resolved: a `{kind:'measure'}` node
 *   names a declared measure, `pause infusion` names a stage of its session.
 *   `loadIR` checks this.
 */

export const IR_VERSION = 1 as const;

/** Where a node came from: offsets (UTF-16, half-open) and 1-based line/column of `start`. */
export interface SourceSpan {
  readonly file?: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly column: number;
}

export type DoseUnit = 'mg' | 'mg/kg';
export interface Dose {
  readonly value: number;
  readonly unit: DoseUnit;
}

// ── Expressions ──────────────────────────────────────────────────────────

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ArithOp = '+' | '-' | '*' | '/';
export type LogicOp = 'and' | 'or' | 'implies';
export type BinaryOp = CompareOp | ArithOp | LogicOp;
export const COMPARE_OPS: readonly CompareOp[] = ['<', '<=', '>', '>=', '==', '!='];
export const BINARY_OPS: readonly BinaryOp[] = [...COMPARE_OPS, '+', '-', '*', '/', 'and', 'or', 'implies'];

export type CallFn = 'present' | 'free' | 'dose' | 'count' | 'max' | 'min';
export const CALL_FNS: readonly CallFn[] = ['present', 'free', 'dose', 'count', 'max', 'min'];

export const OUTCOMES = ['discharged', 'deferred', 'ended', 'escalated'] as const;
export type Outcome = (typeof OUTCOMES)[number];

interface ExprBase {
  readonly span?: SourceSpan;
}
/** Last observed value of a measure (rules, gates, discharge, resume). In asserts: the true value. */
export interface MeasureRef extends ExprBase {
  readonly kind: 'measure';
  readonly name: string;
}
/** True at the instant the event is observed (and only then). As a call argument: the event's name. */
export interface EventRef extends ExprBase {
  readonly kind: 'event';
  readonly name: string;
}
/** `stage infusion` or a bare stage name: the session is in that stage. */
export interface InStageRef extends ExprBase {
  readonly kind: 'inStage';
  readonly stage: string;
}
/** `infusion paused` */
export interface PausedRef extends ExprBase {
  readonly kind: 'paused';
  readonly stage: string;
}
/** An outcome name: the session has reached that outcome. */
export interface OutcomeRef extends ExprBase {
  readonly kind: 'outcome';
  readonly name: Outcome;
}
/** `observed sbp`: the last measurement (differs from `measure` only in asserts). */
export interface ObservedRef extends ExprBase {
  readonly kind: 'observed';
  readonly measure: string;
}
/** `baseline sbp`: the participant profile's baseline, else the first observation of the session. */
export interface BaselineRef extends ExprBase {
  readonly kind: 'baseline';
  readonly measure: string;
}
/** `caution flag`: the participant profile carries the flag. */
export interface CautionRef extends ExprBase {
  readonly kind: 'caution';
  readonly flag: string;
}
/** Minutes since the session started (wall time, pauses included). */
export interface ElapsedRef extends ExprBase {
  readonly kind: 'elapsed';
}
/** A number in the canonical unit of its dimension; `unit` is that canonical unit, when it has one. */
export interface NumberLit extends ExprBase {
  readonly kind: 'number';
  readonly value: number;
  readonly unit?: string;
}
/** A role name as a call argument: `present(therapist)`. */
export interface RoleRef extends ExprBase {
  readonly kind: 'role';
  readonly name: string;
}
/** A drug name as a call argument: `dose(ketamine)`. */
export interface DrugRef extends ExprBase {
  readonly kind: 'drug';
  readonly name: string;
}
/**
 * `present(role)`, `free(role)` take a `role` argument; `dose(drug)` a
 * `drug`; `count(event)` an `event`; `max(a, b)`, `min(a, b)` two numbers.
 */
export interface CallExpr extends ExprBase {
  readonly kind: 'call';
  readonly fn: CallFn;
  readonly args: readonly Expr[];
}
export interface NotExpr extends ExprBase {
  readonly kind: 'not';
  readonly operand: Expr;
}
export interface NegExpr extends ExprBase {
  readonly kind: 'neg';
  readonly operand: Expr;
}
export interface BinaryExpr extends ExprBase {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}
/** `<expr> for <minutes>`: held at every evaluation throughout the last `minutes`. */
export interface ForExpr extends ExprBase {
  readonly kind: 'for';
  readonly expr: Expr;
  readonly minutes: number;
}
/** `<expr> during <stage>, …`: the expression, and the session is in one of the stages. */
export interface DuringExpr extends ExprBase {
  readonly kind: 'during';
  readonly expr: Expr;
  readonly stages: readonly string[];
}

export type Expr =
  | MeasureRef
  | EventRef
  | InStageRef
  | PausedRef
  | OutcomeRef
  | ObservedRef
  | BaselineRef
  | CautionRef
  | ElapsedRef
  | NumberLit
  | RoleRef
  | DrugRef
  | CallExpr
  | NotExpr
  | NegExpr
  | BinaryExpr
  | ForExpr
  | DuringExpr;

export type ExprKind = Expr['kind'];

// ── Declarations ─────────────────────────────────────────────────────────

export interface ProtocolInfo {
  readonly title: string;
  readonly version?: string;
  readonly span: SourceSpan;
}

export type Setting =
  | { readonly mode: 'individual'; readonly span?: SourceSpan }
  | { readonly mode: 'group'; readonly min: number; readonly max: number; readonly span?: SourceSpan };

export interface FlagDecl {
  readonly flag: string;
  readonly span: SourceSpan;
}

export interface Population {
  readonly age?: { readonly min: number; readonly max: number; readonly span: SourceSpan };
  /** Profile flags that keep a participant out of every dosing session. */
  readonly exclude: readonly FlagDecl[];
  /** Conditions on the profile (e.g. `baseline sbp >= 160`) that exclude. */
  readonly excludeWhen: readonly { readonly expr: Expr; readonly span: SourceSpan }[];
  /** Profile flags recorded and usable as `caution <flag>`. */
  readonly caution: readonly FlagDecl[];
  readonly span: SourceSpan;
}

/** `therapist 1..2`, `facilitator 1 per 4 participants`. */
export interface RoleDecl {
  readonly name: string;
  readonly min: number;
  readonly max?: number;
  /** The counts scale: `min` (and `max`) per this many participants. */
  readonly perParticipants?: number;
  readonly qualified?: string;
  readonly span: SourceSpan;
}

/** `sbp mmHg 50..260`: readings outside `min..max` are rejected. */
export interface MeasureDecl {
  readonly name: string;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly span: SourceSpan;
}

export interface EventDecl {
  readonly name: string;
  readonly span: SourceSpan;
}

/**
 * Every drug the protocol administers or gives. `unit` is the unit doses of
 * this drug are tracked in (`dose(drug)` returns it); `max` is a declared
 * limit, if any.
 */
export interface DrugDecl {
  readonly name: string;
  readonly unit: DoseUnit;
  readonly max?: Dose;
  readonly span: SourceSpan;
}

export interface CourseStep {
  readonly session: string;
  readonly repeat?: { readonly min: number; readonly max: number };
  /** Minutes between consecutive sessions of this step. */
  readonly spacing?: { readonly min: number; readonly max: number };
  readonly span: SourceSpan;
}
export interface CourseLimit {
  readonly session: string;
  readonly count: number;
  /** Window in minutes: at most `count` sessions per `perMinutes`. */
  readonly perMinutes: number;
  readonly span: SourceSpan;
}
export interface Course {
  readonly steps: readonly CourseStep[];
  readonly limits: readonly CourseLimit[];
  readonly span: SourceSpan;
}

// ── Sessions ─────────────────────────────────────────────────────────────

/** Bounds in minutes of un-paused time. `{}` means open-ended. */
export interface StageDuration {
  readonly exact?: number;
  readonly atLeast?: number;
  readonly atMost?: number;
  readonly span?: SourceSpan;
}

export type Schedule =
  | { readonly kind: 'every'; readonly minutes: number }
  | { readonly kind: 'at'; readonly minutes: number }
  | { readonly kind: 'start' }
  | { readonly kind: 'continuously' };

export interface Monitor {
  readonly measures: readonly string[];
  readonly schedule: Schedule;
  readonly span: SourceSpan;
}

export type Route = 'iv' | 'im' | 'sublingual' | 'intranasal' | 'oral';
export const ROUTES: readonly Route[] = ['iv', 'im', 'sublingual', 'intranasal', 'oral'];

export type Delivery = { readonly kind: 'over'; readonly minutes: number } | { readonly kind: 'once' };

export interface Administer {
  readonly drug: string;
  readonly dose: Dose;
  readonly route: Route;
  readonly delivery: Delivery;
  readonly span: SourceSpan;
}

export interface Gate {
  readonly expr: Expr;
  readonly otherwise: DeferAction | EndSessionAction;
  readonly span: SourceSpan;
}

export interface Stage {
  readonly name: string;
  readonly duration: StageDuration;
  readonly monitors: readonly Monitor[];
  readonly administer: readonly Administer[];
  readonly gates: readonly Gate[];
  readonly span: SourceSpan;
}

export interface PauseAction {
  readonly kind: 'pause';
  readonly stage: string;
  readonly span: SourceSpan;
}
export interface StopAction {
  readonly kind: 'stop';
  readonly stage: string;
  readonly span: SourceSpan;
}
export interface EndSessionAction {
  readonly kind: 'endSession';
  readonly reason: string;
  readonly span: SourceSpan;
}
export interface DeferAction {
  readonly kind: 'defer';
  readonly reason: string;
  readonly span: SourceSpan;
}
export interface EscalateAction {
  readonly kind: 'escalate';
  readonly level: string;
  readonly span: SourceSpan;
}
export interface NotifyAction {
  readonly kind: 'notify';
  readonly role: string;
  readonly span: SourceSpan;
}
export interface AttendAction {
  readonly kind: 'attend';
  readonly role: string;
  /** Minutes within which a free person must be found. */
  readonly within?: number;
  /** Minutes the person is taken out of the free pool. */
  readonly minutes?: number;
  readonly span: SourceSpan;
}
export interface GiveAction {
  readonly kind: 'give';
  readonly drug: string;
  readonly dose: Dose;
  readonly route?: Route;
  readonly span: SourceSpan;
}
export interface ReduceAction {
  readonly kind: 'reduce';
  readonly drug: string;
  readonly to: Dose;
  readonly span: SourceSpan;
}

export type Action =
  | PauseAction
  | StopAction
  | EndSessionAction
  | DeferAction
  | EscalateAction
  | NotifyAction
  | AttendAction
  | GiveAction
  | ReduceAction;
export type ActionKind = Action['kind'];

export interface Rule {
  readonly id: string;
  readonly when: Expr;
  readonly actions: readonly Action[];
  /** `resume when …`: resumes the stages this rule paused. */
  readonly resume?: Expr;
  readonly span: SourceSpan;
}

/** `medical_provider >= 1 during infusion, recovery`. `during: []` means the whole session. */
export interface StaffLine {
  readonly role: string;
  readonly op: CompareOp;
  readonly count: number;
  readonly perParticipants?: number;
  readonly during: readonly string[];
  readonly span: SourceSpan;
}

export type Property =
  | { readonly kind: 'always'; readonly expr: Expr }
  | { readonly kind: 'never'; readonly expr: Expr }
  | { readonly kind: 'eventually'; readonly expr: Expr; readonly within: number }
  | { readonly kind: 'leadsTo'; readonly cause: Expr; readonly effect: Expr; readonly within: number };

/** Kept for the simulator; the runtime machine does not evaluate asserts. */
export interface Assert {
  readonly name: string;
  readonly property: Property;
  readonly span: SourceSpan;
}

export interface Session {
  readonly name: string;
  readonly stages: readonly Stage[];
  readonly discharge?: { readonly expr: Expr; readonly span: SourceSpan };
  readonly rules: readonly Rule[];
  readonly staffing: readonly StaffLine[];
  readonly asserts: readonly Assert[];
  readonly span: SourceSpan;
}

export interface IR {
  readonly kapspecIR: typeof IR_VERSION;
  readonly protocol: ProtocolInfo;
  readonly setting: Setting;
  readonly population?: Population;
  readonly roles: readonly RoleDecl[];
  readonly measures: readonly MeasureDecl[];
  readonly events: readonly EventDecl[];
  readonly drugs: readonly DrugDecl[];
  readonly course?: Course;
  readonly sessions: readonly Session[];
}
