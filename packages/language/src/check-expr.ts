/**
 * Expressions: names resolved, yes/no versus number, units and dimensions
 * checked in every comparison and arithmetic, thresholds compared with each
 * measure's possible range. `Missing` nodes (syntax errors, already reported)
 * have an unknown type and produce nothing more.
 */
import type { BinaryExpr, CallExpr, CompareOp, Expr, MeasureDecl, Name, Quantity } from './ast.js';
import { OUTCOMES } from './ast.js';
import { diagnostic } from './diagnostics.js';
import { plural, quote, show, showQuantity } from './check-text.js';
import type { ExprType, Resolver, SessionSymbol } from './check-symbols.js';
import { closest } from './suggest.js';
import { CANONICAL_UNIT, DIMENSION_NAMES, MEASURE_DIMENSIONS, unitInfo, type Dimension } from './units.js';

/** Where an expression stands; decides what it may mention. */
export type Where = 'population' | 'when' | 'resume' | 'gate' | 'discharge' | 'assert';

const WHERE_NAMES: Record<Where, string> = {
  population: '`population`',
  when: 'a rule',
  resume: '`resume when`',
  gate: 'a gate',
  discharge: '`discharge when`',
  assert: 'an assert',
};

export interface ExprContext {
  readonly where: Where;
  readonly session: SessionSymbol | undefined;
  /** Set when the expression mentions something a trace can show (for asserts). */
  observes?: boolean;
  /** Measures read (observed values), first mention of each. */
  readonly reads?: Map<string, Name>;
  /** Events mentioned (for "event with no rule"). */
  readonly events?: Set<string>;
}

type Num = {
  readonly kind: 'number';
  readonly dim?: Dimension | undefined;
  /** A number written without a unit (it may take its neighbour's unit). */
  readonly bare?: boolean;
  /** The measure this is the value of (`sbp`, `observed sbp`, `baseline sbp`). */
  readonly measure?: MeasureDecl | undefined;
  /** The unit as written, for messages. */
  readonly unit?: string | undefined;
  /** A count of people or events. */
  readonly count?: boolean;
};
type Ty = { readonly kind: 'bool' } | Num | { readonly kind: 'unknown' };

const BOOL: Ty = { kind: 'bool' };
const UNKNOWN: Ty = { kind: 'unknown' };

const FUNCTIONS: Record<string, { arity: number; arg: 'role' | 'drug' | 'event' | 'number'; example: string }> = {
  present: { arity: 1, arg: 'role', example: 'present(therapist) >= 1' },
  free: { arity: 1, arg: 'role', example: 'free(facilitator) >= 1' },
  dose: { arity: 1, arg: 'drug', example: 'dose(ketamine) <= 1 mg/kg' },
  count: { arity: 1, arg: 'event', example: 'count(vomiting) >= 2' },
  max: { arity: 2, arg: 'number', example: 'max(sbp, baseline sbp)' },
  min: { arity: 2, arg: 'number', example: 'min(spo2, 95)' },
};
const FUNCTION_LIST = 'The functions are `present(role)`, `free(role)`, `dose(drug)`, `count(event)`, `max(a, b)` and `min(a, b)`.';

const FLIP: Record<CompareOp, CompareOp> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '==': '==', '!=': '!=' };

function isCompare(op: string): op is CompareOp {
  return op === '<' || op === '<=' || op === '>' || op === '>=' || op === '==' || op === '!=';
}

function unwrap(e: Expr): Expr {
  return e.kind === 'Group' ? unwrap(e.expr) : e;
}

/** The value of a literal threshold (`180`, `-5`, `(92 %)`), or undefined. */
function literal(e: Expr): { value: number; unit: string | undefined } | undefined {
  const x = unwrap(e);
  if (x.kind === 'Quantity') return { value: x.value, unit: x.unit?.text };
  if (x.kind === 'Neg') {
    const inner = literal(x.operand);
    return inner && { value: -inner.value, unit: inner.unit };
  }
  return undefined;
}

/** Quantities without a unit inside an expression. */
function bareQuantities(e: Expr, out: Set<Expr> = new Set()): Set<Expr> {
  switch (e.kind) {
    case 'Quantity':
      if (!e.unit) out.add(e);
      break;
    case 'Neg':
      bareQuantities(e.operand, out);
      break;
    case 'Group':
      bareQuantities(e.expr, out);
      break;
    case 'Binary':
      bareQuantities(e.left, out);
      bareQuantities(e.right, out);
      break;
    default:
      break;
  }
  return out;
}

