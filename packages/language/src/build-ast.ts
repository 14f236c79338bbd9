/**
 * CST → AST. Reads the concrete syntax tree that chevrotain built (possibly
 * with holes left by error recovery) and produces the typed AST of `ast.ts`.
 * A hole in an expression becomes a `Missing` node; a declaration without a
 * name is left out. Never throws on any CST the parser can produce.
 */
import type { CstNode, IToken } from 'chevrotain';
import type * as A from './ast.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import type { Limits } from './limits.js';
import type { Span } from './span.js';
import { closest } from './suggest.js';

type Children = Record<string, (CstNode | IToken)[] | undefined>;

function isToken(x: CstNode | IToken): x is IToken {
  return (x as IToken).tokenType !== undefined;
}

function real(t: IToken | undefined): IToken | undefined {
  if (t === undefined || t.isInsertedInRecovery || Number.isNaN(t.startOffset)) return undefined;
  return t;
}

function tok(ctx: Children, key: string, i = 0): IToken | undefined {
  const x = ctx[key]?.[i];
  return x !== undefined && isToken(x) ? real(x) : undefined;
}

function toks(ctx: Children, key: string): IToken[] {
  const out: IToken[] = [];
  for (const x of ctx[key] ?? []) {
    if (isToken(x)) {
      const t = real(x);
      if (t) out.push(t);
    }
  }
  return out;
}

function node(ctx: Children, key: string, i = 0): CstNode | undefined {
  const x = ctx[key]?.[i];
  return x !== undefined && !isToken(x) ? x : undefined;
}

function nodes(ctx: Children, key: string): CstNode[] {
  return (ctx[key] ?? []).filter((x): x is CstNode => !isToken(x));
}

/** Where a token ends: its end offset (a keyword read in place of a misspelt word keeps the word's span), else its image's length. */
function tokenEnd(t: IToken): number {
  return t.endOffset !== undefined && Number.isFinite(t.endOffset) ? t.endOffset + 1 : t.startOffset + t.image.length;
}

function tokenSpan(t: IToken): Span {
  return { start: t.startOffset, end: tokenEnd(t) };
}

/** The span of a CST node: from its first real token to its last. */
function nodeSpan(n: CstNode): Span | undefined {
  const loc = n.location;
  if (loc && Number.isFinite(loc.startOffset) && loc.endOffset !== undefined && Number.isFinite(loc.endOffset)) {
    return { start: loc.startOffset, end: loc.endOffset + 1 };
  }
  // Error recovery can leave a node without a location: walk its tokens.
  let start = Infinity;
  let end = -Infinity;
  const visit = (c: CstNode): void => {
    for (const list of Object.values(c.children)) {
      for (const x of list) {
        if (isToken(x)) {
          const t = real(x);
          if (t) {
            start = Math.min(start, t.startOffset);
            end = Math.max(end, tokenEnd(t));
          }
        } else visit(x);
      }
    }
  };
  visit(n);
  return start === Infinity ? undefined : { start, end };
}

function spanFrom(parts: (Span | undefined)[], fallback: Span): Span {
  let start = Infinity;
  let end = -Infinity;
  for (const p of parts) {
    if (p) {
      start = Math.min(start, p.start);
      end = Math.max(end, p.end);
    }
  }
  return start === Infinity ? fallback : { start, end };
}

function unquote(image: string): string {
  let body = image.slice(1);
  // The closing quote is one not escaped by an odd run of backslashes (`"a\\"` ends in `\`).
  const closing = /(\\*)"$/.exec(body);
  if (closing && closing[1]!.length % 2 === 0) body = body.slice(0, -1);
  return body.replace(/\\(.)/g, '$1');
}

/** A short source-like text for a simple operand (a name or a number), for hints. */
function printedSource(e: A.Expr): string | undefined {
  if (e.kind === 'Ref') return e.name.text;
  if (e.kind === 'Quantity') return e.unit ? `${e.text} ${e.unit.text}` : e.text;
  return undefined;
}

const BOOLEAN_OPS: Record<string, A.BinaryOp> = { and: 'and', or: 'or', implies: 'implies' };

export interface BuildResult {
  readonly protocol: A.Protocol | undefined;
  readonly diagnostics: Diagnostic[];
  /** Names reported as a misspelt keyword and read as that keyword. */
  readonly misread: Span[];
}

export function buildAst(cst: CstNode | undefined, textLength: number, limits: Limits): BuildResult {
  const b = new Builder(textLength, limits);
  const protocol = cst ? b.protocolFile(cst) : undefined;
  return { protocol, diagnostics: b.diagnostics, misread: b.misread };
}

