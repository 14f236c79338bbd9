/**
 * Parsing as named phases, each returning a value plus diagnostics:
 * limits → lex → delimiters → parse (CST) → build (AST). Nothing here throws
 * on user input.
 */
import { EOF, type IToken } from 'chevrotain';
import type { Protocol } from './ast.js';
import { buildAst } from './build-ast.js';
import { diagnostic, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { Identifier, kapLexer, LCurly, LParen, RCurly, RParen, UnterminatedComment, UnterminatedString } from './lexer.js';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { unpack } from './messages.js';
import { repair, run, MAX_REPAIR_SOURCE } from './repair.js';
import { LineIndex, type Span } from './span.js';
import { codePointName, isControl, isInvisible } from './visible.js';

export interface Comment {
  readonly text: string;
  readonly span: Span;
  readonly block: boolean;
}

export interface ParseResult {
  /** The tree; undefined only when the file could not be read at all. */
  readonly protocol: Protocol | undefined;
  readonly comments: readonly Comment[];
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Stretches of source covered by a syntax error: the tokens the parser
   * reported, and each construct it gave up on, to where it resumed. The
   * checker's findings inside them are not reported (`analyze`): they would
   * be about a sentence that was never read whole.
   */
  readonly recovered: readonly Span[];
  /**
   * The names written inside `recovered`. What was declared there is
   * unknown, so the checker's findings about these names elsewhere (not
   * declared, never monitored, …) are not reported either.
   */
  readonly unreadNames: ReadonlySet<string>;
}

export interface ParseOptions {
  readonly limits?: Partial<Limits>;
}

export interface LexResult {
  readonly tokens: IToken[];
  readonly comments: Comment[];
  readonly diagnostics: Diagnostic[];
}

const CHARACTER_HINTS: Record<string, string> = {
  '.': 'Write decimals with a digit before the point, such as `0.5`; ranges use `..`.',
  '=': 'Compare with `==`, `<=` or `>=`.',
  '!': 'Write "not equal" as `!=`, and negation as `not`.',
  '&': 'Write `and`.',
  '|': 'Write `or`.',
  "'": 'Quote text with double quotes: `"…"`.',
  ';': 'Lines need no `;`.',
  ':': 'Write `sbp mmHg 50..260` without a colon.',
};

/** `` `@` ``, or `U+001B` for a character a terminal would not show as itself. */
function describeCharacter(ch: string): string {
  return isInvisible(ch) ? `${codePointName(ch)} (a control or invisible character)` : `\`${ch}\``;
}

function characterHint(ch: string): string | undefined {
  if (CHARACTER_HINTS[ch]) return CHARACTER_HINTS[ch];
  if (/\p{L}/u.test(ch)) return 'Names use the letters a–z, digits and `_`.';
  return undefined;
}

export function lex(text: string): LexResult {
  const result = kapLexer.tokenize(text);
  // The lexer tracks start offsets only (it is faster so); the parser's node
  // locations need end offsets, which follow from the image.
  for (const t of result.tokens) t.endOffset = t.startOffset + t.image.length - 1;
  const diagnostics: Diagnostic[] = [];
  for (const e of result.errors) {
    const first = String.fromCodePoint(text.codePointAt(e.offset) ?? 63);
    const hint = characterHint(first);
    diagnostics.push(
      diagnostic('KAP1001', `Unexpected character ${describeCharacter(first)}.`, { start: e.offset, end: e.offset + Math.max(1, e.length) }, hint ? { hint } : {}),
    );
  }
  for (const t of result.tokens) {
    if (t.tokenType === UnterminatedString) {
      diagnostics.push(
        diagnostic('KAP1002', 'This text has no closing `"`.', { start: t.startOffset, end: t.startOffset + t.image.length }, {
          hint: 'Close it with `"` on the same line.',
        }),
      );
    }
  }
  const comments: Comment[] = [];
  for (const t of (result.groups['comments'] ?? []) as IToken[]) {
    const span = { start: t.startOffset, end: t.startOffset + t.image.length };
    if (t.tokenType === UnterminatedComment) {
      diagnostics.push(
        diagnostic('KAP1008', 'This comment has no closing `*/`.', { start: span.start, end: span.start + 2 }, {
          hint: 'Close it with `*/`; everything after `/*` is a comment until then.',
        }),
      );
    }
    comments.push({ text: t.image, span, block: t.image.startsWith('/*') });
  }
  return { tokens: result.tokens, comments, diagnostics };
}

/** More than one character in this many being a control character makes a file binary. */
const CONTROL_SHARE = 10;

/**
 * A file that is not text at all (an image, a PDF, a UTF-16 or Latin-1 file,
 * random bytes) gets one diagnostic at its first offending character instead
 * of a syntax error for every stretch of binary. Not text: a NUL character, a
 * U+FFFD (what bytes that are not valid UTF-8 decode to), or more than one
 * character in ten a control character (form feeds and vertical tabs are
 * whitespace, not controls).
 */
function notText(text: string): Diagnostic | undefined {
  let first = -1;
  let controls = 0;
  let firstControl = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0 || c === 0xfffd) {
      first = i;
      break;
    }
    if (isControl(c) && c !== 0x0b && c !== 0x0c) {
      controls++;
      if (firstControl < 0) firstControl = i;
    }
  }
  const binary = controls > 0 && controls * CONTROL_SHARE > text.length;
  if (first < 0 && !binary) return undefined;
  const at = first >= 0 ? first : firstControl;
  const { line, column } = new LineIndex(text).position(at);
  const where = `line ${line}, column ${column}`;
  const message =
    first < 0
      ? `This file is not text: ${controls} of its ${text.length} characters are control characters, the first (${codePointName(text[at]!)}) at ${where}.`
      : text.charCodeAt(at) === 0
        ? `This file is not text: it contains NUL bytes, the first at ${where}.`
        : `This file is not UTF-8 text: it contains bytes that are not valid UTF-8, the first at ${where}.`;
  return diagnostic('KAP1015', message, { start: at, end: at + 1 }, {
    hint: 'kapspec reads protocols saved as plain UTF-8 text. Check that this is the right file; if it is, save it again as UTF-8 (not UTF-16, Latin-1 or a word-processor format).',
  });
}

