/**
 * The published JSON Schema (draft 2020-12) of the IR. It mirrors ir.ts;
 * `loadIR` checks the same structure by hand and, beyond the schema, that
 * every name is declared. The test suite writes it to `ir.schema.json`.
 */
import { BINARY_OPS, CALL_FNS, COMPARE_OPS, IR_VERSION, OUTCOMES, ROUTES } from './ir.js';

type Schema = Readonly<Record<string, unknown>>;

const ref = (name: string): Schema => ({ $ref: `#/$defs/${name}` });
const num: Schema = { type: 'number' };
const nonNeg: Schema = { type: 'number', minimum: 0 };
const int0: Schema = { type: 'integer', minimum: 0 };
const int1: Schema = { type: 'integer', minimum: 1 };
const str: Schema = { type: 'string' };
const name: Schema = ref('Name');
const arrayOf = (items: Schema): Schema => ({ type: 'array', items });
const enumOf = (values: readonly string[]): Schema => ({ enum: [...values] });

function obj(required: Record<string, Schema>, optional: Record<string, Schema> = {}, description?: string): Schema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties: { ...required, ...optional },
    required: Object.keys(required),
    additionalProperties: false,
  };
}
const kind = (k: string): Schema => ({ const: k });
const spanOpt = { span: ref('SourceSpan') };
const withSpan = (required: Record<string, Schema>, optional: Record<string, Schema> = {}, description?: string) =>
  obj({ ...required, span: ref('SourceSpan') }, optional, description);

const exprDefs: Record<string, Schema> = {
  MeasureRef: obj({ kind: kind('measure'), name }, spanOpt, 'Last observed value of a measure (in asserts: the true value).'),
  EventRef: obj({ kind: kind('event'), name }, spanOpt, 'True at the instant the event is observed.'),
  InStageRef: obj({ kind: kind('inStage'), stage: name }, spanOpt),
  PausedRef: obj({ kind: kind('paused'), stage: name }, spanOpt),
  OutcomeRef: obj({ kind: kind('outcome'), name: enumOf(OUTCOMES) }, spanOpt),
  ObservedRef: obj({ kind: kind('observed'), measure: name }, spanOpt),
  BaselineRef: obj({ kind: kind('baseline'), measure: name }, spanOpt),
  CautionRef: obj({ kind: kind('caution'), flag: name }, spanOpt),
  ElapsedRef: obj({ kind: kind('elapsed') }, spanOpt, 'Minutes since the session started.'),
  NumberLit: obj({ kind: kind('number'), value: num }, { unit: str, ...spanOpt }, 'A number in the canonical unit of its dimension.'),
  RoleRef: obj({ kind: kind('role'), name }, spanOpt),
  DrugRef: obj({ kind: kind('drug'), name }, spanOpt),
  CallExpr: obj({ kind: kind('call'), fn: enumOf(CALL_FNS), args: { type: 'array', items: ref('Expr'), minItems: 1, maxItems: 2 } }, spanOpt),
  NotExpr: obj({ kind: kind('not'), operand: ref('Expr') }, spanOpt),
  NegExpr: obj({ kind: kind('neg'), operand: ref('Expr') }, spanOpt),
  BinaryExpr: obj({ kind: kind('binary'), op: enumOf(BINARY_OPS), left: ref('Expr'), right: ref('Expr') }, spanOpt),
  ForExpr: obj({ kind: kind('for'), expr: ref('Expr'), minutes: nonNeg }, spanOpt, 'Held at every evaluation throughout the last `minutes`.'),
  DuringExpr: obj({ kind: kind('during'), expr: ref('Expr'), stages: { type: 'array', items: name, minItems: 1 } }, spanOpt),
};

const actionDefs: Record<string, Schema> = {
  PauseAction: withSpan({ kind: kind('pause'), stage: name }),
  StopAction: withSpan({ kind: kind('stop'), stage: name }),
  EndSessionAction: withSpan({ kind: kind('endSession'), reason: str }),
  DeferAction: withSpan({ kind: kind('defer'), reason: str }),
  EscalateAction: withSpan({ kind: kind('escalate'), level: name }),
  NotifyAction: withSpan({ kind: kind('notify'), role: name }),
  AttendAction: withSpan({ kind: kind('attend'), role: name }, { within: nonNeg, minutes: nonNeg }),
  GiveAction: withSpan({ kind: kind('give'), drug: name, dose: ref('Dose') }, { route: enumOf(ROUTES) }),
  ReduceAction: withSpan({ kind: kind('reduce'), drug: name, to: ref('Dose') }),
};

const range = (minSchema: Schema = num): Schema => obj({ min: minSchema, max: minSchema });

