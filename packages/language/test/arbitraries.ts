/**
 * fast-check arbitraries for `.kap` protocols, shared by the property tests.
 *
 * - `protocol`: whole protocols as ASTs covering every construct of `ast.ts`
 *   (names drawn from small pools; not semantically valid, but syntactically
 *   well-formed). Nodes carry the dummy span `DUMMY`. Expressions are generated
 *   from the grammar's binding levels, so a sub-expression that binds looser
 *   than its position allows is wrapped in a `Group` (the parentheses an author
 *   would have to write): printing such a tree and parsing it back gives the
 *   same tree, spans aside (`stripSpans`).
 * - `expression`: one expression (any level), same rules.
 * - `protocolText`: a generated protocol printed by the formatter.
 * - `perturbWhitespace(text, rng, options)`: the same tokens with different
 *   whitespace (spaces, tabs, newlines) and optionally inserted comments;
 *   `perturbedProtocolText(options)` is the arbitrary of such pairs, and
 *   `randomTape` + `tapeRng` give a replayable `rng` for any other text.
 * - `stripSpans`, `stripGroups`: normalise trees for comparison.
 */
import fc from 'fast-check';
import type * as A from '../src/ast.js';
import { printProtocol } from '../src/format.js';
import { lex } from '../src/parse.js';
import type { Span } from '../src/span.js';

/** The span every generated node carries. */
export const DUMMY: Span = { start: 0, end: 0 };

// ── Name pools (no keywords, no unit words) ──────────────────────────────

export const POOLS = {
  measures: ['sbp', 'dbp', 'hr', 'spo2', 'cadss', 'rr'],
  events: ['nausea', 'vomiting', 'panic', 'request_stop', 'chest_pain'],
  roles: ['therapist', 'medical_provider', 'facilitator', 'nurse'],
  stages: ['predose', 'infusion', 'recovery', 'opening', 'journey'],
  sessions: ['screening', 'preparation', 'dosing', 'integration', 'circle'],
  flags: ['pregnancy', 'psychotic_disorder', 'uncontrolled_hypertension', 'vascular_aneurysm'],
  drugs: ['ketamine', 'esketamine', 'ondansetron', 'midazolam'],
  levels: ['emergency', 'urgent', 'physician'],
  rules: ['hypertension', 'desaturation', 'panic_rule', 'nausea_rule', 'stop_request'],
  asserts: ['staffed', 'responsive', 'terminates', 'safe'],
  outcomes: ['discharged', 'deferred', 'ended', 'escalated'],
  callees: ['present', 'free', 'dose', 'count', 'max', 'min'],
} as const;

export const UNITS = ['s', 'min', 'h', 'day', 'days', 'week', 'weeks', 'mcg', 'mg', 'g', 'mcg/kg', 'mg/kg', 'mmHg', 'bpm', '/min', '%', 'score'] as const;
const TIME_UNITS = ['s', 'min', 'h', 'day', 'days', 'week', 'weeks'] as const;
const DOSE_UNITS = ['mcg', 'mg', 'g', 'mcg/kg', 'mg/kg'] as const;
const ROUTES: readonly A.Route[] = ['iv', 'im', 'sublingual', 'intranasal', 'oral'];

const pick = (pool: readonly string[]): fc.Arbitrary<A.Name> => fc.constantFrom(...pool).map((text) => ({ text, span: DUMMY }));
const refName = pick([...POOLS.measures, ...POOLS.events, ...POOLS.stages, ...POOLS.outcomes, ...POOLS.roles]);
const nameList = (pool: readonly string[], max = 3): fc.Arbitrary<A.Name[]> => fc.array(pick(pool), { minLength: 1, maxLength: max });

// ── Literals ─────────────────────────────────────────────────────────────

/** Digits as an author might write them, including `007` and `2.50`. */
const numberText = fc.oneof(
  fc.constantFrom('0', '1', '2', '4', '5', '15', '40', '90', '160', '180', '007'),
  fc.constantFrom('0.5', '2.50', '1.0', '0.25', '12.125'),
);
const wholeText = fc.constantFrom('0', '1', '2', '3', '4', '6', '12', '75', '01');