export function describeDim(dim: Dimension, unit?: string): string {
  return unit ? `${DIMENSION_NAMES[dim]} (${unit})` : DIMENSION_NAMES[dim];
}

function describeNum(t: Num): string {
  if (t.dim) return describeDim(t.dim, t.unit);
  if (t.count) return 'a count';
  return 'a plain number';
}

export class ExprChecker {
  constructor(private readonly names: Resolver) {}

  private get sy() {
    return this.names.sy;
  }
  private report(...args: Parameters<typeof diagnostic>): void {
    this.names.report(diagnostic(...args));
  }

  /** Checks an expression that must be a yes/no condition. */
  condition(e: Expr, ctx: ExprContext): void {
    this.requireBool(e, this.visit(e, ctx));
  }

  private visit(e: Expr, ctx: ExprContext): Ty {
    const t = this.visitInner(e, ctx);
    if (t.kind === 'bool') this.sy.types.set(e, { kind: 'bool' });
    else if (t.kind === 'number' && !this.sy.types.has(e)) {
      const et: ExprType = t.dim ? { kind: 'number', dimension: t.dim } : { kind: 'number' };
      this.sy.types.set(e, et);
    }
    return t;
  }

  private visitInner(e: Expr, ctx: ExprContext): Ty {
    switch (e.kind) {
      case 'Missing':
        ctx.observes = true;
        return UNKNOWN;
      case 'Quantity': {
        const info = e.unit ? unitInfo(e.unit.text) : undefined;
        if (e.unit && !info) return UNKNOWN;
        return info ? { kind: 'number', dim: info.dimension, unit: e.unit?.text } : { kind: 'number', bare: true };
      }
      case 'Ref':
        return this.ref(e, ctx);
      case 'Paused':
      case 'InStage': {
        ctx.observes = true;
        if (this.sessionOnly(e, ctx)) return BOOL;
        this.names.stage(e.stage, ctx.session);
        return BOOL;
      }
      case 'Observed':
      case 'Baseline': {
        ctx.observes = true;
        const m = this.names.measure(e.measure, ctx.session);
        if (e.kind === 'Observed') {
          if (ctx.where === 'population') {
            this.report('KAP3012', `\`observed ${e.measure.text}\` has no meaning in \`population\`, which is decided before any session.`, e.span, {
              hint: `Write \`baseline ${e.measure.text}\`.`,
            });
          } else if (ctx.where !== 'assert') {
            this.report(
              'KAP3017',
              `In ${WHERE_NAMES[ctx.where]}, \`${e.measure.text}\` already means the last observed value, so \`observed\` adds nothing.`,
              e.span,
              { hint: `Write \`${e.measure.text}\`.` },
            );
          }
          if (m) this.noteRead(e.measure, ctx);
        }
        return m ? this.measureType(m) : UNKNOWN;
      }
      case 'Caution':
        this.names.flag(e.flag);
        return BOOL;
      case 'Elapsed':
        ctx.observes = true;
        if (this.sessionOnly(e, ctx)) return UNKNOWN;
        return { kind: 'number', dim: 'time' };
      case 'Call':
        return this.call(e, ctx);
      case 'Not':
        this.requireBool(e.operand, this.visit(e.operand, ctx), '`not`');
        return BOOL;
      case 'Neg': {
        const t = this.visit(e.operand, ctx);
        if (!this.requireNumber(e.operand, t, 'negated')) return UNKNOWN;
        return t.kind === 'number' ? { ...t, measure: undefined } : UNKNOWN;
      }
      case 'Group':
        return this.visit(e.expr, ctx);
      case 'For': {
        this.requireBool(e.expr, this.visit(e.expr, ctx), '`for`');
        this.time(e.duration, 'for');
        return BOOL;
      }
      case 'During': {
        this.requireBool(e.expr, this.visit(e.expr, ctx), '`during`');
        if (!this.sessionOnly(e, ctx)) for (const s of e.stages) this.names.stage(s, ctx.session);
        return BOOL;
      }
      case 'Binary':
        return this.binary(e, ctx);
    }
  }

  /** Reports a session-only construct in `population`; true when reported. */
  private sessionOnly(e: Expr, ctx: ExprContext): boolean {
    if (ctx.where !== 'population' && ctx.session) return false;
    const what = e.kind === 'During' ? '`during`' : quote(e, 'this');
    this.report('KAP3012', `${what} has no meaning in \`population\`, which is decided before any session.`, e.span, {
      hint: 'Eligibility can use `baseline <measure>`, `caution <condition>`, numbers and comparisons.',
    });
    return true;
  }