const PROPERTY_FORMS = ['always', 'never', 'eventually'] as const;

/**
 * An assert written `aways (…)`, `nver (…)` or `eventualy (…) within …`:
 * the grammar reads a misspelt form word followed by parentheses as a call
 * of an unknown function. The word it was meant to be and the condition.
 */
function misspeltForm(e: A.Expr, within: boolean): { name: A.Name; word: (typeof PROPERTY_FORMS)[number]; expr: A.Expr } | undefined {
  if (e.kind !== 'Call' || e.args.length !== 1) return undefined;
  const word = closest(e.callee.text, within ? ['eventually'] : ['always', 'never']);
  if (word === undefined) return undefined;
  const arg = e.args[0]!;
  const group: A.Expr = { kind: 'Group', expr: arg, span: arg.span };
  return { name: e.callee, word: word as (typeof PROPERTY_FORMS)[number], expr: group };
}

class Builder {
  readonly diagnostics: Diagnostic[] = [];
  /** Names reported as a misspelt keyword and read as that keyword: the checker's findings there are not reported. */
  readonly misread: Span[] = [];
  private readonly depth = new Map<A.Expr, number>();
  private depthReported = false;
  private declarations = 0;
  private declarationsReported = false;

  constructor(
    private readonly textLength: number,
    private readonly limits: Limits,
  ) {}

  private eof(): Span {
    return { start: this.textLength, end: this.textLength };
  }

  private declared(span: Span): void {
    this.declarations++;
    if (this.declarations > this.limits.maxDeclarations && !this.declarationsReported) {
      this.declarationsReported = true;
      this.diagnostics.push(
        diagnostic(
          'KAP1012',
          `This file declares more than ${this.limits.maxDeclarations} items; kapspec stops reading declarations here.`,
          span,
          { hint: 'Split the protocol into several files.' },
        ),
      );
    }
  }

  // ── leaves ────────────────────────────────────────────────────────────

  private name(t: IToken | undefined): A.Name | undefined {
    return t ? { text: t.image, span: tokenSpan(t) } : undefined;
  }

  /** A declared name: any word is read, and a reserved one is reported. */
  private declName(c: Children, what: string): A.Name | undefined {
    const t = tok(c, 'name');
    if (!t) return undefined;
    if (t.tokenType.name !== 'Identifier') {
      const isUnit = t.tokenType.name.startsWith('Unit_');
      this.diagnostics.push(
        diagnostic('KAP1009', `\`${t.image}\` is a reserved word${isUnit ? ' (a unit)' : ''} and cannot name a ${what}.`, tokenSpan(t), {
          hint: `Choose another name, such as \`${t.image}_${what}\`.`,
        }),
      );
    }
    return { text: t.image, span: tokenSpan(t) };
  }

  private str(t: IToken | undefined): A.StringLit | undefined {
    return t ? { value: unquote(t.image), span: tokenSpan(t) } : undefined;
  }

  private num(t: IToken | undefined, whole = false): A.NumberLit | undefined {
    if (!t) return undefined;
    const value = Number(t.image);
    if (!Number.isFinite(value)) {
      this.diagnostics.push(diagnostic('KAP1013', `The number \`${t.image}\` is too large.`, tokenSpan(t)));
    } else if (whole && !Number.isInteger(value)) {
      this.diagnostics.push(
        diagnostic('KAP1013', `A whole number is needed here, not \`${t.image}\`.`, tokenSpan(t), {
          hint: `Write \`${Math.round(value)}\` or another whole number.`,
        }),
      );
    }
    return { value, text: t.image, span: tokenSpan(t) };
  }

  private range(n: CstNode | undefined, whole = false): A.RangeLit | undefined {
    if (!n) return undefined;
    const c = n.children as Children;
    const min = this.num(tok(c, 'min'), whole);
    const max = this.num(tok(c, 'max'), whole);
    if (!min || !max) return undefined;
    return { min, max, span: { start: min.span.start, end: max.span.end } };
  }

  private quantity(n: CstNode | undefined): A.Quantity | undefined {
    if (!n) return undefined;
    const c = n.children as Children;
    const numTok = tok(c, 'NumberLiteral');
    const lit = this.num(numTok);
    if (!lit) return undefined;
    const unitTok = tok(c, 'Unit');
    const unit = unitTok ? { text: unitTok.image, span: tokenSpan(unitTok) } : undefined;
    return {
      value: lit.value,
      text: lit.text,
      ...(unit ? { unit } : {}),
      span: { start: lit.span.start, end: unit ? unit.span.end : lit.span.end },
    };
  }