const lit = (text: fc.Arbitrary<string>): fc.Arbitrary<A.NumberLit> => text.map((t) => ({ value: Number(t), text: t, span: DUMMY }));
export const numberLit = lit(numberText);
export const wholeLit = lit(wholeText);

function quantityOf(units: readonly string[], unitRequired = false): fc.Arbitrary<A.Quantity> {
  const unit = fc.constantFrom(...units).map((text): A.UnitRef => ({ text, span: DUMMY }));
  return fc
    .record({ n: numberLit, unit: unitRequired ? unit : fc.option(unit, { nil: undefined, freq: 4 }) })
    .map(({ n, unit }) => ({ value: n.value, text: n.text, ...(unit ? { unit } : {}), span: DUMMY }));
}
export const quantity = quantityOf(UNITS);
export const timeQuantity = quantityOf(TIME_UNITS);
export const doseQuantity = quantityOf(DOSE_UNITS);

/** Text with quotes, backslashes, comment markers and non-ASCII, never a line break. */
export const stringLit: fc.Arbitrary<A.StringLit> = fc
  .string({ unit: fc.constantFrom('a', 'B', 'z', ' ', '"', '\\', '/', '*', '//', '/*', '*/', '{', '}', 'é', '≥', '\t'), maxLength: 8 })
  .map((value) => ({ value, span: DUMMY }));

const rangeLit = (n: fc.Arbitrary<A.NumberLit>): fc.Arbitrary<A.RangeLit> => fc.record({ min: n, max: n, span: fc.constant(DUMMY) });

const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined });

/** Drops the keys whose value is undefined, as the AST builder never sets them. */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}

// ── Expressions ──────────────────────────────────────────────────────────

/**
 * Binding levels of LANGUAGE.md §4, loosest first, with the qualified
 * condition (`… for T`, `… during s`) looser than all of them.
 */
export const LEVEL = { condition: 0, implies: 1, or: 2, and: 3, not: 4, compare: 5, add: 6, mul: 7, neg: 8, atom: 9 } as const;

const COMPARE_OPS: readonly A.CompareOp[] = ['<', '<=', '>', '>=', '==', '!='];

const leafAtom: fc.Arbitrary<A.Expr> = fc.oneof(
  quantity.map((q): A.Expr => ({ kind: 'Quantity', ...q })),
  refName.map((name): A.Expr => ({ kind: 'Ref', name, span: DUMMY })),
  pick(POOLS.stages).map((stage): A.Expr => ({ kind: 'Paused', stage, span: DUMMY })),
  pick(POOLS.measures).map((measure): A.Expr => ({ kind: 'Observed', measure, span: DUMMY })),
  pick(POOLS.measures).map((measure): A.Expr => ({ kind: 'Baseline', measure, span: DUMMY })),
  pick(POOLS.flags).map((flag): A.Expr => ({ kind: 'Caution', flag, span: DUMMY })),
  pick(POOLS.stages).map((stage): A.Expr => ({ kind: 'InStage', stage, span: DUMMY })),
  fc.constant<A.Expr>({ kind: 'Elapsed', span: DUMMY }),
);

const memo = new Map<string, fc.Arbitrary<A.Expr>>();

/**
 * An expression that parses back as itself where the grammar expects binding
 * level `level` (see `LEVEL`), with at most `depth` nested operators.
 */
