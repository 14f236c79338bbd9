/**
 * Reading misspelt keywords back (see `repair`). A misspelt keyword is a
 * name to the lexer, and chevrotain's recovery cannot know it was meant as a
 * keyword; this tries the keywords it is a near miss of, by parsing again.
 */
import { createTokenInstance, EOF, type CstNode, type IRecognitionException, type IToken, type TokenType } from 'chevrotain';
import * as T from './lexer.js';
import { kapParser } from './parser.js';
import type { Span } from './span.js';
import { closest } from './suggest.js';

/**
 * Keywords and units by spelling: what a misspelt word may be read as.
 * Words of one or two letters (`at`, `or`, `h`, `mg`) are left out: every
 * short name is a near miss of one of them.
 */
const SPELLINGS: readonly (readonly [string, TokenType])[] = [...T.KEYWORDS, ...T.UNIT_TOKENS].filter(
  ([word]) => word.length >= 3 && /^[A-Za-z]+$/.test(word),
);

/**
 * The keywords and units a name is a near miss of (`closest`'s distance),
 * closest first. Names of one letter are near misses of too much to say.
 */
export function nearMisses(token: IToken): (readonly [string, TokenType])[] {
  if (token.tokenType !== T.Identifier || token.image.length < 2) return [];
  const near = SPELLINGS.filter(([word]) => closest(token.image, [word]) !== undefined);
  const out: (readonly [string, TokenType])[] = [];
  let rest = near.map(([w]) => w);
  for (let word = closest(token.image, rest); word !== undefined; word = closest(token.image, rest)) {
    const found = word;
    out.push(near.find(([w]) => w === found)!);
    rest = rest.filter((w) => w !== found);
  }
  return out;
}

/** `token` read as the keyword `word`: the keyword's type and spelling, at the token's place in the source. */
export function standIn(token: IToken, type: TokenType, word: string): IToken {
  return createTokenInstance(type, word, token.startOffset, token.startOffset + token.image.length - 1, NaN, NaN, NaN, NaN);
}

export interface Run {
  readonly cst: CstNode;
  readonly errors: readonly IRecognitionException[];
  readonly recovered: readonly Span[];
}

/** One parse of a token stream; `unclosed`: offsets of the `{` that are never closed. */
export function run(tokens: readonly IToken[], unclosed: ReadonlySet<number>): Run {
  const parser = kapParser();
  parser.input = tokens as IToken[];
  parser.unclosed = unclosed;
  const cst = parser.protocolFile();
  return { cst, errors: parser.errors, recovered: [...parser.recovered] };
}

/** Where a parse error is: its token's offset, or `end` for the end of the input. */
export function errorAt(e: IRecognitionException, end: number): number {
  return e.token.tokenType === EOF || Number.isNaN(e.token.startOffset) ? end : e.token.startOffset;
}

/** The first syntax error of a parse at or after `from` (a source offset, `end` for the end of the input, Infinity for none). */
function firstErrorFrom(r: Run, from: number, end: number): number {
  let first = Infinity;
  for (const e of r.errors) {
    const at = errorAt(e, end);
    if (at >= from) first = Math.min(first, at);
  }
  return first;
}

/**
 * Limits on the work: at most `MAX_REPAIR_PARSES` extra parses per file and
 * `REPAIR_BUDGET` characters parsed again in all (fewer parses for a larger
 * file), the first `MAX_REPAIR_ERRORS` syntax errors looked at (past those a
 * file is not a protocol with a few slips), and files up to
 * `MAX_REPAIR_SOURCE` characters.
 */
const MAX_REPAIR_PARSES = 24;
const REPAIR_BUDGET = 2 * 1024 * 1024;
const MAX_REPAIR_ERRORS = 100;
export const MAX_REPAIR_SOURCE = 128 * 1024;
/** Tokens after a word read as a keyword that must parse without an error for the reading to be kept. */
const REPAIR_CONFIRMS = 3;

/** The index of the first token at or after `offset` (`tokens.length` if none). */
function tokenAt(tokens: readonly IToken[], offset: number): number {
  let lo = 0;
  let hi = tokens.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.startOffset < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface Repair {
  /** The misspelt word. */
  readonly token: IToken;
  /** The keyword or unit it is read as. */
  readonly word: string;
  /** The parser's message for the word, when the syntax error was at the word itself. */
  readonly message?: string;
}

/**
 * Reads misspelt keywords back. A misspelt keyword is a name to the lexer:
 * where a name cannot stand (`whn sbp > 180`, `stgae infusion {`) chevrotain
 * reports it and then guesses, often badly (a `whn` condition, a missing
 * `then`); where a name can stand (`bseline sbp`, `exclude wen baseline …`,
 * `sbp > 180 dring infusion`) the error only shows a token or two later.
 * So at each syntax error, in order, the word there and the two words
 * before it are read as each keyword they are a near miss of (`closest`),
 * and the file parsed again. A reading is kept when that error is gone and
 * at least `REPAIR_CONFIRMS` more tokens after the word parse cleanly; the
 * word is then reported instead of what followed from it. Parsing goes left
 * to right, so errors before the word are the same in both parses.
 */
export function repair(
  tokens: readonly IToken[],
  parsed: Run,
  afterLexError: ReadonlySet<number>,
  unclosed: ReadonlySet<number>,
): { parsed: Run; repairs: Repair[] } {
  const last = tokens[tokens.length - 1];
  const end = last === undefined ? 0 : last.startOffset + last.image.length + 1;
  const budget = Math.min(MAX_REPAIR_PARSES, Math.floor(REPAIR_BUDGET / Math.max(1, end)));
  const repairs: Repair[] = [];
  let current = tokens;
  let parses = 0;
  const errorOffsets = (r: Run): number[] => [...new Set(r.errors.map((e) => errorAt(e, end)))].sort((a, b) => a - b);
  let pending = errorOffsets(parsed);
  for (let k = 0, looked = 0; k < pending.length && parses < budget && looked < MAX_REPAIR_ERRORS; looked++) {
    const at = pending[k++]!;
    if (afterLexError.has(at)) continue;
    const i = tokenAt(current, at);
    let best: { tokens: IToken[]; parsed: Run; reach: number; repair: Repair } | undefined;
    for (const j of [i, i - 1, i - 2]) {
      const token = current[j];
      if (token === undefined || j < 0) continue;
      for (const [word, type] of nearMisses(token)) {
        if (parses >= budget) break;
        const trial = [...current];
        trial[j] = standIn(token, type, word);
        const r = run(trial, unclosed);
        parses++;
        const reach = firstErrorFrom(r, token.startOffset, end);
        const confirmed = trial[j + 1 + REPAIR_CONFIRMS]?.startOffset ?? end;
        if (reach > at && reach >= confirmed && (best === undefined || reach > best.reach)) {
          best = { tokens: trial, parsed: r, reach, repair: { token, word } };
        }
      }
    }
    if (best === undefined) continue;
    const start = best.repair.token.startOffset;
    const own = parsed.errors.find((e) => errorAt(e, end) === start);
    repairs.push(own ? { ...best.repair, message: own.message } : best.repair);
    current = best.tokens;
    parsed = best.parsed;
    pending = errorOffsets(parsed);
    k = pending.findIndex((o) => o > start);
    if (k < 0) break;
  }
  return { parsed, repairs };
}