  private nameList(n: CstNode | undefined): A.Name[] {
    if (!n) return [];
    return toks(n.children as Children, 'Identifier').map((t) => ({ text: t.image, span: tokenSpan(t) }));
  }

  // ── protocol ──────────────────────────────────────────────────────────

  protocolFile(n: CstNode): A.Protocol | undefined {
    const c = n.children as Children;
    const title = this.str(tok(c, 'title'));
    const items: A.ProtocolItem[] = [];
    for (const itemNode of nodes(c, 'protocolItem')) {
      const item = this.protocolItem(itemNode);
      if (item) items.push(item);
    }
    const span = nodeSpan(n) ?? this.eof();
    return { kind: 'Protocol', title: title ?? { value: '', span }, items, span };
  }

  private protocolItem(n: CstNode): A.ProtocolItem | undefined {
    const c = n.children as Children;
    const [key] = Object.keys(c);
    const inner = key ? node(c, key) : undefined;
    if (!inner) return undefined;
    const ic = inner.children as Children;
    const span = nodeSpan(inner) ?? this.eof();
    switch (key) {
      case 'versionDecl': {
        const value = this.str(tok(ic, 'StringLiteral'));
        return value ? { kind: 'Version', value, span } : undefined;
      }
      case 'settingDecl': {
        if (tok(ic, 'Individual')) return { kind: 'Setting', mode: 'individual', span };
        const size = this.range(node(ic, 'range'), true);
        if (!tok(ic, 'Group')) return undefined;
        return size ? { kind: 'Setting', mode: 'group', size, span } : undefined;
      }
      case 'populationBlock':
        return { kind: 'Population', items: this.populationItems(ic), span };
      case 'rolesBlock':
        return { kind: 'Roles', roles: this.roles(ic), span };
      case 'measuresBlock':
        return { kind: 'Measures', measures: this.measures(ic), span };
      case 'eventsBlock': {
        const events = toks(ic, 'Identifier').map((t) => ({ text: t.image, span: tokenSpan(t) }));
        events.forEach((e) => this.declared(e.span));
        return { kind: 'Events', events, span };
      }
      case 'drugsBlock':
        return { kind: 'Drugs', drugs: this.drugs(ic), span };
      case 'courseBlock':
        return { kind: 'Course', items: this.courseItems(ic), span };
      case 'session':
        return this.session(inner);
      default:
        return undefined;
    }
  }

  private populationItems(c: Children): A.PopulationItem[] {
    const out: A.PopulationItem[] = [];
    for (const itemNode of nodes(c, 'populationItem')) {
      const ic = itemNode.children as Children;
      const span = nodeSpan(itemNode);
      if (!span) continue;
      if (tok(ic, 'Age')) {
        const range = this.range(node(ic, 'range'));
        if (range) out.push({ kind: 'Age', range, span });
      } else if (tok(ic, 'Exclude')) {
        if (tok(ic, 'When') || node(ic, 'condition')) {
          out.push({ kind: 'ExcludeWhen', condition: this.condition(node(ic, 'condition'), span), span });
        } else {
          const flags = this.nameList(node(ic, 'nameList'));
          if (flags.length > 0) out.push({ kind: 'Exclude', flags, span });
        }
      } else if (tok(ic, 'Caution')) {
        const flags = this.nameList(node(ic, 'nameList'));
        if (flags.length > 0) out.push({ kind: 'Caution', flags, span });
      }
    }
    return out;
  }

  private roles(c: Children): A.RoleDecl[] {
    const out: A.RoleDecl[] = [];
    for (const r of nodes(c, 'roleDecl')) {
      const rc = r.children as Children;
      const name = this.name(tok(rc, 'Identifier'));
      const min = this.num(tok(rc, 'min'), true);
      const span = nodeSpan(r);
      if (!name || !min || !span) continue;
      this.declared(span);
      const max = this.num(tok(rc, 'max'), true);
      const per = this.num(tok(rc, 'per'), true);
      const qualified = this.str(tok(rc, 'StringLiteral'));
      out.push({
        kind: 'Role',
        name,
        min,
        ...(max ? { max } : {}),
        ...(per ? { per } : {}),
        ...(qualified ? { qualified } : {}),
        span,
      });
    }
    return out;
  }