export function expressionAt(level: number, depth: number): fc.Arbitrary<A.Expr> {
  const key = `${level}/${depth}`;
  const hit = memo.get(key);
  if (hit) return hit;
  let arb: fc.Arbitrary<A.Expr>;
  if (depth <= 0) arb = leafAtom;
  else if (level >= LEVEL.atom) {
    const inner = expressionAt(LEVEL.condition, depth - 1);
    arb = fc.oneof(
      { arbitrary: leafAtom, weight: 4 },
      {
        arbitrary: fc.record({ callee: pick(POOLS.callees), args: fc.array(inner, { maxLength: 3 }) }).map(
          ({ callee, args }): A.Expr => ({
            kind: 'Call',
            callee,
            // `during a, b` swallows a following argument: an author must parenthesize it.
            args: args.map((a, i) => (a.kind === 'During' && i < args.length - 1 ? { kind: 'Group', expr: a, span: DUMMY } : a)),
            span: DUMMY,
          }),
        ),
        weight: 1,
      },
      { arbitrary: inner.map((expr): A.Expr => ({ kind: 'Group', expr, span: DUMMY })), weight: 1 },
    );
  } else {
    const tighter = expressionAt(level + 1, depth);
    const sub = (l: number) => expressionAt(l, depth - 1);
    const binary = (ops: readonly A.BinaryOp[], l: number, r: number) =>
      fc.record({ op: fc.constantFrom(...ops), left: sub(l), right: sub(r) }).map(
        ({ op, left, right }): A.Expr => ({ kind: 'Binary', op, left, right, span: DUMMY }),
      );
    let own: fc.Arbitrary<A.Expr>;
    switch (level) {
      case LEVEL.condition:
        own = fc.oneof(
          fc.record({ expr: sub(LEVEL.condition), duration: timeQuantity }).map(
            ({ expr, duration }): A.Expr => ({ kind: 'For', expr, duration, span: DUMMY }),
          ),
          fc.record({ expr: sub(LEVEL.condition), stages: nameList(POOLS.stages) }).map(
            ({ expr, stages }): A.Expr => ({ kind: 'During', expr, stages, span: DUMMY }),
          ),
        );
        break;
      case LEVEL.implies:
        own = binary(['implies'], LEVEL.or, LEVEL.implies);
        break;
      case LEVEL.or:
        own = binary(['or'], LEVEL.or, LEVEL.and);
        break;
      case LEVEL.and:
        own = binary(['and'], LEVEL.and, LEVEL.not);
        break;
      case LEVEL.not:
        own = sub(LEVEL.not).map((operand): A.Expr => ({ kind: 'Not', operand, span: DUMMY }));
        break;
      case LEVEL.compare:
        own = binary(COMPARE_OPS, LEVEL.add, LEVEL.add);
        break;
      case LEVEL.add:
        own = binary(['+', '-'], LEVEL.add, LEVEL.mul);
        break;
      case LEVEL.mul:
        own = binary(['*', '/'], LEVEL.mul, LEVEL.neg);
        break;
      default:
        own = sub(LEVEL.neg).map((operand): A.Expr => ({ kind: 'Neg', operand, span: DUMMY }));
    }
    arb = fc.oneof({ arbitrary: tighter, weight: 2 }, { arbitrary: own, weight: 1 });
  }
  memo.set(key, arb);
  return arb;
}

/** A condition as written after `when`, `gate`, `discharge when`, `always` … */
export const expression = expressionAt(LEVEL.condition, 4);

// ── Protocol items ───────────────────────────────────────────────────────

const populationItem: fc.Arbitrary<A.PopulationItem> = fc.oneof(
  rangeLit(numberLit).map((range): A.PopulationItem => ({ kind: 'Age', range, span: DUMMY })),
  nameList(POOLS.flags).map((flags): A.PopulationItem => ({ kind: 'Exclude', flags, span: DUMMY })),
  expression.map((condition): A.PopulationItem => ({ kind: 'ExcludeWhen', condition, span: DUMMY })),
  nameList(POOLS.flags).map((flags): A.PopulationItem => ({ kind: 'Caution', flags, span: DUMMY })),
);

const roleDecl: fc.Arbitrary<A.RoleDecl> = fc
  .record({ name: pick(POOLS.roles), min: wholeLit, max: opt(wholeLit), per: opt(wholeLit), qualified: opt(stringLit) })
  .map((r) => defined({ kind: 'Role' as const, ...r, span: DUMMY }));

const measureDecl: fc.Arbitrary<A.MeasureDecl> = fc
  .record({ name: pick(POOLS.measures), unit: fc.constantFrom(...UNITS), range: rangeLit(numberLit) })
  .map(({ name, unit, range }) => ({ kind: 'Measure', name, unit: { text: unit, span: DUMMY }, range, span: DUMMY }));

const drugDecl: fc.Arbitrary<A.DrugDecl> = fc
  .record({ name: pick(POOLS.drugs), max: opt(doseQuantity) })
  .map((d) => defined({ kind: 'Drug' as const, ...d, span: DUMMY }));