  private measureType(m: MeasureDecl): Num {
    const dim = unitInfo(m.unit.text)?.dimension;
    return { kind: 'number', dim, measure: m, unit: m.unit.text };
  }

  private noteRead(name: Name, ctx: ExprContext): void {
    if (ctx.where === 'when' || ctx.where === 'resume' || ctx.where === 'gate' || ctx.where === 'discharge') {
      if (ctx.reads && !ctx.reads.has(name.text)) ctx.reads.set(name.text, name);
    }
  }

  private ref(e: Extract<Expr, { kind: 'Ref' }>, ctx: ExprContext): Ty {
    const name = e.name.text;
    ctx.observes = true;
    const m = this.sy.measures.get(name);
    if (m) {
      this.sy.refs.set(e, 'measure');
      this.noteRead(e.name, ctx);
      return this.measureType(m);
    }
    if (this.sy.events.has(name)) {
      this.sy.refs.set(e, 'event');
      if (ctx.where === 'population') {
        this.report('KAP3012', `The event \`${name}\` has no meaning in \`population\`, which is decided before any session.`, e.span, {
          hint: 'Eligibility can use `baseline <measure>`, `caution <condition>`, numbers and comparisons.',
        });
      } else if (ctx.where === 'when') ctx.events?.add(name);
      return BOOL;
    }
    if (ctx.session?.stages.has(name)) {
      this.sy.refs.set(e, 'stage');
      return BOOL;
    }
    if ((OUTCOMES as readonly string[]).includes(name)) {
      this.sy.refs.set(e, 'outcome');
      if (ctx.where !== 'assert') {
        this.report('KAP3012', `\`${name}\` is a session outcome; outcomes can only be used in an \`assert\`.`, e.span, {
          hint: 'In a rule, test what leads to the outcome instead, e.g. a stage or a measure.',
        });
      }
      return BOOL;
    }
    const candidates = [...this.sy.measures.keys(), ...this.sy.events.keys(), ...(ctx.session?.stages.keys() ?? [])];
    if (ctx.where === 'assert') candidates.push(...OUTCOMES);
    const expected = ctx.session ? 'a measure, an event or a stage' : 'a measure or an event';
    this.names.unknown(e.name, expected, candidates, ctx.session, 'Declare it in `measures { … }` or `events { … }`.', (what) => {
      if (what === 'a role') return `To count who is there, write \`present(${name}) >= 1\`.`;
      if (what === 'a drug') return `To use the dose given so far, write \`dose(${name})\`.`;
      if (what === 'a condition flag') return `Write \`caution ${name}\`.`;
      if (what === 'a rule') return 'A rule cannot be named in a condition; repeat its condition, or test what it does (e.g. `infusion paused`).';
      return undefined;
    });
    return UNKNOWN;
  }

  // ── yes/no versus numbers ─────────────────────────────────────────────

  private requireBool(e: Expr, t: Ty, operator?: string): void {
    if (t.kind !== 'number') return;
    const q = quote(e, 'This expression');
    const suffix = operator ? `, so ${operator} cannot apply to it` : '';
    const m = t.measure;
    if (m) {
      const threshold = Math.round(m.range.min.value + ((m.range.max.value - m.range.min.value) * 2) / 3);
      this.report('KAP3004', `\`${m.name.text}\` is a number, not a yes/no condition${suffix}.`, e.span, {
        hint: `Compare it with a threshold, e.g. \`${show(e)} > ${threshold}\`.`,
      });
      return;
    }
    this.report('KAP3004', `${q} is a number, not a yes/no condition${suffix}.`, e.span, {
      hint: 'Compare it with a threshold using `<`, `<=`, `>`, `>=`, `==` or `!=`.',
    });
  }

  /** True when `t` is a number or unknown; reports a yes/no value. */
  private requireNumber(e: Expr, t: Ty, verb: string): t is Num | { kind: 'unknown' } {
    if (t.kind !== 'bool') return true;
    const x = unwrap(e);
    const event = x.kind === 'Ref' && this.sy.refs.get(x) === 'event' ? x.name.text : undefined;
    this.report('KAP3004', `${quote(e, 'This condition')} is a yes/no condition, not a number; it cannot be ${verb}.`, e.span, {
      hint: event
        ? `Use it on its own (\`when ${event}\`), or count it: \`count(${event}) >= 2\`.`
        : 'Use it on its own as a condition, or combine it with `and`, `or` and `not`.',
    });
    return false;
  }