  private measures(c: Children): A.MeasureDecl[] {
    const out: A.MeasureDecl[] = [];
    for (const m of nodes(c, 'measureDecl')) {
      const mc = m.children as Children;
      const name = this.name(tok(mc, 'Identifier'));
      const unitTok = tok(mc, 'Unit');
      const range = this.range(node(mc, 'range'));
      const span = nodeSpan(m);
      if (!name || !unitTok || !range || !span) continue;
      this.declared(span);
      out.push({ kind: 'Measure', name, unit: { text: unitTok.image, span: tokenSpan(unitTok) }, range, span });
    }
    return out;
  }

  private drugs(c: Children): A.DrugDecl[] {
    const out: A.DrugDecl[] = [];
    for (const d of nodes(c, 'drugDecl')) {
      const dc = d.children as Children;
      const name = this.name(tok(dc, 'Identifier'));
      const span = nodeSpan(d);
      if (!name || !span) continue;
      this.declared(span);
      const max = this.quantity(node(dc, 'doseQuantity'));
      out.push({ kind: 'Drug', name, ...(max ? { max } : {}), span });
    }
    return out;
  }

  private courseItems(c: Children): A.CourseItem[] {
    const out: A.CourseItem[] = [];
    for (const itemNode of nodes(c, 'courseItem')) {
      const ic = itemNode.children as Children;
      const limitNode = node(ic, 'courseLimit');
      const stepNode = node(ic, 'courseStep');
      if (limitNode) {
        const lc = limitNode.children as Children;
        const session = this.name(tok(lc, 'Identifier'));
        const count = this.num(tok(lc, 'NumberLiteral'), true);
        const per = this.quantity(node(lc, 'timeQuantity'));
        const span = nodeSpan(limitNode);
        if (session && count && per && span) out.push({ kind: 'CourseLimit', session, count, per, span });
      } else if (stepNode) {
        const sc = stepNode.children as Children;
        const session = this.name(tok(sc, 'Identifier'));
        const span = nodeSpan(stepNode);
        if (!session || !span) continue;
        const repeatMin = this.num(tok(sc, 'repeatMin'), true);
        const repeatMax = this.num(tok(sc, 'repeatMax'), true);
        const spacingMin = this.num(tok(sc, 'spacingMin'));
        const spacingMax = this.num(tok(sc, 'spacingMax'));
        const unitTok = tok(sc, 'Unit');
        out.push({
          kind: 'CourseStep',
          session,
          ...(repeatMin
            ? {
                repeat: {
                  min: repeatMin,
                  ...(repeatMax ? { max: repeatMax } : {}),
                  span: { start: repeatMin.span.start, end: (repeatMax ?? repeatMin).span.end },
                },
              }
            : {}),
          ...(spacingMin && unitTok
            ? {
                spacing: {
                  min: spacingMin,
                  ...(spacingMax ? { max: spacingMax } : {}),
                  unit: { text: unitTok.image, span: tokenSpan(unitTok) },
                  span: { start: spacingMin.span.start, end: tokenEnd(unitTok) },
                },
              }
            : {}),
          span,
        });
      }
    }
    return out;
  }

  // ── sessions ──────────────────────────────────────────────────────────

  private session(n: CstNode): A.Session | undefined {
    const c = n.children as Children;
    const name = this.declName(c, 'session');
    const span = nodeSpan(n);
    if (!name || !span) return undefined;
    this.declared(span);
    const items: A.SessionItem[] = [];
    for (const itemNode of nodes(c, 'sessionItem')) {
      const item = this.sessionItem(itemNode);
      if (item) items.push(item);
    }
    return { kind: 'Session', name, items, span };
  }

  private sessionItem(n: CstNode): A.SessionItem | undefined {
    const c = n.children as Children;
    const [key] = Object.keys(c);
    const inner = key ? node(c, key) : undefined;
    if (!inner) return undefined;
    const ic = inner.children as Children;
    const span = nodeSpan(inner);
    if (!span) return undefined;
    switch (key) {
      case 'staffingBlock':
        return { kind: 'Staffing', lines: nodes(ic, 'staffLine').flatMap((l) => this.staffLine(l) ?? []), span };
      case 'stage':
        return this.stage(inner, span);
      case 'discharge':
        return { kind: 'Discharge', condition: this.condition(node(ic, 'condition'), span), span };
      case 'rule':
        return this.rule(ic, span);
      case 'assertDecl':
        return this.assert(ic, span);
      default:
        return undefined;
    }
  }