const courseItem: fc.Arbitrary<A.CourseItem> = fc.oneof(
  fc
    .record({
      session: pick(POOLS.sessions),
      repeat: opt(fc.record({ min: wholeLit, max: opt(wholeLit) })),
      spacing: opt(fc.record({ min: numberLit, max: opt(numberLit), unit: fc.constantFrom(...TIME_UNITS) })),
    })
    .map(({ session, repeat, spacing }): A.CourseItem =>
      defined({
        kind: 'CourseStep' as const,
        session,
        repeat: repeat && defined({ ...repeat, span: DUMMY }),
        spacing: spacing && defined({ ...spacing, unit: { text: spacing.unit, span: DUMMY }, span: DUMMY }),
        span: DUMMY,
      }),
    ),
  fc
    .record({ session: pick(POOLS.sessions), count: wholeLit, per: timeQuantity })
    .map((l): A.CourseItem => ({ kind: 'CourseLimit', ...l, span: DUMMY })),
);

// ── Session items ────────────────────────────────────────────────────────

const staffLine: fc.Arbitrary<A.StaffLine> = fc
  .record({
    role: pick(POOLS.roles),
    op: fc.constantFrom(...COMPARE_OPS),
    count: wholeLit,
    per: opt(wholeLit),
    during: fc.array(pick(POOLS.stages), { maxLength: 2 }),
  })
  .map((l) => defined({ kind: 'StaffLine' as const, ...l, span: DUMMY }));

const stageDuration: fc.Arbitrary<A.StageDuration> = fc.oneof(
  timeQuantity.map((exact) => ({ exact, span: DUMMY })),
  timeQuantity.map((atLeast) => ({ atLeast, span: DUMMY })),
  timeQuantity.map((atMost) => ({ atMost, span: DUMMY })),
  fc.record({ atLeast: timeQuantity, atMost: timeQuantity }).map((d) => ({ ...d, span: DUMMY })),
);

const schedule: fc.Arbitrary<A.Schedule> = fc.oneof(
  timeQuantity.map((interval): A.Schedule => ({ kind: 'every', interval, span: DUMMY })),
  timeQuantity.map((offset): A.Schedule => ({ kind: 'at', offset, span: DUMMY })),
  fc.constant<A.Schedule>({ kind: 'start', span: DUMMY }),
  fc.constant<A.Schedule>({ kind: 'continuously', span: DUMMY }),
);

const deferOrEnd: fc.Arbitrary<A.DeferAction | A.EndSessionAction> = fc.oneof(
  stringLit.map((reason): A.DeferAction => ({ kind: 'Defer', reason, span: DUMMY })),
  stringLit.map((reason): A.EndSessionAction => ({ kind: 'EndSession', reason, span: DUMMY })),
);

const stageItem: fc.Arbitrary<A.StageItem> = fc.oneof(
  fc
    .record({ verb: fc.constantFrom('monitor' as const, 'measure' as const), measures: nameList(POOLS.measures), schedule })
    .map((m): A.StageItem => ({ kind: 'Monitor', ...m, span: DUMMY })),
  fc
    .record({
      drug: pick(POOLS.drugs),
      dose: doseQuantity,
      route: fc.constantFrom(...ROUTES),
      delivery: fc.oneof(
        timeQuantity.map((duration): A.Administer['delivery'] => ({ kind: 'over', duration, span: DUMMY })),
        fc.constant<A.Administer['delivery']>({ kind: 'once', span: DUMMY }),
      ),
    })
    .map((a): A.StageItem => ({ kind: 'Administer', ...a, routeSpan: DUMMY, span: DUMMY })),
  fc.record({ condition: expression, otherwise: deferOrEnd }).map((g): A.StageItem => ({ kind: 'Gate', ...g, span: DUMMY })),
);

const stage: fc.Arbitrary<A.Stage> = fc
  .record({ name: pick(POOLS.stages), duration: opt(stageDuration), items: fc.array(stageItem, { maxLength: 4 }) })
  .map((s) => defined({ kind: 'Stage' as const, ...s, span: DUMMY }));