  // ── operators ─────────────────────────────────────────────────────────

  private binary(e: BinaryExpr, ctx: ExprContext): Ty {
    const L = this.visit(e.left, ctx);
    const R = this.visit(e.right, ctx);
    if (e.op === 'and' || e.op === 'or' || e.op === 'implies') {
      this.requireBool(e.left, L, `\`${e.op}\``);
      this.requireBool(e.right, R, `\`${e.op}\``);
      return BOOL;
    }
    const verb = isCompare(e.op) ? 'compared' : e.op === '+' ? 'added' : e.op === '-' ? 'subtracted' : e.op === '*' ? 'multiplied' : 'divided';
    const okL = this.requireNumber(e.left, L, verb);
    const okR = this.requireNumber(e.right, R, verb);
    if (isCompare(e.op)) {
      if (okL && okR && L.kind === 'number' && R.kind === 'number') {
        if (this.unify(e, e.left, e.right, L, R, 'compared')) this.threshold(e, e.op, L, R);
      }
      return BOOL;
    }
    if (!okL || !okR || L.kind !== 'number' || R.kind !== 'number') return UNKNOWN;
    if (e.op === '+' || e.op === '-') {
      const u = this.unify(e, e.left, e.right, L, R, verb);
      return u ?? UNKNOWN;
    }
    if (e.op === '*') {
      if (L.dim && R.dim) {
        this.report('KAP3001', `${quote(e.left)} is ${describeNum(L)} and ${quote(e.right)} is ${describeNum(R)}; they cannot be multiplied.`, e.span, {
          hint: 'One side of `*` must be a plain number, e.g. `1.2 * baseline sbp`.',
        });
        return UNKNOWN;
      }
      return { kind: 'number', dim: L.dim ?? R.dim, unit: L.dim ? L.unit : R.unit, bare: !!L.bare && !!R.bare };
    }
    // division
    if (!R.dim) return { kind: 'number', dim: L.dim, unit: L.unit, bare: !!L.bare && !!R.bare };
    if (L.dim === R.dim) return { kind: 'number' };
    this.report(
      'KAP3001',
      `${quote(e.left)} is ${describeNum(L)} and ${quote(e.right)} is ${describeNum(R)}; one cannot be divided by the other.`,
      e.span,
      { hint: 'Divide by a plain number, or divide two quantities of the same kind to get a ratio.' },
    );
    return UNKNOWN;
  }

  /**
   * Two numbers that must have the same dimension (comparison, `+`, `-`,
   * `max`, `min`). A bare number takes a measure's unit; next to a time or a
   * dose it needs its own. Returns the combined type, or undefined after a
   * report.
   */
  private unify(node: Expr, left: Expr, right: Expr, L: Num, R: Num, verb: string): Num | undefined {
    if (L.dim && R.dim) {
      if (L.dim === R.dim) return { kind: 'number', dim: L.dim, unit: L.unit };
      this.mismatch(node, left, right, L, R, verb);
      return undefined;
    }
    if (L.dim) return this.adopt(node, left, right, L, R, 'right', verb);
    if (R.dim) return this.adopt(node, left, right, L, R, 'left', verb);
    return { kind: 'number', bare: !!L.bare && !!R.bare, count: !!L.count || !!R.count };
  }

  /** One side (`plainSide`) has no dimension, the other has one. */
  private adopt(node: Expr, left: Expr, right: Expr, L: Num, R: Num, plainSide: 'left' | 'right', verb: string): Num | undefined {
    const [plain, P, other, O] = plainSide === 'right' ? [right, R, left, L] : [left, L, right, R];
    const dim = O.dim as Dimension;
    if (!P.bare) {
      this.mismatch(node, left, right, L, R, verb);
      return undefined;
    }
    if (MEASURE_DIMENSIONS.has(dim)) {
      this.sy.types.set(plain, { kind: 'number', dimension: dim });
      return { kind: 'number', dim, unit: O.unit };
    }
    const unit = CANONICAL_UNIT[dim];
    const bare = bareQuantities(plain);
    const fixed = show(node, (x) => (bare.has(x) && x.kind === 'Quantity' ? `${x.text} ${unit}` : undefined));
    const nodeText = show(node);
    const message =
      nodeText.length <= 60 && !nodeText.includes('…')
        ? `\`${nodeText}\` needs a unit: write \`${fixed}\`.`
        : `${quote(plain, 'This number')} needs a unit, because ${quote(other, 'the other side')} is ${DIMENSION_NAMES[dim]}.`;
    this.report('KAP3003', message, plain.span, {
      hint:
        dim === 'time'
          ? `${quote(other, 'The other side')} is a time; time units are \`s\`, \`min\`, \`h\`, \`days\` and \`weeks\`.`
          : `${quote(other, 'The other side')} is ${DIMENSION_NAMES[dim]}; write the number with \`${unit}\`${dim === 'mass' ? ' or `mcg`' : ''}.`,
    });
    return undefined;
  }