  private staffLine(n: CstNode): A.StaffLine | undefined {
    const c = n.children as Children;
    const role = this.name(tok(c, 'Identifier'));
    const opTok = tok(c, 'CompareOp');
    const count = this.num(tok(c, 'count'), true);
    const span = nodeSpan(n);
    if (!role || !opTok || !count || !span) return undefined;
    const per = this.num(tok(c, 'per'), true);
    return {
      kind: 'StaffLine',
      role,
      op: opTok.image as A.CompareOp,
      count,
      ...(per ? { per } : {}),
      during: this.nameList(node(c, 'nameList')),
      span,
    };
  }

  private stage(n: CstNode, span: Span): A.Stage | undefined {
    const c = n.children as Children;
    const name = this.declName(c, 'stage');
    if (!name) return undefined;
    this.declared(span);
    const durNode = node(c, 'stageDuration');
    let duration: A.StageDuration | undefined;
    if (durNode) {
      const dc = durNode.children as Children;
      const exact = this.quantity(node(dc, 'exact'));
      const atLeast = this.quantity(node(dc, 'atLeast'));
      const atMost = this.quantity(node(dc, 'atMost'));
      for (const [key, words] of [['atLeast', 'at least'], ['atMost', 'at most']] as const) {
        const again = node(dc, key, 1);
        const againSpan = again ? nodeSpan(again) : undefined;
        if (againSpan) {
          this.diagnostics.push(
            diagnostic('KAP1003', `\`${words}\` is already given for stage \`${name.text}\`.`, againSpan, {
              hint: `Keep one \`${words}\` bound.`,
            }),
          );
        }
      }
      const dspan = nodeSpan(durNode);
      if (dspan && (exact || atLeast || atMost)) {
        duration = {
          ...(exact ? { exact } : {}),
          ...(atLeast ? { atLeast } : {}),
          ...(atMost ? { atMost } : {}),
          span: dspan,
        };
      }
    }
    const items: A.StageItem[] = [];
    for (const itemNode of nodes(c, 'stageItem')) {
      const item = this.stageItem(itemNode);
      if (item) items.push(item);
    }
    return { kind: 'Stage', name, ...(duration ? { duration } : {}), items, span };
  }

  private stageItem(n: CstNode): A.StageItem | undefined {
    const c = n.children as Children;
    const [key] = Object.keys(c);
    const inner = key ? node(c, key) : undefined;
    if (!inner) return undefined;
    const ic = inner.children as Children;
    const span = nodeSpan(inner);
    if (!span) return undefined;
    switch (key) {
      case 'monitor': {
        const measures = this.nameList(node(ic, 'nameList'));
        const schedule = this.schedule(node(ic, 'schedule'));
        if (measures.length === 0 || !schedule) return undefined;
        return { kind: 'Monitor', verb: tok(ic, 'Measure') ? 'measure' : 'monitor', measures, schedule, span };
      }
      case 'administer': {
        const drug = this.name(tok(ic, 'Identifier'));
        const dose = this.quantity(node(ic, 'doseQuantity'));
        const routeTok = tok(ic, 'Route');
        if (!drug || !dose || !routeTok) return undefined;
        let delivery: A.Administer['delivery'] | undefined;
        const onceTok = tok(ic, 'Once');
        const overTok = tok(ic, 'Over');
        const over = this.quantity(node(ic, 'timeQuantity'));
        if (onceTok) delivery = { kind: 'once', span: tokenSpan(onceTok) };
        else if (overTok && over) delivery = { kind: 'over', duration: over, span: { start: overTok.startOffset, end: over.span.end } };
        if (!delivery) return undefined;
        return {
          kind: 'Administer',
          drug,
          dose,
          route: routeTok.image as A.Route,
          routeSpan: tokenSpan(routeTok),
          delivery,
          span,
        };
      }
      case 'gate': {
        const condition = this.condition(node(ic, 'condition'), span);
        const reasonTok = tok(ic, 'StringLiteral') ?? tok(ic, 'StringLiteral', 1);
        const reason = this.str(reasonTok);
        if (!reason) return undefined;
        const deferTok = tok(ic, 'Defer');
        const endTok = tok(ic, 'End');
        const otherwise: A.DeferAction | A.EndSessionAction = deferTok
          ? { kind: 'Defer', reason, span: { start: deferTok.startOffset, end: reason.span.end } }
          : { kind: 'EndSession', reason, span: { start: (endTok ?? reasonTok!).startOffset, end: reason.span.end } };
        return { kind: 'Gate', condition, otherwise, span };
      }
      default:
        return undefined;
    }
  }