const actionArb: fc.Arbitrary<A.Action> = fc.oneof(
  pick(POOLS.stages).map((stage): A.Action => ({ kind: 'Pause', stage, span: DUMMY })),
  pick(POOLS.stages).map((stage): A.Action => ({ kind: 'Stop', stage, span: DUMMY })),
  deferOrEnd,
  pick(POOLS.levels).map((level): A.Action => ({ kind: 'Escalate', level, span: DUMMY })),
  pick(POOLS.roles).map((role): A.Action => ({ kind: 'Notify', role, span: DUMMY })),
  fc
    .record({ role: pick(POOLS.roles), within: opt(timeQuantity), duration: opt(timeQuantity) })
    .map((a): A.Action => defined({ kind: 'Attend' as const, ...a, span: DUMMY })),
  fc
    .record({ drug: pick(POOLS.drugs), dose: doseQuantity, route: opt(fc.constantFrom(...ROUTES)) })
    .map((a): A.Action => defined({ kind: 'Give' as const, ...a, span: DUMMY })),
  fc.record({ drug: pick(POOLS.drugs), to: doseQuantity }).map((a): A.Action => ({ kind: 'Reduce', ...a, span: DUMMY })),
);

const rule: fc.Arbitrary<A.Rule> = fc
  .record({
    name: pick(POOLS.rules),
    when: expression,
    actions: fc.array(actionArb, { minLength: 1, maxLength: 3 }),
    resume: opt(expression),
  })
  .map((r) => defined({ kind: 'Rule' as const, ...r, span: DUMMY }));

const property: fc.Arbitrary<A.Property> = fc.oneof(
  expression.map((expr): A.Property => ({ kind: 'Always', expr, span: DUMMY })),
  expression.map((expr): A.Property => ({ kind: 'Never', expr, span: DUMMY })),
  fc.record({ expr: expression, within: timeQuantity }).map((p): A.Property => ({ kind: 'Eventually', ...p, span: DUMMY })),
  fc
    .record({ cause: expressionAt(LEVEL.or, 3), effect: expressionAt(LEVEL.implies, 3), within: timeQuantity })
    .map((p): A.Property => ({ kind: 'LeadsTo', ...p, span: DUMMY })),
);

const sessionItem: fc.Arbitrary<A.SessionItem> = fc.oneof(
  fc.array(staffLine, { maxLength: 3 }).map((lines): A.SessionItem => ({ kind: 'Staffing', lines, span: DUMMY })),
  stage,
  expression.map((condition): A.SessionItem => ({ kind: 'Discharge', condition, span: DUMMY })),
  rule,
  fc.record({ name: pick(POOLS.asserts), property }).map((a): A.SessionItem => ({ kind: 'Assert', ...a, span: DUMMY })),
);

const protocolItem: fc.Arbitrary<A.ProtocolItem> = fc.oneof(
  stringLit.map((value): A.ProtocolItem => ({ kind: 'Version', value, span: DUMMY })),
  fc.oneof(
    fc.constant<A.ProtocolItem>({ kind: 'Setting', mode: 'individual', span: DUMMY }),
    rangeLit(wholeLit).map((size): A.ProtocolItem => ({ kind: 'Setting', mode: 'group', size, span: DUMMY })),
  ),
  fc.array(populationItem, { maxLength: 4 }).map((items): A.ProtocolItem => ({ kind: 'Population', items, span: DUMMY })),
  fc.array(roleDecl, { maxLength: 3 }).map((roles): A.ProtocolItem => ({ kind: 'Roles', roles, span: DUMMY })),
  fc.array(measureDecl, { maxLength: 3 }).map((measures): A.ProtocolItem => ({ kind: 'Measures', measures, span: DUMMY })),
  fc.array(pick(POOLS.events), { maxLength: 4 }).map((events): A.ProtocolItem => ({ kind: 'Events', events, span: DUMMY })),
  fc.array(drugDecl, { maxLength: 3 }).map((drugs): A.ProtocolItem => ({ kind: 'Drugs', drugs, span: DUMMY })),
  fc.array(courseItem, { maxLength: 4 }).map((items): A.ProtocolItem => ({ kind: 'Course', items, span: DUMMY })),
  fc
    .record({ name: pick(POOLS.sessions), items: fc.array(sessionItem, { maxLength: 6 }) })
    .map((s): A.ProtocolItem => ({ kind: 'Session', ...s, span: DUMMY })),
);

/** A whole protocol AST with dummy spans. */
export const protocol: fc.Arbitrary<A.Protocol> = fc
  .record({ title: stringLit, items: fc.array(protocolItem, { maxLength: 8 }) })
  .map((p) => ({ kind: 'Protocol', ...p, span: DUMMY }));