  private mismatch(node: Expr, left: Expr, right: Expr, L: Num, R: Num, verb: string): void {
    const measureSide = L.measure ? { m: L.measure, lit: right } : R.measure ? { m: R.measure, lit: left } : undefined;
    let hint: string;
    const lit = measureSide && unwrap(measureSide.lit);
    if (measureSide && lit && lit.kind === 'Quantity' && lit.unit) {
      const fixed = show(node, (x) => (x === lit ? lit.text : undefined));
      hint = `Write the threshold in ${measureSide.m.unit.text}, e.g. \`${fixed}\`.`;
    } else if (L.count || R.count) {
      hint = 'A count is a plain number: compare it with a number such as `1`.';
    } else if (L.dim && R.dim) {
      hint = `Both sides must be of the same kind, e.g. both ${DIMENSION_NAMES[L.dim].replace(/^an? /, '')}s.`;
    } else hint = 'Both sides must be of the same kind.';
    this.report('KAP3001', `${quote(left)} is ${describeNum(L)} but ${quote(right)} is ${describeNum(R)}; they cannot be ${verb}.`, node.span, {
      hint,
    });
  }

  /** A literal threshold outside the measure's possible range: the comparison never changes. */
  private threshold(e: BinaryExpr, op: CompareOp, L: Num, R: Num): void {
    let m: MeasureDecl | undefined;
    let lit: Expr;
    let o = op;
    if (L.measure && !R.measure) {
      m = L.measure;
      lit = e.right;
    } else if (R.measure && !L.measure) {
      m = R.measure;
      lit = e.left;
      o = FLIP[op];
    } else return;
    const v = literal(lit);
    if (!v) return;
    const mf = unitInfo(m.unit.text)?.factor ?? 1;
    const vf = v.unit ? (unitInfo(v.unit)?.factor ?? 1) : mf;
    const value = (v.value * vf) / mf;
    const { min, max } = { min: m.range.min.value, max: m.range.max.value };
    if (min > max || (value >= min && value <= max)) return;
    const above = value > max;
    const always = above ? o === '<' || o === '<=' || o === '!=' : o === '>' || o === '>=' || o === '!=';
    this.report(
      'KAP3006',
      `${quote(lit)} is outside the possible range of \`${m.name.text}\` (${m.range.min.text}..${m.range.max.text} ${m.unit.text}), so ${quote(e, 'this comparison')} is ${always ? 'always' : 'never'} true.`,
      lit.span,
      {
        hint: `Check the threshold, or widen the range of \`${m.name.text}\` in \`measures\`.`,
        related: [{ span: m.range.span, message: 'possible range declared here' }],
      },
    );
  }

  // ── functions ─────────────────────────────────────────────────────────