  private schedule(n: CstNode | undefined): A.Schedule | undefined {
    if (!n) return undefined;
    const c = n.children as Children;
    const span = nodeSpan(n);
    if (!span) return undefined;
    if (tok(c, 'Continuously')) return { kind: 'continuously', span };
    if (tok(c, 'Start')) return { kind: 'start', span };
    const every = this.quantity(node(c, 'every'));
    if (every) return { kind: 'every', interval: every, span };
    const at = this.quantity(node(c, 'at'));
    if (at) return { kind: 'at', offset: at, span };
    return undefined;
  }

  private rule(c: Children, span: Span): A.Rule | undefined {
    const name = this.declName(c, 'rule');
    if (!name) return undefined;
    this.declared(span);
    const when = this.condition(node(c, 'when'), tok(c, 'When') ? tokenSpan(tok(c, 'When')!) : span);
    const actions = nodes(c, 'action').flatMap((a) => this.action(a) ?? []);
    const resumeNode = node(c, 'resume');
    const resume = resumeNode ? this.condition(resumeNode, span) : undefined;
    return { kind: 'Rule', name, when, actions, ...(resume ? { resume } : {}), span };
  }

  private action(n: CstNode): A.Action | undefined {
    const c = n.children as Children;
    const span = nodeSpan(n);
    if (!span) return undefined;
    const id = this.name(tok(c, 'Identifier'));
    const reason = this.str(tok(c, 'StringLiteral'));
    if (tok(c, 'Pause')) return id && { kind: 'Pause', stage: id, span };
    if (tok(c, 'Stop')) return id && { kind: 'Stop', stage: id, span };
    if (tok(c, 'End')) return reason && { kind: 'EndSession', reason, span };
    if (tok(c, 'Defer')) return reason && { kind: 'Defer', reason, span };
    if (tok(c, 'Escalate')) return id && { kind: 'Escalate', level: id, span };
    if (tok(c, 'Notify')) return id && { kind: 'Notify', role: id, span };
    if (tok(c, 'Attend')) {
      if (!id) return undefined;
      const within = this.quantity(node(c, 'within'));
      const duration = this.quantity(node(c, 'for'));
      return { kind: 'Attend', role: id, ...(within ? { within } : {}), ...(duration ? { duration } : {}), span };
    }
    if (tok(c, 'Give')) {
      const dose = this.quantity(node(c, 'doseQuantity'));
      const route = tok(c, 'Route');
      if (!id || !dose) return undefined;
      return { kind: 'Give', drug: id, dose, ...(route ? { route: route.image as A.Route } : {}), span };
    }
    if (tok(c, 'Reduce')) {
      const to = this.quantity(node(c, 'doseQuantity'));
      return id && to && { kind: 'Reduce', drug: id, to, span };
    }
    return undefined;
  }

  private assert(c: Children, span: Span): A.Assert | undefined {
    const name = this.declName(c, 'property');
    if (!name) return undefined;
    this.declared(span);
    const propSpan = { start: name.span.end + 1, end: span.end };
    let property: A.Property;
    if (tok(c, 'Always')) property = { kind: 'Always', expr: this.condition(node(c, 'always'), span), span: propSpan };
    else if (tok(c, 'Never')) property = { kind: 'Never', expr: this.condition(node(c, 'never'), span), span: propSpan };
    else if (tok(c, 'Eventually')) {
      const within = this.quantity(node(c, 'eventuallyWithin'));
      const expr = this.condition(node(c, 'eventually'), span);
      if (!within) return undefined;
      property = { kind: 'Eventually', expr, within, span: propSpan };
    } else {
      const expr = this.condition(node(c, 'leadsTo'), span);
      const within = this.quantity(node(c, 'leadsToWithin'));
      // `((a) implies (b)) within 5 min`: parentheses around the whole form are allowed.
      let body = expr;
      while (body.kind === 'Group') body = body.expr;
      const form = misspeltForm(expr, within !== undefined);
      if (body.kind === 'Binary' && body.op === 'implies' && within) {
        property = { kind: 'LeadsTo', cause: body.left, effect: body.right, within, span: propSpan };
      } else if (form) {
        // `aways (…)` reads as a call of an unknown function: it is `always (…)` misspelt.
        this.diagnostics.push(
          diagnostic('KAP3011', `A property cannot start with \`${form.name.text}\`.`, form.name.span, {
            hint: `Did you mean \`${form.word}\`?`,
          }),
        );
        this.misread.push(form.name.span);
        property =
          form.word === 'eventually' && within
            ? { kind: 'Eventually', expr: form.expr, within, span: propSpan }
            : { kind: form.word === 'never' ? 'Never' : 'Always', expr: form.expr, span: propSpan };
      } else if (expr.kind === 'Missing') {
        return undefined;
      } else {
        this.diagnostics.push(
          diagnostic(
            'KAP3011',
            within
              ? `A property with \`within\` must read \`<cause> implies <effect> within <time>\`.`
              : `A property must say when it holds.`,
            expr.span,
            {
              hint: within
                ? 'Write the cause, then `implies`, then the effect, e.g. `(sbp > 180) implies (infusion paused) within 5 min`.'
                : 'Start it with `always`, `never` or `eventually … within <time>`, or write `<cause> implies <effect> within <time>`.',
            },
          ),
        );
        property = { kind: 'Always', expr, span: propSpan };
      }
    }
    return { kind: 'Assert', name, property, span };
  }

