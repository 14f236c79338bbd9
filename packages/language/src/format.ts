/**
 * The canonical formatter: `kapspec fmt`.
 *
 * It parses the file, refuses it when there is any syntax error (a broken file
 * is never rewritten), and prints the tree again in one canonical layout:
 *
 * - Two spaces of indentation per block; one item per line.
 * - Blank lines: inside a protocol and inside a session, two neighbouring items
 *   are separated by one blank line unless BOTH are printed on a single line
 *   (`version`, `setting`, a one-line `events { … }`, `discharge`, `assert`, an
 *   empty block such as `stage x {}`). So one-line items cluster together and
 *   every multi-line block stands apart. No blank lines inside other blocks.
 *   The author's own blank lines are not kept.
 * - `events { a, b, c }` is printed on one line (one event per line instead if
 *   a comment lies inside the block). Every other block (population, roles,
 *   measures, drugs, course, staffing, stage, rule) is printed over several
 *   lines, or as `{}` when it is empty. Names in `roles` and names and units in
 *   `measures` are padded into columns.
 * - A rule prints `when …`, `then …` and `resume when …` on their own lines.
 * - Expressions get single spaces around operators; the author's parentheses
 *   are kept, and parentheses are added only where precedence requires them.
 *   Numbers are printed exactly as written; strings are re-escaped.
 *
 * Comments are never lost. They are emitted in source order while printing:
 * before a line that starts at source offset S, every pending comment that
 * starts before S is printed on its own line; a comment on the same source
 * line as the end of the previous line's content stays a trailing comment on
 * that line; comments before a block's closing `}` stay inside the block; a
 * comment inside an expression (or inside a block header) moves to its own
 * line before whatever follows; comments after the protocol go at the end.
 * Comment text is kept verbatim, except for trailing blanks of `//` comments.
 *
 * Formatting is idempotent, and the tree of the output equals the tree of the
 * input (all spans aside).
 */
import type * as A from './ast.js';
import { hasErrors, type Diagnostic } from './diagnostics.js';
import { parse, type Comment, type ParseOptions } from './parse.js';

