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
 *   a comment lies inside the block or the line would pass MAX_WIDTH). Every
 *   other block (population, roles, measures, drugs, course, staffing, stage,
 *   rule) is printed over several lines, or as `{}` when it is empty. Names in `roles` and names and units in
 *   `measures` are padded into columns.
 * - A rule prints `when …`, `then …` and `resume when …` on their own lines.
 * - Expressions get single spaces around operators; the author's parentheses
 *   are kept, and parentheses are added only where precedence requires them.
 *   Numbers are printed exactly as written; strings are re-escaped.
 * - Comments before `protocol` are the file's header; one blank line
 *   separates them from `protocol`.
 *
 * Line wrapping. A clause with a condition (`when`, `resume when`, `discharge
 * when`, `exclude when`, `gate`, the body of an `assert`) stays on one line
 * when that line is at most MAX_WIDTH (100) columns; otherwise its condition
 * is broken, by the tree alone (never by the author's line breaks):
 * - At the loosest boolean operator of the condition (`implies`, else `or`,
 *   else `and`), before EVERY occurrence of it in that chain: each operator
 *   starts a continuation line indented two spaces more than the clause
 *   keyword, e.g. `when a and b` / `  or c and d`.
 * - An operand that is still too long is broken the same way at its own
 *   loosest operator, its continuation lines two spaces deeper again.
 * - A parenthesised operand (an author's group, or `not (…)`) is broken inside
 *   its parentheses only when it is still too long; a trailing `for T` or
 *   `during s` stays on the last line of the condition it qualifies, and so
 *   does the `within T` of an assert. `cause implies effect within T` is
 *   broken before `implies` like any implication.
 * - A gate that is too long first moves `else …` to a continuation line, then
 *   wraps its condition only if that is still too long.
 * - A `then` list that is too long puts one action per line, each but the
 *   last followed by its comma, continuation lines indented two more spaces.
 * Nothing else is broken: calls' arguments, comparisons and arithmetic are
 * atoms for wrapping, so a line holding a single long one of these, a single
 * long action or a long declaration line may still pass MAX_WIDTH. Comments
 * do not count towards the width; a trailing comment after a wrapped clause
 * follows its last line. A wrapped `discharge` or `assert` still counts as a
 * one-line item for the blank-line rule above.
 *
 * Comments are never lost. They are emitted in source order while printing:
 * before a line that starts at source offset S, every pending comment that
 * starts before S is printed on its own line; a comment on the same source
 * line as the end of the previous line's content stays a trailing comment on
 * that line; comments before a block's closing `}` stay inside the block; a
 * comment inside an item (a clause, a declaration, an expression) moves to
 * its own line before that item's line, one inside a block header to its own
 * line after the header; comments after the protocol go at the end.
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

// ── Line wrapping ────────────────────────────────────────────────────────

/** The widest a line may be (comments aside) before the formatter wraps it. */
export const MAX_WIDTH = 100;

/** Two spaces per level: blocks, and the continuation lines of a wrapped clause. */
const INDENT = '  ';

/** The operators a condition may be broken at, loosest first. */
const BREAKABLE = new Set<string>(['implies', 'or', 'and']);

/**
 * Lays out `e` as `printExpr(e, min)` prints it, starting at column `col`, with
 * `trail` more characters to follow on its last line. It stays on one line
 * when that fits in MAX_WIDTH; otherwise it is broken (see the header comment)
 * and its continuation lines start at `ind` (deeper for nested breaks). The
 * first line is returned without indentation, the others with theirs.
 */
function wrapExpr(e: A.Expr, min: Level, col: number, ind: string, trail: number): string[] {
  const flat = printExpr(e, min);
  if (col + flat.length + trail <= MAX_WIDTH) return [flat];
  if (levelOf(e) < min) return enclose(e, col, ind, trail);
  switch (e.kind) {
    case 'Group':
      return enclose(e.expr, col, ind, trail);
    case 'For':
    case 'During': {
      const suffix = e.kind === 'For' ? ` for ${quantity(e.duration)}` : ` during ${names(e.stages)}`;
      return joinEnds('', wrapExpr(e.expr, Level.Condition, col, ind, trail + suffix.length), suffix);
    }
    case 'Not':
      return joinEnds('not ', wrapExpr(e.operand, Level.Not, col + 'not '.length, ind, trail), '');
    case 'Binary':
      return BREAKABLE.has(e.op) ? chain(e, col, ind, trail) : [flat];
    default:
      return [flat];
  }
}

/** `( … )` around `e`, its contents wrapped. */
function enclose(e: A.Expr, col: number, ind: string, trail: number): string[] {
  return joinEnds('(', wrapExpr(e, Level.Condition, col + 1, ind, trail + 1), ')');
}

/** Puts `before` in front of the first line and `after` behind the last. */
function joinEnds(before: string, lines: string[], after: string): string[] {
  const out = [...lines];
  out[0] = before + out[0];
  out[out.length - 1] += after;
  return out;
}

/**
 * A chain of one boolean operator, broken before every occurrence: `a or b or
 * c` becomes `a`, `or b`, `or c`; the operator lines start at `ind`, and an
 * operand that is still too long is broken in turn, two columns deeper.
 */
function chain(e: A.BinaryExpr, col: number, ind: string, trail: number): string[] {
  const operands: [A.Expr, Level][] = [];
  if (e.op === 'implies') {
    // Groups to the right: `a implies b implies c` is `a implies (b implies c)`.
    let cur: A.Expr = e;
    while (cur.kind === 'Binary' && cur.op === 'implies') {
      operands.push([cur.left, Level.Or]);
      cur = cur.right;
    }
    operands.push([cur, Level.Implies]);
  } else {
    // Groups to the left: `a or b or c` is `(a or b) or c`.
    const [left, right] = operandLevels(e);
    let cur: A.Expr = e;
    while (cur.kind === 'Binary' && cur.op === e.op) {
      operands.unshift([cur.right, right]);
      cur = cur.left;
    }
    operands.unshift([cur, left]);
  }
  const deeper = ind + INDENT;
  const lines: string[] = [];
  operands.forEach(([x, level], i) => {
    const t = i === operands.length - 1 ? trail : 0;
    if (i === 0) lines.push(...wrapExpr(x, level, col, deeper, t));
    else lines.push(...joinEnds(`${ind}${e.op} `, wrapExpr(x, level, ind.length + e.op.length + 1, deeper, t), ''));
  });
  return lines;
}

/**
 * `prefix`, the condition `e` and `suffix`, as the text of a line indented
 * `indent`: one line when it fits, else `e` wrapped with continuation lines
 * two columns deeper than `indent`. The continuation lines carry their own
 * indentation; the first line does not.
 */
function clause(indent: string, prefix: string, e: A.Expr, suffix = ''): string {
  const lines = wrapExpr(e, Level.Condition, indent.length + prefix.length, indent + INDENT, suffix.length);
  return joinEnds(prefix, lines, suffix).join('\n');
}

/** `then a, b, c`; when too long, one action per line, each but the last followed by its comma. */
function actions(indent: string, list: readonly A.Action[]): string {
  const texts = list.map(action);
  const one = `then ${texts.join(', ')}`;
  if (indent.length + one.length <= MAX_WIDTH) return one;
  return texts.map((t, i) => (i === 0 ? `then ${t}` : indent + INDENT + t) + (i < texts.length - 1 ? ',' : '')).join('\n');
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

/** `assert name property`, wrapped like any other condition. */
function assertion(indent: string, name: string, p: A.Property): string {
  const head = `assert ${name} `;
  switch (p.kind) {
    case 'Always':
      return clause(indent, `${head}always `, p.expr);
    case 'Never':
      return clause(indent, `${head}never `, p.expr);
    case 'Eventually':
      return clause(indent, `${head}eventually `, p.expr, ` within ${quantity(p.within)}`);
    case 'LeadsTo': {
      // Printed, and so wrapped, as the implication `cause implies effect`.
      const implication: A.BinaryExpr = { kind: 'Binary', op: 'implies', left: p.cause, right: p.effect, span: p.span };
      return clause(indent, head, implication, ` within ${quantity(p.within)}`);
    }
  }
}

function stageItem(item: A.StageItem, indent: string): string {
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
      const otherwise = `else ${o.kind === 'Defer' ? 'defer' : 'end session'} ${str(o.reason)}`;
      const one = `gate ${printExpr(item.condition)} ${otherwise}`;
      if (indent.length + one.length <= MAX_WIDTH) return one;
      // Too long: `else …` goes on a continuation line, and the condition is wrapped only if still too long.
      return `${clause(indent, 'gate ', item.condition)}\n${indent}${INDENT}${otherwise}`;
    }
  }
}

function eventsLine(item: A.EventsBlock): string {
  return `events ${item.events.length === 0 ? '{}' : `{ ${names(item.events)} }`}`;
}

function populationItem(item: A.PopulationItem, indent: string): string {
  switch (item.kind) {
    case 'Age':
      return `age ${range(item.range)}`;
    case 'Exclude':
      return `exclude ${names(item.flags)}`;
    case 'ExcludeWhen':
      return clause(indent, 'exclude when ', item.condition);
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
    // Comments before the protocol are the file's header: a blank line sets them apart.
    if (this.lines.length > 0) this.lines.push('');
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
   * Comments before `end` (before `start` for a block header) go on lines of
   * their own first; comments right after `end` on the same source line
   * become trailing comments, unless a comment before them is still pending
   * (a header's: source order wins, and it and those after it go before
   * whatever comes next).
   */
  private line(indent: string, text: string, start: number, end: number, gap: RegExp = ITEM_GAP): void {
    // Comments inside an item's own source go before it too: they are about it, not about what
    // follows. (Those inside a block header stay after it, inside the block.)
    this.flushBefore(gap === HEADER_GAP ? start : end, indent);
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

  /** `events { a, b }` is printed on one line when it fits and holds no comment. */
  private eventsOnOneLine(item: A.EventsBlock, indent: string): boolean {
    return !this.hasCommentIn(item.span) && indent.length + eventsLine(item).length <= MAX_WIDTH;
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
        return this.eventsOnOneLine(it, INDENT);
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
          this.line(indent + INDENT, populationItem(i, indent + INDENT), i.span.start, i.span.end),
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
        if (this.eventsOnOneLine(item, indent)) return this.line(indent, eventsLine(item), at, item.span.end);
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
          this.line(inner, stageItem(i, inner), i.span.start, i.span.end),
        );
      case 'Discharge':
        return this.line(indent, clause(indent, 'discharge when ', item.condition), item.span.start, item.span.end);
      case 'Rule': {
        this.line(indent, `rule ${item.name.text} {`, item.span.start, item.name.span.end, HEADER_GAP);
        this.line(inner, clause(inner, 'when ', item.when), item.when.span.start, item.when.span.end);
        const first = item.actions[0];
        const last = item.actions[item.actions.length - 1];
        if (first && last) this.line(inner, actions(inner, item.actions), first.span.start, last.span.end);
        if (item.resume) this.line(inner, clause(inner, 'resume when ', item.resume), item.resume.span.start, item.resume.span.end);
        return this.close(item.span, indent);
      }
      case 'Assert':
        return this.line(indent, assertion(indent, item.name.text, item.property), item.span.start, item.span.end);
    }
  }
}