  // ── expressions ───────────────────────────────────────────────────────

  private missing(span: Span): A.MissingExpr {
    return { kind: 'Missing', span };
  }

  /** Records depth; replaces a too-deep tree by `Missing` with one diagnostic. */
  private made<E extends A.Expr>(e: E, ...children: A.Expr[]): A.Expr {
    let d = 0;
    for (const ch of children) d = Math.max(d, this.depth.get(ch) ?? 1);
    const depth = d + 1;
    if (depth > this.limits.maxExpressionDepth) {
      if (!this.depthReported) {
        this.depthReported = true;
        this.diagnostics.push(
          diagnostic(
            'KAP1011',
            `This expression is nested more than ${this.limits.maxExpressionDepth} levels deep.`,
            e.span,
            { hint: 'Split it into several rules or simpler conditions.' },
          ),
        );
      }
      return this.missing(e.span);
    }
    this.depth.set(e, depth);
    return e;
  }

  condition(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    let expr = this.implication(node(c, 'implication'), fallback);
    // Qualifiers in source order.
    const quals: { at: number; apply: (e: A.Expr) => A.Expr }[] = [];
    const forToks = toks(c, 'For');
    const times = nodes(c, 'timeQuantity');
    forToks.forEach((f, i) => {
      const q = this.quantity(times[i]);
      if (q) {
        quals.push({
          at: f.startOffset,
          apply: (e) => this.made({ kind: 'For', expr: e, duration: q, span: { start: e.span.start, end: q.span.end } }, e),
        });
      }
    });
    const duringToks = toks(c, 'During');
    const lists = nodes(c, 'nameList');
    duringToks.forEach((d, i) => {
      const stages = this.nameList(lists[i]);
      const last = stages[stages.length - 1];
      if (last) {
        quals.push({
          at: d.startOffset,
          apply: (e) => this.made({ kind: 'During', expr: e, stages, span: { start: e.span.start, end: last.span.end } }, e),
        });
      }
    });
    quals.sort((a, b) => a.at - b.at);
    for (const q of quals) expr = q.apply(expr);
    return expr;
  }

  private implication(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    const left = this.chain(node(c, 'disjunction'), fallback);
    const rightNode = node(c, 'implication');
    if (!rightNode && !tok(c, 'Implies')) return left;
    const right = this.implication(rightNode, tok(c, 'Implies') ? tokenSpan(tok(c, 'Implies')!) : fallback);
    return this.binary('implies', left, right);
  }

  private binary(op: A.BinaryOp, left: A.Expr, right: A.Expr): A.Expr {
    return this.made({ kind: 'Binary', op, left, right, span: { start: left.span.start, end: right.span.end } }, left, right);
  }

  /** disjunction → conjunction → negation, folded left. */
  private chain(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    if (n.name === 'disjunction') return this.fold(c, 'conjunction', 'Or', fallback);
    if (n.name === 'conjunction') return this.fold(c, 'negation', 'And', fallback);
    return this.missing(nodeSpan(n) ?? fallback);
  }

  private fold(c: Children, operandKey: string, opKey: string, fallback: Span): A.Expr {
    const operands = nodes(c, operandKey);
    const ops = toks(c, opKey);
    const read = (x: CstNode | undefined): A.Expr =>
      operandKey === 'negation' ? this.negation(x, fallback) : this.chain(x, fallback);
    let acc = read(operands[0]);
    for (let i = 1; i < operands.length; i++) {
      const op = ops[i - 1];
      acc = this.binary(BOOLEAN_OPS[op?.image ?? ''] ?? (opKey === 'Or' ? 'or' : 'and'), acc, read(operands[i]));
    }
    return acc;
  }