export const irSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://kapspec.dev/schema/ir-1.json',
  title: 'kapspec IR',
  description:
    'A compiled kapspec protocol. Times are minutes; doses keep their unit (mg or mg/kg); every declaration carries its .kap source span.',
  type: 'object',
  properties: {
    kapspecIR: { const: IR_VERSION },
    protocol: withSpan({ title: str }, { version: str }),
    setting: {
      oneOf: [
        obj({ mode: kind('individual') }, spanOpt),
        obj({ mode: kind('group'), min: int1, max: int1 }, spanOpt),
      ],
    },
    population: withSpan(
      {
        exclude: arrayOf(ref('FlagDecl')),
        excludeWhen: arrayOf(withSpan({ expr: ref('Expr') })),
        caution: arrayOf(ref('FlagDecl')),
      },
      { age: withSpan({ min: nonNeg, max: nonNeg }) },
    ),
    roles: arrayOf(withSpan({ name, min: int0 }, { max: int0, perParticipants: int1, qualified: str })),
    measures: arrayOf(withSpan({ name, unit: str, min: num, max: num })),
    events: arrayOf(withSpan({ name })),
    drugs: arrayOf(withSpan({ name, unit: ref('DoseUnit') }, { max: ref('Dose') })),
    course: withSpan({
      steps: arrayOf(withSpan({ session: name }, { repeat: range(int0), spacing: range(nonNeg) })),
      limits: arrayOf(withSpan({ session: name, count: int1, perMinutes: { type: 'number', exclusiveMinimum: 0 } })),
    }),
    sessions: { type: 'array', items: ref('Session'), minItems: 1 },
  },
  required: ['kapspecIR', 'protocol', 'setting', 'roles', 'measures', 'events', 'drugs', 'sessions'],
  additionalProperties: false,
  $defs: {
    Name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    SourceSpan: obj(
      { start: int0, end: int0, line: int1, column: int1 },
      { file: str },
      'Where the node is written: UTF-16 offsets (half-open) and the 1-based line and column of start.',
    ),
    DoseUnit: enumOf(['mg', 'mg/kg']),
    Dose: obj({ value: nonNeg, unit: ref('DoseUnit') }),
    FlagDecl: withSpan({ flag: name }),
    Expr: { oneOf: Object.keys(exprDefs).map(ref) },
    ...exprDefs,
    Action: { oneOf: Object.keys(actionDefs).map(ref) },
    ...actionDefs,
    Schedule: {
      oneOf: [
        obj({ kind: kind('every'), minutes: { type: 'number', exclusiveMinimum: 0 } }),
        obj({ kind: kind('at'), minutes: nonNeg }),
        obj({ kind: kind('start') }),
        obj({ kind: kind('continuously') }),
      ],
    },
    Stage: withSpan({
      name,
      duration: obj({}, { exact: nonNeg, atLeast: nonNeg, atMost: nonNeg, ...spanOpt }, 'Minutes of un-paused time; {} is open-ended.'),
      monitors: arrayOf(withSpan({ measures: { type: 'array', items: name, minItems: 1 }, schedule: ref('Schedule') })),
      administer: arrayOf(
        withSpan({
          drug: name,
          dose: ref('Dose'),
          route: enumOf(ROUTES),
          delivery: {
            oneOf: [obj({ kind: kind('over'), minutes: { type: 'number', exclusiveMinimum: 0 } }), obj({ kind: kind('once') })],
          },
        }),
      ),
      gates: arrayOf(
        withSpan({ expr: ref('Expr'), otherwise: { oneOf: [ref('DeferAction'), ref('EndSessionAction')] } }),
      ),
    }),
    Rule: withSpan({ id: name, when: ref('Expr'), actions: arrayOf(ref('Action')) }, { resume: ref('Expr') }),
    StaffLine: withSpan({ role: name, op: enumOf(COMPARE_OPS), count: int0, during: arrayOf(name) }, { perParticipants: int1 }),
    Property: {
      oneOf: [
        obj({ kind: kind('always'), expr: ref('Expr') }),
        obj({ kind: kind('never'), expr: ref('Expr') }),
        obj({ kind: kind('eventually'), expr: ref('Expr'), within: nonNeg }),
        obj({ kind: kind('leadsTo'), cause: ref('Expr'), effect: ref('Expr'), within: nonNeg }),
      ],
    },
    Session: withSpan(
      {
        name,
        stages: { type: 'array', items: ref('Stage'), minItems: 1 },
        rules: arrayOf(ref('Rule')),
        staffing: arrayOf(ref('StaffLine')),
        asserts: arrayOf(withSpan({ name, property: ref('Property') })),
      },
      { discharge: withSpan({ expr: ref('Expr') }) },
    ),
  },
} as const;