/** The names (identifiers) among `tokens` that lie inside one of `spans`. */
function namesWithin(tokens: readonly IToken[], spans: readonly Span[]): Set<string> {
  const names = new Set<string>();
  if (spans.length === 0) return names;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let k = 0;
  let reach = -1; // the furthest end among spans starting at or before the token
  for (const t of tokens) {
    while (k < sorted.length && sorted[k]!.start <= t.startOffset) reach = Math.max(reach, sorted[k++]!.end);
    if (t.startOffset < reach && t.tokenType === Identifier) names.add(t.image);
  }
  return names;
}

/** Unbalanced braces and parentheses, reported at the delimiter itself. */
function checkDelimiters(
  text: string,
  tokens: readonly IToken[],
  maxDepth: number,
): { diagnostics: Diagnostic[]; tooDeep: boolean } {
  const diagnostics: Diagnostic[] = [];
  /** Indentation of the line holding `offset`, and whether only spaces precede it. */
  const indentAt = (offset: number): { indent: number; first: boolean } => {
    let lineStart = offset;
    while (lineStart > 0 && text.charCodeAt(lineStart - 1) !== 10) lineStart--;
    let i = lineStart;
    while (i < offset && (text[i] === ' ' || text[i] === '\t')) i++;
    let indent = i - lineStart;
    const first = i === offset;
    if (!first) {
      let j = lineStart;
      while (text[j] === ' ' || text[j] === '\t') j++;
      indent = j - lineStart;
    }
    return { indent, first };
  };
  const stack: IToken[] = [];
  let parens = 0;
  let tooDeep = false;
  // The indentation guess below only applies when some `{` really is left
  // open: a balanced file is never reported, however it is indented.
  let openCurlies = 0;
  for (const t of tokens) openCurlies += t.tokenType === LCurly ? 1 : t.tokenType === RCurly ? -1 : 0;
  const spanOf = (t: IToken): Span => ({ start: t.startOffset, end: t.startOffset + 1 });
  const name = (t: IToken): string => (t.tokenType === LCurly || t.tokenType === RCurly ? 'brace' : 'parenthesis');
  for (const t of tokens) {
    if (t.tokenType === LCurly || t.tokenType === LParen) {
      stack.push(t);
      if (t.tokenType === LParen) {
        parens++;
        if (parens > maxDepth && !tooDeep) {
          tooDeep = true;
          diagnostics.push(
            diagnostic('KAP1011', `Parentheses are nested more than ${maxDepth} deep here.`, spanOf(t), {
              hint: 'Split the condition into simpler parts.',
            }),
          );
        }
      }
    } else if (t.tokenType === RCurly || t.tokenType === RParen) {
      const opener = t.tokenType === RCurly ? LCurly : LParen;
      let at = stack.length - 1;
      while (at >= 0 && stack[at]!.tokenType !== opener) at--;
      // A `}` alone on its line, indented less than the line that opened the
      // innermost block, most likely closes an outer block: the inner one was
      // left open. Report the inner one where it opens.
      if (t.tokenType === RCurly) {
        const closing = indentAt(t.startOffset);
        while (at > 0 && closing.first && openCurlies > 0) {
          const open = indentAt(stack[at]!.startOffset);
          if (closing.indent >= open.indent) break;
          let outer = at - 1;
          while (outer >= 0 && stack[outer]!.tokenType !== LCurly) outer--;
          if (outer < 0 || indentAt(stack[outer]!.startOffset).indent > closing.indent) break;
          diagnostics.push(unclosed(stack[at]!));
          openCurlies--;
          stack.splice(at, 1);
          at = outer;
        }
      }
      if (at < 0) {
        diagnostics.push(
          diagnostic('KAP1007', `This closing ${name(t)} \`${t.image}\` has no matching opening one.`, spanOf(t), {
            hint: 'Remove it, or add the opening one where the block starts.',
          }),
        );
        continue;
      }
      while (stack.length - 1 > at) {
        const open = stack.pop()!;
        if (open.tokenType === LParen) parens--;
        diagnostics.push(unclosed(open));
      }
      stack.pop();
      if (t.tokenType === RParen) parens--;
    }
  }
  for (const open of stack) diagnostics.push(unclosed(open));
  return { diagnostics, tooDeep };

  function unclosed(open: IToken): Diagnostic {
    const close = open.tokenType === LCurly ? '}' : ')';
    return diagnostic('KAP1006', `This \`${open.image}\` is never closed.`, spanOf(open), {
      hint: `Add \`${close}\` where the ${open.tokenType === LCurly ? 'block' : 'group'} ends.`,
    });
  }
}

