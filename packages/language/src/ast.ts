/**
 * The typed syntax tree of a `.kap` file. Every node carries the span of the
 * source text it came from. Items keep source order so that the formatter can
 * reproduce the author's arrangement.
 *
 * A file with syntax errors still yields a tree: an expression the parser
 * could not read becomes a `Missing` node, and a declaration whose name is
 * missing is left out. The checker treats `Missing` as "already reported".
 */
import type { Span } from './span.js';

export interface Name {
  readonly text: string;
  readonly span: Span;
}

export interface StringLit {
  readonly value: string;
  readonly span: Span;
}

export interface NumberLit {
  readonly value: number;
  /** The digits as written, so the formatter never changes a number. */
  readonly text: string;
  readonly span: Span;
}

export interface UnitRef {
  readonly text: string;
  readonly span: Span;
}

/** A number with an optional unit: `15 min`, `0.5 mg/kg`, `160`. */
export interface Quantity {
  readonly value: number;
  readonly text: string;
  readonly unit?: UnitRef;
  readonly span: Span;
}

export interface RangeLit {
  readonly min: NumberLit;
  readonly max: NumberLit;
  readonly span: Span;
}

// ── Expressions ──────────────────────────────────────────────────────────

export type CompareOp = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type ArithOp = '+' | '-' | '*' | '/';
export type LogicOp = 'and' | 'or' | 'implies';
export type BinaryOp = CompareOp | ArithOp | LogicOp;

export type Expr =
  | QuantityExpr
  | RefExpr
  | PausedExpr
  | ObservedExpr
  | BaselineExpr
  | CautionExpr
  | InStageExpr
  | ElapsedExpr
  | CallExpr
  | NotExpr
  | NegExpr
  | BinaryExpr
  | GroupExpr
  | ForExpr
  | DuringExpr
  | MissingExpr;

export interface QuantityExpr extends Quantity {
  readonly kind: 'Quantity';
}
/** A bare name: a measure, an event, a stage or an outcome. */
export interface RefExpr {
  readonly kind: 'Ref';
  readonly name: Name;
  readonly span: Span;
}
/** `infusion paused` */
export interface PausedExpr {
  readonly kind: 'Paused';
  readonly stage: Name;
  readonly span: Span;
}
/** `observed sbp`: the last measurement (in asserts). */
export interface ObservedExpr {
  readonly kind: 'Observed';
  readonly measure: Name;
  readonly span: Span;
}
/** `baseline sbp` */
export interface BaselineExpr {
  readonly kind: 'Baseline';
  readonly measure: Name;
  readonly span: Span;
}
/** `caution uncontrolled_hypertension` */
export interface CautionExpr {
  readonly kind: 'Caution';
  readonly flag: Name;
  readonly span: Span;
}
/** `stage infusion` */
export interface InStageExpr {
  readonly kind: 'InStage';
  readonly stage: Name;
  readonly span: Span;
}
export interface ElapsedExpr {
  readonly kind: 'Elapsed';
  readonly span: Span;
}
/** `present(role)`, `free(role)`, `dose(drug)`, `count(event)`, `max(a, b)`, `min(a, b)` */
export interface CallExpr {
  readonly kind: 'Call';
  readonly callee: Name;
  readonly args: readonly Expr[];
  readonly span: Span;
}
export interface NotExpr {
  readonly kind: 'Not';
  readonly operand: Expr;
  readonly span: Span;
}
export interface NegExpr {
  readonly kind: 'Neg';
  readonly operand: Expr;
  readonly span: Span;
}
export interface BinaryExpr {
  readonly kind: 'Binary';
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}
/** Parentheses the author wrote; kept so the formatter reproduces them. */
export interface GroupExpr {
  readonly kind: 'Group';
  readonly expr: Expr;
  readonly span: Span;
}
/** `<condition> for <time>`: the condition held throughout the time. */
export interface ForExpr {
  readonly kind: 'For';
  readonly expr: Expr;
  readonly duration: Quantity;
  readonly span: Span;
}
/** `<condition> during <stage>, …`: the condition, only in those stages. */
export interface DuringExpr {
  readonly kind: 'During';
  readonly expr: Expr;
  readonly stages: readonly Name[];
  readonly span: Span;
}
/** Placeholder for an expression the parser could not read (already reported). */
export interface MissingExpr {
  readonly kind: 'Missing';
  readonly span: Span;
}

// ── Protocol ─────────────────────────────────────────────────────────────

export interface Protocol {
  readonly kind: 'Protocol';
  readonly title: StringLit;
  readonly items: readonly ProtocolItem[];
  readonly span: Span;
}