export interface FormatResult {
  /** The formatted text; undefined when the file has syntax errors. */
  readonly text: string | undefined;
  /** Whether the formatted text differs from the input. */
  readonly changed: boolean;
  /** The parser's diagnostics (the errors that stopped formatting, if any). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Formats a `.kap` source text; a file with syntax errors is left alone. */
export function format(text: string, options: ParseOptions = {}): FormatResult {
  const parsed = parse(text, options);
  if (!parsed.protocol || hasErrors(parsed.diagnostics)) {
    return { text: undefined, changed: false, diagnostics: parsed.diagnostics };
  }
  const out = printProtocol(parsed.protocol, parsed.comments, text);
  return { text: out, changed: out !== text, diagnostics: parsed.diagnostics };
}

/**
 * Prints a protocol in the canonical layout. `comments` (with spans into
 * `source`) are placed as described above; without `source`, no comment can
 * be known to share a line with code, so every comment gets a line of its own.
 * Works on generated trees too: spans are only used to place comments.
 */
export function printProtocol(protocol: A.Protocol, comments: readonly Comment[] = [], source?: string): string {
  return new Printer(comments, source).protocol(protocol);
}

// ── Expressions ──────────────────────────────────────────────────────────

/**
 * Binding levels, loosest first (LANGUAGE.md §4): a qualified condition
 * (`for`, `during`), `implies`, `or`, `and`, `not`, comparison, `+ -`, `* /`,
 * unary minus, atoms.
 */
const Level = {
  Condition: 0,
  Implies: 1,
  Or: 2,
  And: 3,
  Not: 4,
  Compare: 5,
  Add: 6,
  Mul: 7,
  Neg: 8,
  Atom: 9,
} as const;
type Level = (typeof Level)[keyof typeof Level];

function levelOf(e: A.Expr): Level {
  switch (e.kind) {
    case 'For':
    case 'During':
      return Level.Condition;
    case 'Not':
      return Level.Not;
    case 'Neg':
      return Level.Neg;
    case 'Binary':
      switch (e.op) {
        case 'implies':
          return Level.Implies;
        case 'or':
          return Level.Or;
        case 'and':
          return Level.And;
        case '+':
        case '-':
          return Level.Add;
        case '*':
        case '/':
          return Level.Mul;
        default:
          return Level.Compare;
      }
    default:
      return Level.Atom;
  }
}

/** Operand levels of a binary operator: `implies` groups to the right, `<` … do not chain, the rest group to the left. */
function operandLevels(e: A.BinaryExpr): [Level, Level] {
  const own = levelOf(e);
  if (own === Level.Implies) return [Level.Or, Level.Implies];
  if (own === Level.Compare) return [Level.Add, Level.Add];
  return [own, (own + 1) as Level];
}

/** Prints an expression as the formatter does (single spaces, minimal added parentheses). */
export function printExpression(e: A.Expr): string {
  return printExpr(e);
}

/** Prints `e` so that it parses back at binding level `min` or tighter. */
function printExpr(e: A.Expr, min: Level = Level.Condition): string {
  const s = printBare(e);
  return levelOf(e) < min ? `(${s})` : s;
}

function printBare(e: A.Expr): string {
  switch (e.kind) {
    case 'Quantity':
      return quantity(e);
    case 'Ref':
      return e.name.text;
    case 'Paused':
      return `${e.stage.text} paused`;
    case 'Observed':
      return `observed ${e.measure.text}`;
    case 'Baseline':
      return `baseline ${e.measure.text}`;
    case 'Caution':
      return `caution ${e.flag.text}`;
    case 'InStage':
      return `stage ${e.stage.text}`;
    case 'Elapsed':
      return 'elapsed';
    case 'Call': {
      // `during a, b` would swallow the next argument: parenthesize it unless it is last.
      const args = e.args.map((a, i) => printExpr(a, a.kind === 'During' && i < e.args.length - 1 ? Level.Implies : Level.Condition));
      return `${e.callee.text}(${args.join(', ')})`;
    }
    case 'Not':
      return `not ${printExpr(e.operand, Level.Not)}`;
    case 'Neg':
      return `-${printExpr(e.operand, Level.Neg)}`;
    case 'Binary': {
      const [l, r] = operandLevels(e);
      return `${printExpr(e.left, l)} ${e.op} ${printExpr(e.right, r)}`;
    }
    case 'Group':
      return `(${printExpr(e.expr)})`;
    case 'For':
      return `${printExpr(e.expr)} for ${quantity(e.duration)}`;
    case 'During':
      return `${printExpr(e.expr)} during ${names(e.stages)}`;
    case 'Missing':
      // Only a file with syntax errors has these, and such a file is never formatted.
      return '?';
  }
}

function quantity(q: A.Quantity): string {
  return q.unit ? `${q.text} ${q.unit.text}` : q.text;
}

function str(s: A.StringLit): string {
  return `"${s.value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function names(list: readonly A.Name[]): string {
  return list.map((n) => n.text).join(', ');
}

function range(r: A.RangeLit): string {
  return `${r.min.text}..${r.max.text}`;
}

function minMax(min: A.NumberLit, max: A.NumberLit | undefined): string {
  return max ? `${min.text}..${max.text}` : min.text;
}

function action(a: A.Action): string {
  switch (a.kind) {
    case 'Pause':
      return `pause ${a.stage.text}`;
    case 'Stop':
      return `stop ${a.stage.text}`;
    case 'EndSession':
      return `end session ${str(a.reason)}`;
    case 'Defer':
      return `defer ${str(a.reason)}`;
    case 'Escalate':
      return `escalate ${a.level.text}`;
    case 'Notify':
      return `notify ${a.role.text}`;
    case 'Attend':
      return [
        `attend ${a.role.text}`,
        a.within ? ` within ${quantity(a.within)}` : '',
        a.duration ? ` for ${quantity(a.duration)}` : '',
      ].join('');
    case 'Give':
      return `give ${a.drug.text} ${quantity(a.dose)}${a.route ? ` ${a.route}` : ''}`;
    case 'Reduce':
      return `reduce ${a.drug.text} to ${quantity(a.to)}`;
  }
}

function property(p: A.Property): string {
  switch (p.kind) {
    case 'Always':
      return `always ${printExpr(p.expr)}`;
    case 'Never':
      return `never ${printExpr(p.expr)}`;
    case 'Eventually':
      return `eventually ${printExpr(p.expr)} within ${quantity(p.within)}`;
    case 'LeadsTo':
      return `${printExpr(p.cause, Level.Or)} implies ${printExpr(p.effect, Level.Implies)} within ${quantity(p.within)}`;
  }
}

function stageItem(item: A.StageItem): string {
  switch (item.kind) {
    case 'Monitor': {
      const s = item.schedule;
      const when =
        s.kind === 'every'
          ? `every ${quantity(s.interval)}`
          : s.kind === 'at'
            ? `at ${quantity(s.offset)}`
            : s.kind === 'start'
              ? 'at start'
              : 'continuously';
      return `${item.verb} ${names(item.measures)} ${when}`;
    }
    case 'Administer': {
      const d = item.delivery;
      return `administer ${item.drug.text} ${quantity(item.dose)} ${item.route} ${d.kind === 'once' ? 'once' : `over ${quantity(d.duration)}`}`;
    }
    case 'Gate': {
      const o = item.otherwise;
      return `gate ${printExpr(item.condition)} else ${o.kind === 'Defer' ? 'defer' : 'end session'} ${str(o.reason)}`;
    }
  }
}

function populationItem(item: A.PopulationItem): string {
  switch (item.kind) {
    case 'Age':
      return `age ${range(item.range)}`;
    case 'Exclude':
      return `exclude ${names(item.flags)}`;
    case 'ExcludeWhen':
      return `exclude when ${printExpr(item.condition)}`;
    case 'Caution':
      return `caution ${names(item.flags)}`;
  }
}

function courseItem(item: A.CourseItem): string {
  if (item.kind === 'CourseLimit') return `limit ${item.session.text} ${item.count.text} per ${quantity(item.per)}`;
  let s = item.session.text;
  if (item.repeat) s += ` repeat ${minMax(item.repeat.min, item.repeat.max)}`;
  if (item.spacing) s += ` spacing ${minMax(item.spacing.min, item.spacing.max)} ${item.spacing.unit.text}`;
  return s;
}

function staffLine(l: A.StaffLine): string {
  let s = `${l.role.text} ${l.op} ${l.count.text}`;
  if (l.per) s += ` per ${l.per.text} participants`;
  if (l.during.length > 0) s += ` during ${names(l.during)}`;
  return s;
}

function stageHeader(st: A.Stage): string {
  let s = `stage ${st.name.text}`;
  const d = st.duration;
  if (d) {
    if (d.exact) s += ` duration ${quantity(d.exact)}`;
    else {
      s += ' duration';
      if (d.atLeast) s += ` at least ${quantity(d.atLeast)}`;
      if (d.atMost) s += ` at most ${quantity(d.atMost)}`;
    }
  }
  return s;
}

function pad(texts: readonly string[]): (s: string) => string {
  const width = Math.max(0, ...texts.map((t) => t.length));
  return (s) => s.padEnd(width);
}

// ── Layout with comments ─────────────────────────────────────────────────

const INDENT = '  ';

/** A comment as printed: verbatim, except that a `//` comment loses trailing blanks. */
function commentText(c: Comment): string {
  return c.block ? c.text : c.text.trimEnd();
}
/** What may separate the end of a line's content from a trailing comment. */
const ITEM_GAP = /^[ \t,]*$/;
/** After a block header, the `{` itself may come before a trailing comment. */
const HEADER_GAP = /^[ \t{]*$/;

class Printer {
  private readonly lines: string[] = [];
  private readonly comments: readonly Comment[];
  private readonly used: boolean[];
  /** Index of the first comment that may still be unused. */
  private first = 0;

  constructor(
    comments: readonly Comment[],
    private readonly source: string | undefined,
  ) {
    this.comments = [...comments].sort((a, b) => a.span.start - b.span.start);
    this.used = this.comments.map(() => false);
  }

  protocol(p: A.Protocol): string {
    this.flushBefore(p.span.start, '');
    this.line('', `protocol ${str(p.title)} {`, p.span.start, p.title.span.end, HEADER_GAP);
    this.list(p.items, true, (item) => this.protocolItem(item, INDENT));
    this.close(p.span, '');
    this.flushBefore(Infinity, '');
    return `${this.lines.join('\n')}\n`;
  }

  // ── comment plumbing ──────────────────────────────────────────────────

  private *pending(): Generator<number> {
    while (this.first < this.comments.length && this.used[this.first]) this.first++;
    for (let i = this.first; i < this.comments.length; i++) if (!this.used[i]) yield i;
  }

  /** Every unused comment that starts before `pos`, each on its own line. */
  private flushBefore(pos: number, indent: string): void {
    for (const i of this.pending()) {
      const c = this.comments[i]!;
      if (c.span.start >= pos) break;
      this.used[i] = true;
      this.lines.push(indent + commentText(c));
    }
  }

  /**
   * One line of output whose content came from source offsets [start, end).
   * Comments before `start` go on lines of their own first; comments right
   * after `end` on the same source line become trailing comments, unless a
   * comment inside [start, end) is still pending (source order wins: it and
   * those after it go before whatever comes next).
   */
  private line(indent: string, text: string, start: number, end: number, gap: RegExp = ITEM_GAP): void {
    this.flushBefore(start, indent);
    let out = indent + text;
    const src = this.source;
    let at = end;
    for (const i of this.pending()) {
      const c = this.comments[i]!;
      if (src === undefined || c.span.start < at || !gap.test(src.slice(at, c.span.start))) break;
      this.used[i] = true;
      out += ` ${commentText(c)}`;
      at = c.span.end;
      gap = ITEM_GAP;
      if (!c.block) break;
    }
    this.lines.push(out);
  }

  /** Comments left inside a block, then its closing brace. */
  private close(span: A.ProtocolItem['span'], indent: string): void {
    const brace = span.end - 1;
    this.flushBefore(brace, indent + INDENT);
    this.line(indent, '}', brace, span.end);
  }

  private hasCommentIn(span: A.ProtocolItem['span']): boolean {
    for (const i of this.pending()) {
      const c = this.comments[i]!;
      if (c.span.start >= span.end) return false;
      if (c.span.start > span.start) return true;
    }
    return false;
  }

  /** A block: `header {`, the items, `}`; `header {}` when empty and comment-free. */
  private block<T>(
    indent: string,
    header: string,
    span: A.ProtocolItem['span'],
    headerEnd: number,
    items: readonly T[],
    print: (item: T) => void,
    separated = false,
  ): void {
    if (items.length === 0 && !this.hasCommentIn(span)) {
      this.line(indent, `${header} {}`, span.start, span.end);
      return;
    }
    this.line(indent, `${header} {`, span.start, headerEnd, HEADER_GAP);
    this.list(items, separated, print);
    this.close(span, indent);
  }

  /**
   * Items of a block. When `separated` (protocol and session level), a blank
   * line goes between two items unless both print on one line; it goes before
   * the leading comments of the second item.
   */
  private list<T>(items: readonly T[], separated: boolean, print: (item: T) => void): void {
    let previousOneLine: boolean | undefined;
    for (const item of items) {
      // Decided before printing: printing consumes the comments inside the item.
      const oneLine = separated && this.oneLine(item);
      if (separated && previousOneLine !== undefined && !(previousOneLine && oneLine)) this.lines.push('');
      print(item);
      previousOneLine = oneLine;
    }
  }

  /** Whether an item of a protocol or session is printed on a single line. */
  private oneLine(item: unknown): boolean {
    const it = item as A.ProtocolItem | A.SessionItem;
    switch (it.kind) {
      case 'Version':
      case 'Setting':
      case 'Discharge':
      case 'Assert':
        return true;
      case 'Events':
        return !this.hasCommentIn(it.span);
      case 'Population':
      case 'Roles':
      case 'Measures':
      case 'Drugs':
      case 'Course':
      case 'Session':
      case 'Staffing':
      case 'Stage': {
        const items =
          it.kind === 'Population' || it.kind === 'Course' || it.kind === 'Session' || it.kind === 'Stage'
            ? it.items
            : it.kind === 'Roles'
              ? it.roles
              : it.kind === 'Measures'
                ? it.measures
                : it.kind === 'Drugs'
                  ? it.drugs
                  : it.lines;
        return items.length === 0 && !this.hasCommentIn(it.span);
      }
      case 'Rule':
        return false;
    }
  }

  // ── items ─────────────────────────────────────────────────────────────

  private protocolItem(item: A.ProtocolItem, indent: string): void {
    const at = item.span.start;
    switch (item.kind) {
      case 'Version':
        return this.line(indent, `version ${str(item.value)}`, at, item.span.end);
      case 'Setting':
        return this.line(indent, item.size ? `setting group ${range(item.size)}` : 'setting individual', at, item.span.end);
      case 'Population':
        return this.block(indent, 'population', item.span, at + 'population'.length, item.items, (i) =>
          this.line(indent + INDENT, populationItem(i), i.span.start, i.span.end),
        );
      case 'Roles': {
        const name = pad(item.roles.map((r) => r.name.text));
        return this.block(indent, 'roles', item.span, at + 'roles'.length, item.roles, (r) => {
          let s = `${name(r.name.text)} ${minMax(r.min, r.max)}`;
          if (r.per) s += ` per ${r.per.text} participants`;
          if (r.qualified) s += ` qualified ${str(r.qualified)}`;
          this.line(indent + INDENT, s, r.span.start, r.span.end);
        });
      }
      case 'Measures': {
        const name = pad(item.measures.map((m) => m.name.text));
        const unit = pad(item.measures.map((m) => m.unit.text));
        return this.block(indent, 'measures', item.span, at + 'measures'.length, item.measures, (m) =>
          this.line(indent + INDENT, `${name(m.name.text)} ${unit(m.unit.text)} ${range(m.range)}`, m.span.start, m.span.end),
        );
      }
      case 'Events': {
        if (!this.hasCommentIn(item.span)) {
          const body = item.events.length === 0 ? '{}' : `{ ${names(item.events)} }`;
          return this.line(indent, `events ${body}`, at, item.span.end);
        }
        const last = item.events[item.events.length - 1];
        return this.block(indent, 'events', item.span, at + 'events'.length, item.events, (e) =>
          this.line(indent + INDENT, e === last ? e.text : `${e.text},`, e.span.start, e.span.end),
        );
      }
      case 'Drugs':
        return this.block(indent, 'drugs', item.span, at + 'drugs'.length, item.drugs, (d) =>
          this.line(indent + INDENT, d.max ? `${d.name.text} max ${quantity(d.max)}` : d.name.text, d.span.start, d.span.end),
        );
      case 'Course':
        return this.block(indent, 'course', item.span, at + 'course'.length, item.items, (i) =>
          this.line(indent + INDENT, courseItem(i), i.span.start, i.span.end),
        );
      case 'Session':
        return this.block(
          indent,
          `session ${item.name.text}`,
          item.span,
          item.name.span.end,
          item.items,
          (i) => this.sessionItem(i, indent + INDENT),
          true,
        );
    }
  }

  private sessionItem(item: A.SessionItem, indent: string): void {
    const inner = indent + INDENT;
    switch (item.kind) {
      case 'Staffing':
        return this.block(indent, 'staffing', item.span, item.span.start + 'staffing'.length, item.lines, (l) =>
          this.line(inner, staffLine(l), l.span.start, l.span.end),
        );
      case 'Stage':
        return this.block(indent, stageHeader(item), item.span, item.duration?.span.end ?? item.name.span.end, item.items, (i) =>
          this.line(inner, stageItem(i), i.span.start, i.span.end),
        );
      case 'Discharge':
        return this.line(indent, `discharge when ${printExpr(item.condition)}`, item.span.start, item.span.end);
      case 'Rule': {
        this.line(indent, `rule ${item.name.text} {`, item.span.start, item.name.span.end, HEADER_GAP);
        this.line(inner, `when ${printExpr(item.when)}`, item.when.span.start, item.when.span.end);
        const first = item.actions[0];
        const last = item.actions[item.actions.length - 1];
        if (first && last) this.line(inner, `then ${item.actions.map(action).join(', ')}`, first.span.start, last.span.end);
        if (item.resume) this.line(inner, `resume when ${printExpr(item.resume)}`, item.resume.span.start, item.resume.span.end);
        return this.close(item.span, indent);
      }
      case 'Assert':
        return this.line(indent, `assert ${item.name.text} ${property(item.property)}`, item.span.start, item.span.end);
    }
  }
}