export function parse(text: string, options: ParseOptions = {}): ParseResult {
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  if (text.length > limits.maxSourceLength) {
    return {
      protocol: undefined,
      comments: [],
      recovered: [],
      unreadNames: new Set(),
      diagnostics: [
        diagnostic(
          'KAP1010',
          `This file has ${text.length} characters; kapspec reads at most ${limits.maxSourceLength}.`,
          { start: 0, end: 0 },
          { hint: 'Split the protocol into several files.' },
        ),
      ],
    };
  }

  const binary = notText(text);
  if (binary) return { protocol: undefined, comments: [], diagnostics: [binary], recovered: [], unreadNames: new Set() };

  const lexed = lex(text);
  const delimiters = checkDelimiters(text, lexed.tokens, limits.maxNestingDepth);
  const diagnostics: Diagnostic[] = [...lexed.diagnostics, ...delimiters.diagnostics];
  if (delimiters.tooDeep) {
    return { protocol: undefined, comments: lexed.comments, diagnostics: sortDiagnostics(diagnostics), recovered: [], unreadNames: new Set() };
  }

  // The first token after an unexpected character is where the parser trips
  // over the gap the character left; that complaint repeats the lexer's.
  const afterLexError = new Set<number>();
  const lexEnds = lexed.diagnostics.map((d) => d.span.end).sort((a, b) => a - b);
  for (let k = 0, t = 0; k < lexEnds.length; k++) {
    while (t < lexed.tokens.length && lexed.tokens[t]!.startOffset < lexEnds[k]!) t++;
    if (t < lexed.tokens.length) afterLexError.add(lexed.tokens[t]!.startOffset);
  }
  const unclosed = new Set(
    delimiters.diagnostics.filter((d) => d.code === 'KAP1006' && text[d.span.start] === '{').map((d) => d.span.start),
  );
  const first = run(lexed.tokens, unclosed);
  const { parsed, repairs } =
    text.length <= MAX_REPAIR_SOURCE ? repair(lexed.tokens, first, afterLexError, unclosed) : { parsed: first, repairs: [] };
  const { cst, errors } = parsed;
  const recovered: Span[] = [...parsed.recovered];
  // A word read as a keyword is reported with the parser's own message when
  // the error was at the word and its hint names that keyword
  // (`Expected \`when\` …, but found \`whn\``), else as itself.
  for (const r of repairs) {
    const span = { start: r.token.startOffset, end: r.token.startOffset + r.token.image.length };
    recovered.push(span);
    const own = r.message === undefined ? undefined : unpack(r.message);
    const hint = `Did you mean \`${r.word}\`?`;
    diagnostics.push(
      own && own.hint === hint
        ? diagnostic(own.code, own.message, span, { hint })
        : diagnostic('KAP1003', `Unexpected \`${r.token.image}\` here.`, span, { hint }),
    );
  }
  const unbalanced = delimiters.diagnostics.length > 0;
  const seen = new Set<number>();
  for (const e of errors) {
    const t = e.token;
    const atEnd = t.tokenType === EOF || Number.isNaN(t.startOffset);
    if (!atEnd) {
      const skipped = e.resyncedTokens.filter((r) => Number.isFinite(r.startOffset));
      const last = skipped.length > 0 ? skipped[skipped.length - 1]! : t;
      recovered.push({ start: t.startOffset, end: Math.max(t.startOffset + t.image.length, last.startOffset + last.image.length) });
    }
    const m = unpack(e.message);
    // An unbalanced delimiter was already reported where it is; the parser's
    // complaints at the end of the file or about extra input only repeat it.
    if (unbalanced && (atEnd || m.code === 'KAP1005' || t.tokenType === RCurly || t.tokenType === RParen)) continue;
    const start = atEnd ? text.length : t.startOffset;
    if (seen.has(start) || afterLexError.has(start)) continue;
    seen.add(start);
    const end = atEnd ? text.length : t.startOffset + t.image.length;
    diagnostics.push(diagnostic(m.code, m.message, { start, end }, m.hint ? { hint: m.hint } : {}));
  }

  const built = buildAst(cst, text.length, limits);
  diagnostics.push(...built.diagnostics);
  recovered.push(...built.misread);
  return {
    protocol: built.protocol,
    comments: lexed.comments,
    diagnostics: sortDiagnostics(diagnostics),
    recovered,
    unreadNames: namesWithin(lexed.tokens, recovered),
  };
}