export type ProtocolItem =
  | VersionDecl
  | SettingDecl
  | PopulationBlock
  | RolesBlock
  | MeasuresBlock
  | EventsBlock
  | DrugsBlock
  | CourseBlock
  | Session;

export interface VersionDecl {
  readonly kind: 'Version';
  readonly value: StringLit;
  readonly span: Span;
}

export interface SettingDecl {
  readonly kind: 'Setting';
  readonly mode: 'individual' | 'group';
  /** Group size bounds; present when mode is 'group'. */
  readonly size?: RangeLit;
  readonly span: Span;
}

export interface PopulationBlock {
  readonly kind: 'Population';
  readonly items: readonly PopulationItem[];
  readonly span: Span;
}

export type PopulationItem = AgeItem | ExcludeItem | ExcludeWhenItem | CautionItem;

export interface AgeItem {
  readonly kind: 'Age';
  readonly range: RangeLit;
  readonly span: Span;
}
export interface ExcludeItem {
  readonly kind: 'Exclude';
  readonly flags: readonly Name[];
  readonly span: Span;
}
export interface ExcludeWhenItem {
  readonly kind: 'ExcludeWhen';
  readonly condition: Expr;
  readonly span: Span;
}
export interface CautionItem {
  readonly kind: 'Caution';
  readonly flags: readonly Name[];
  readonly span: Span;
}

export interface RolesBlock {
  readonly kind: 'Roles';
  readonly roles: readonly RoleDecl[];
  readonly span: Span;
}

/** `therapist 1..2`, `medical_provider 1 qualified "ACLS"`, `facilitator 1 per 4 participants` */
export interface RoleDecl {
  readonly kind: 'Role';
  readonly name: Name;
  readonly min: NumberLit;
  readonly max?: NumberLit;
  /** `per <n> participants`: the count scales with group size. */
  readonly per?: NumberLit;
  readonly qualified?: StringLit;
  readonly span: Span;
}

export interface MeasuresBlock {
  readonly kind: 'Measures';
  readonly measures: readonly MeasureDecl[];
  readonly span: Span;
}

/** `sbp mmHg 50..260` */
export interface MeasureDecl {
  readonly kind: 'Measure';
  readonly name: Name;
  readonly unit: UnitRef;
  readonly range: RangeLit;
  readonly span: Span;
}

export interface EventsBlock {
  readonly kind: 'Events';
  readonly events: readonly Name[];
  readonly span: Span;
}

export interface DrugsBlock {
  readonly kind: 'Drugs';
  readonly drugs: readonly DrugDecl[];
  readonly span: Span;
}

/** `ketamine max 1 mg/kg` (an extension: declared drugs and dose limits). */
export interface DrugDecl {
  readonly kind: 'Drug';
  readonly name: Name;
  readonly max?: Quantity;
  readonly span: Span;
}

export interface CourseBlock {
  readonly kind: 'Course';
  readonly items: readonly CourseItem[];
  readonly span: Span;
}

export type CourseItem = CourseStep | CourseLimit;

/** `dosing repeat 6 spacing 2..4 days` */
export interface CourseStep {
  readonly kind: 'CourseStep';
  readonly session: Name;
  readonly repeat?: { readonly min: NumberLit; readonly max?: NumberLit; readonly span: Span };
  readonly spacing?: {
    readonly min: NumberLit;
    readonly max?: NumberLit;
    readonly unit: UnitRef;
    readonly span: Span;
  };
  readonly span: Span;
}

/** `limit dosing 2 per 7 days` */
export interface CourseLimit {
  readonly kind: 'CourseLimit';
  readonly session: Name;
  readonly count: NumberLit;
  readonly per: Quantity;
  readonly span: Span;
}

// ── Sessions ─────────────────────────────────────────────────────────────

export interface Session {
  readonly kind: 'Session';
  readonly name: Name;
  readonly items: readonly SessionItem[];
  readonly span: Span;
}

export type SessionItem = StaffingBlock | Stage | Discharge | Rule | Assert;

export interface StaffingBlock {
  readonly kind: 'Staffing';
  readonly lines: readonly StaffLine[];
  readonly span: Span;
}

/** `medical_provider >= 1 during infusion, recovery`, `facilitator >= 1 per 4 participants` */
export interface StaffLine {
  readonly kind: 'StaffLine';
  readonly role: Name;
  readonly op: CompareOp;
  readonly count: NumberLit;
  readonly per?: NumberLit;
  readonly during: readonly Name[];
  readonly span: Span;
}

export interface Stage {
  readonly kind: 'Stage';
  readonly name: Name;
  readonly duration?: StageDuration;
  readonly items: readonly StageItem[];
  readonly span: Span;
}