/** A generated protocol in canonical layout (no comments). */
export const protocolText: fc.Arbitrary<string> = protocol.map((p) => printProtocol(p));

// ── Normalisation ────────────────────────────────────────────────────────

/** A deep copy without `span`/`routeSpan` keys (and without undefined values), for comparing trees. */
export function stripSpans<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripSpans) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'span' || k === 'routeSpan' || v === undefined) continue;
      out[k] = stripSpans(v);
    }
    return out as T;
  }
  return value;
}

/** A deep copy with every `Group` node replaced by the expression inside it. */
export function stripGroups<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripGroups) as T;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (o['kind'] === 'Group' && 'expr' in o) return stripGroups(o['expr']) as T;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) out[k] = stripGroups(v);
    return out as T;
  }
  return value;
}

// ── Whitespace and comment perturbation ──────────────────────────────────

export interface PerturbOptions {
  /** Also insert line and block comments between tokens (default false). */
  readonly comments?: boolean;
}

const WHITESPACE = [' ', '  ', '\t', '\n', '\n\n', ' \n\t', '\r\n', '    '];
const COMMENT_BODIES = ['', 'note', ' TODO: check ', 'x < 5 and "y"', 'é ≥ 2', '{ }', '* /', 'per CALIBRATION.md'];

/**
 * The same token stream with different whitespace: every run of whitespace
 * between tokens (and at both ends) is replaced by another non-empty run of
 * spaces, tabs and newlines; where two tokens touch, whitespace may be put
 * between them. With `comments`, comments are inserted between tokens,
 * always surrounded by whitespace (a `//` comment is followed by a newline).
 * Existing comments are kept. `rng` returns numbers in [0, 1).
 */
export function perturbWhitespace(text: string, rng: () => number, options: PerturbOptions = {}): string {
  const lexed = lex(text);
  const pieces = [...lexed.tokens.map((t) => ({ start: t.startOffset, end: t.startOffset + t.image.length, line: false })),
    ...lexed.comments.map((c) => ({ start: c.span.start, end: c.span.end, line: !c.block }))].sort((a, b) => a.start - b.start);
  const choose = <T>(list: readonly T[]): T => list[Math.floor(rng() * list.length) % list.length]!;
  const space = (needsNewline: boolean): string => {
    const s = choose(WHITESPACE);
    return needsNewline && !s.includes('\n') ? `${s}\n` : s;
  };
  const comment = (): string =>
    rng() < 0.5 ? ` //${choose(COMMENT_BODIES)}\n` : ` /*${choose(COMMENT_BODIES)}${rng() < 0.3 ? '\n  more' : ''}*/ `;
  let out = '';
  let at = 0;
  let afterLineComment = false;
  for (const p of [...pieces, { start: text.length, end: text.length, line: false }]) {
    const gap = text.slice(at, p.start);
    let sep = '';
    if (gap.length > 0 || afterLineComment) sep = space(afterLineComment);
    else if (rng() < 0.2) sep = space(false);
    if (options.comments && rng() < 0.1) sep += comment() + (rng() < 0.5 ? space(false) : '');
    out += sep + text.slice(p.start, p.end);
    at = p.end;
    afterLineComment = p.line;
  }
  return out;
}

/**
 * A tape of random numbers from fast-check (so it replays with the seed);
 * `tapeRng(tape)` turns it into a fresh `rng` for `perturbWhitespace`.
 */
export const randomTape: fc.Arbitrary<readonly number[]> = fc.array(fc.nat({ max: 9999 }), { minLength: 1, maxLength: 200 });

/** A deterministic source of numbers in [0, 1) that cycles through `tape`. */
export function tapeRng(tape: readonly number[]): () => number {
  let i = 0;
  return () => {
    const x = (tape[i % tape.length]! + i * 6180.339887) % 10000;
    i++;
    return x / 10000;
  };
}

/** A printed generated protocol and a perturbed copy of it. */
export function perturbedProtocolText(options: PerturbOptions = {}): fc.Arbitrary<{ original: string; perturbed: string }> {
  return fc
    .tuple(protocolText, randomTape)
    .map(([original, tape]) => ({ original, perturbed: perturbWhitespace(original, tapeRng(tape), options) }));
}