  private call(e: CallExpr, ctx: ExprContext): Ty {
    ctx.observes = true;
    const name = e.callee.text;
    const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
    if (!fn) {
      const guess = closest(name, Object.keys(FUNCTIONS));
      this.report('KAP2005', `\`${name}\` is not a function kapspec knows.`, e.callee.span, {
        hint: guess ? `Did you mean \`${guess}\`? ${FUNCTION_LIST}` : FUNCTION_LIST,
      });
      return UNKNOWN;
    }
    if (e.args.length !== fn.arity) {
      this.report(
        'KAP3016',
        `\`${name}\` takes ${plural(fn.arity, 'argument')}, but ${e.args.length === 1 ? '1 is' : `${e.args.length} are`} given.`,
        e.span,
        { hint: `Write it like \`${fn.example}\`.` },
      );
      if (e.args.length < fn.arity) {
        for (const a of e.args) if (fn.arg === 'number') this.visit(a, ctx);
        return fn.arg === 'number' ? UNKNOWN : { kind: 'number', count: fn.arg !== 'drug' };
      }
    }
    const a0 = e.args[0] as Expr;
    if (fn.arg === 'number') {
      const a1 = e.args[1] as Expr;
      const A = this.visit(a0, ctx);
      const B = this.visit(a1, ctx);
      const okA = this.requireNumber(a0, A, `passed to \`${name}\``);
      const okB = this.requireNumber(a1, B, `passed to \`${name}\``);
      for (const extra of e.args.slice(2)) this.visit(extra, ctx);
      if (!okA || !okB || A.kind !== 'number' || B.kind !== 'number') return UNKNOWN;
      const u = this.unify(e, a0, a1, A, B, `combined by \`${name}\``);
      return u ? { ...u, measure: undefined } : UNKNOWN;
    }
    const arg = unwrap(a0);
    if (arg.kind === 'Missing') return fn.arg === 'drug' ? UNKNOWN : { kind: 'number', count: true };
    if (arg.kind !== 'Ref') {
      this.report('KAP3004', `\`${name}\` needs the name of ${fn.arg === 'event' ? 'an' : 'a'} ${fn.arg}, not ${quote(arg, 'an expression')}.`, arg.span, {
        hint: `Write it like \`${fn.example}\`.`,
      });
      return fn.arg === 'drug' ? UNKNOWN : { kind: 'number', count: true };
    }
    if (fn.arg === 'role') {
      if (this.names.role(arg.name, ctx.session)) this.sy.refs.set(arg, 'role');
      return { kind: 'number', count: true };
    }
    if (fn.arg === 'event') {
      if (this.sy.events.has(arg.name.text)) {
        this.sy.refs.set(arg, 'event');
        if (ctx.where === 'when') ctx.events?.add(arg.name.text);
      } else {
        const events = [...this.sy.events.keys()];
        this.names.unknown(arg.name, 'an event', events, ctx.session, 'Declare it in `events { … }`.');
      }
      return { kind: 'number', count: true };
    }
    // dose(drug)
    if (!this.names.drug(arg.name, ctx.session)) return UNKNOWN;
    this.sy.refs.set(arg, 'drug');
    const dim = this.sy.doseDimension(arg.name.text);
    return dim ? { kind: 'number', dim } : UNKNOWN;
  }

  // ── quantities in fixed positions ─────────────────────────────────────

  /** A time after `every`, `for`, `within`, …: a unit of time, more than zero. */
  time(q: Quantity, keyword: string, allowZero = false): boolean {
    const written = `${keyword} ${showQuantity(q)}`;
    if (!q.unit) {
      this.report('KAP3003', `\`${written}\` needs a unit: write \`${keyword} ${q.text} min\`.`, q.span, {
        hint: 'Time units are `s`, `min`, `h`, `days` and `weeks`.',
      });
      return false;
    }
    const dim = unitInfo(q.unit.text)?.dimension;
    if (dim && dim !== 'time') {
      this.report('KAP3002', `\`${written}\` needs a time, but \`${q.unit.text}\` is a unit of ${DIMENSION_NAMES[dim].replace(/^an? /, '')}.`, q.unit.span, {
        hint: `Write a time such as \`${keyword} ${q.text} min\`.`,
      });
      return false;
    }
    if (!allowZero && q.value <= 0) {
      this.report('KAP3013', `\`${written}\` is zero; ${keyword === 'every' ? 'an interval' : 'a time here'} must be longer than that.`, q.span, {
        hint: `Write a positive time, e.g. \`${keyword} 5 min\`.`,
      });
      return false;
    }
    return true;
  }

  /** A dose after `administer`, `give`, `reduce … to`, `max`: mass or weight-based. */
  dose(q: Quantity, what: string, allowZero = false): boolean {
    if (!q.unit) {
      this.report('KAP3003', `The dose \`${q.text}\` ${what} needs a unit: write \`${q.text} mg\` or \`${q.text} mg/kg\`.`, q.span, {
        hint: 'Dose units are `mcg`, `mg`, `g`, `mcg/kg` and `mg/kg`.',
      });
      return false;
    }
    const dim = unitInfo(q.unit.text)?.dimension;
    if (dim && dim !== 'mass' && dim !== 'weight-dose') {
      this.report('KAP3002', `The dose \`${showQuantity(q)}\` ${what} is ${DIMENSION_NAMES[dim]}, not a dose.`, q.unit.span, {
        hint: `Write a dose such as \`${q.text} mg\` or \`${q.text} mg/kg\`.`,
      });
      return false;
    }
    if (!allowZero && q.value <= 0) {
      this.report('KAP3013', `The dose \`${showQuantity(q)}\` ${what} is zero.`, q.span, {
        hint: 'Write the dose given, which must be more than zero.',
      });
      return false;
    }
    return true;
  }
}