/** `duration 40 min`, `duration at least 60 min`, `duration at least 30 min at most 90 min` */
export interface StageDuration {
  readonly exact?: Quantity;
  readonly atLeast?: Quantity;
  readonly atMost?: Quantity;
  readonly span: Span;
}

export type StageItem = Monitor | Administer | Gate;

export type Schedule =
  | { readonly kind: 'every'; readonly interval: Quantity; readonly span: Span }
  | { readonly kind: 'at'; readonly offset: Quantity; readonly span: Span }
  | { readonly kind: 'start'; readonly span: Span }
  | { readonly kind: 'continuously'; readonly span: Span };

/** `monitor sbp, dbp every 5 min` or `measure sbp at start` (same meaning, two verbs). */
export interface Monitor {
  readonly kind: 'Monitor';
  readonly verb: 'monitor' | 'measure';
  readonly measures: readonly Name[];
  readonly schedule: Schedule;
  readonly span: Span;
}

export type Route = 'iv' | 'im' | 'sublingual' | 'intranasal' | 'oral';
export const ROUTES: readonly Route[] = ['iv', 'im', 'sublingual', 'intranasal', 'oral'];

/** `administer ketamine 0.5 mg/kg iv over 40 min` */
export interface Administer {
  readonly kind: 'Administer';
  readonly drug: Name;
  readonly dose: Quantity;
  readonly route: Route;
  readonly routeSpan: Span;
  readonly delivery:
    | { readonly kind: 'over'; readonly duration: Quantity; readonly span: Span }
    | { readonly kind: 'once'; readonly span: Span };
  readonly span: Span;
}

/** `gate <cond> else defer "<reason>"` or `… else end session "<reason>"` */
export interface Gate {
  readonly kind: 'Gate';
  readonly condition: Expr;
  readonly otherwise: DeferAction | EndSessionAction;
  readonly span: Span;
}

export interface Discharge {
  readonly kind: 'Discharge';
  readonly condition: Expr;
  readonly span: Span;
}

export interface Rule {
  readonly kind: 'Rule';
  readonly name: Name;
  readonly when: Expr;
  readonly actions: readonly Action[];
  /** `resume when <cond> [for <time>]` */
  readonly resume?: Expr;
  readonly span: Span;
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

export interface PauseAction {
  readonly kind: 'Pause';
  readonly stage: Name;
  readonly span: Span;
}
export interface StopAction {
  readonly kind: 'Stop';
  readonly stage: Name;
  readonly span: Span;
}
export interface EndSessionAction {
  readonly kind: 'EndSession';
  readonly reason: StringLit;
  readonly span: Span;
}
export interface DeferAction {
  readonly kind: 'Defer';
  readonly reason: StringLit;
  readonly span: Span;
}
export interface EscalateAction {
  readonly kind: 'Escalate';
  readonly level: Name;
  readonly span: Span;
}
export interface NotifyAction {
  readonly kind: 'Notify';
  readonly role: Name;
  readonly span: Span;
}
/** `attend therapist within 2 min for 15 min` */
export interface AttendAction {
  readonly kind: 'Attend';
  readonly role: Name;
  readonly within?: Quantity;
  readonly duration?: Quantity;
  readonly span: Span;
}
/** `give ondansetron 4 mg` (optionally with a route) */
export interface GiveAction {
  readonly kind: 'Give';
  readonly drug: Name;
  readonly dose: Quantity;
  readonly route?: Route;
  readonly span: Span;
}
/** `reduce ketamine to 0.25 mg/kg` */
export interface ReduceAction {
  readonly kind: 'Reduce';
  readonly drug: Name;
  readonly to: Quantity;
  readonly span: Span;
}

export interface Assert {
  readonly kind: 'Assert';
  readonly name: Name;
  readonly property: Property;
  readonly span: Span;
}

export type Property =
  | { readonly kind: 'Always'; readonly expr: Expr; readonly span: Span }
  | { readonly kind: 'Never'; readonly expr: Expr; readonly span: Span }
  | { readonly kind: 'Eventually'; readonly expr: Expr; readonly within: Quantity; readonly span: Span }
  /** `P implies Q within T`: every time P becomes true, Q holds within T. */
  | {
      readonly kind: 'LeadsTo';
      readonly cause: Expr;
      readonly effect: Expr;
      readonly within: Quantity;
      readonly span: Span;
    };

export const OUTCOMES = ['discharged', 'deferred', 'ended', 'escalated'] as const;
export type Outcome = (typeof OUTCOMES)[number];