  private negation(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    let expr = this.comparison(node(c, 'comparison'), fallback);
    const nots = toks(c, 'Not');
    for (let i = nots.length - 1; i >= 0; i--) {
      const t = nots[i]!;
      expr = this.made({ kind: 'Not', operand: expr, span: { start: t.startOffset, end: expr.span.end } }, expr);
    }
    return expr;
  }

  private comparison(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    const left = this.arith(node(c, 'additive'), fallback);
    const opTok = tok(c, 'CompareOp');
    if (!opTok) return left;
    const right = this.arith(node(c, 'additive', 1), tokenSpan(opTok));
    const second = tok(c, 'CompareOp', 1);
    if (second) {
      const third = this.arith(node(c, 'additive', 2), tokenSpan(second));
      const mid = printedSource(right);
      // A missing operand was reported by the parser already (`sbp >> 180`).
      if (right.kind !== 'Missing' && third.kind !== 'Missing') this.diagnostics.push(
        diagnostic('KAP1014', 'Comparisons cannot be chained.', { start: left.span.start, end: third.span.end }, {
          hint: mid
            ? `Write two comparisons joined by \`and\`, e.g. \`… ${opTok.image} ${mid} and ${mid} ${second.image} …\`.`
            : 'Write two comparisons joined by `and`.',
        }),
      );
      return this.missing({ start: left.span.start, end: third.span.end });
    }
    return this.binary(opTok.image as A.CompareOp, left, right);
  }

  /** additive → multiplicative → unary, folded left. */
  private arith(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    const isAdd = n.name === 'additive';
    const operands = nodes(c, isAdd ? 'multiplicative' : 'unary');
    const ops = toks(c, isAdd ? 'AddOp' : 'MulOp');
    const read = (x: CstNode | undefined, fb: Span): A.Expr => (isAdd ? this.arith(x, fb) : this.unary(x, fb));
    let acc = read(operands[0], fallback);
    for (let i = 1; i < operands.length; i++) {
      const op = ops[i - 1];
      acc = this.binary((op?.image ?? (isAdd ? '+' : '*')) as A.ArithOp, acc, read(operands[i], op ? tokenSpan(op) : fallback));
    }
    return acc;
  }

  private unary(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    let expr = this.atom(node(c, 'atom'), nodeSpan(n) ?? fallback);
    const minus = toks(c, 'Minus');
    for (let i = minus.length - 1; i >= 0; i--) {
      const t = minus[i]!;
      expr = this.made({ kind: 'Neg', operand: expr, span: { start: t.startOffset, end: expr.span.end } }, expr);
    }
    return expr;
  }

  private atom(n: CstNode | undefined, fallback: Span): A.Expr {
    if (!n) return this.missing(fallback);
    const c = n.children as Children;
    const span = nodeSpan(n) ?? fallback;
    const q = node(c, 'quantity');
    if (q) {
      const quantity = this.quantity(q);
      return quantity ? this.made({ kind: 'Quantity', ...quantity }) : this.missing(span);
    }
    const id = this.name(tok(c, 'Identifier'));
    if (tok(c, 'Observed')) return id ? this.made({ kind: 'Observed', measure: id, span }) : this.missing(span);
    if (tok(c, 'Baseline')) return id ? this.made({ kind: 'Baseline', measure: id, span }) : this.missing(span);
    if (tok(c, 'Caution')) return id ? this.made({ kind: 'Caution', flag: id, span }) : this.missing(span);
    if (tok(c, 'Stage')) return id ? this.made({ kind: 'InStage', stage: id, span }) : this.missing(span);
    if (tok(c, 'Elapsed')) return this.made({ kind: 'Elapsed', span });
    if (tok(c, 'LParen')) {
      const inner = this.condition(node(c, 'condition'), span);
      return this.made({ kind: 'Group', expr: inner, span }, inner);
    }
    const calleeTok = tok(c, 'Unit_min') ?? tok(c, 'Max') ?? (node(c, 'callArgs') ? tok(c, 'Identifier') : undefined);
    const argsNode = node(c, 'callArgs');
    if (calleeTok && argsNode) {
      const args = nodes(argsNode.children as Children, 'condition').map((a) => this.condition(a, span));
      return this.made(
        { kind: 'Call', callee: { text: calleeTok.image, span: tokenSpan(calleeTok) }, args, span },
        ...args,
      );
    }
    if (id) {
      if (tok(c, 'Paused')) return this.made({ kind: 'Paused', stage: id, span });
      return this.made({ kind: 'Ref', name: id, span: id.span });
    }
    return this.missing(span);
  }
}
