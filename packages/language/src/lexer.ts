/**
 * Tokens of the `.kap` language. Keywords are reserved words; unit words
 * (`min`, `mg`, `mmHg`, …) are tokens of the `Unit` category so that the
 * parser can ask for "a number with a unit" without guessing.
 */
import { createToken, Lexer, type IToken, type TokenType } from 'chevrotain';

/** Any word: a name, a keyword or a unit word. Declarations accept any word and report reserved ones. */
export const AnyWord = createToken({ name: 'AnyWord', pattern: Lexer.NA, label: 'a name' });
export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [AnyWord],
  label: 'a name',
});

const keywordTokens: TokenType[] = [];
/** Every keyword by its spelling, for messages and "did you mean" hints. */
export const KEYWORDS = new Map<string, TokenType>();

function keyword(word: string, categories: TokenType[] = []): TokenType {
  const t = createToken({
    name: word.charAt(0).toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [...categories, AnyWord],
    label: `\`${word}\``,
  });
  keywordTokens.push(t);
  KEYWORDS.set(word, t);
  return t;
}

// Categories
export const Unit = createToken({ name: 'Unit', pattern: Lexer.NA, label: 'a unit' });
export const RouteKw = createToken({ name: 'Route', pattern: Lexer.NA, label: 'a route' });
export const CompareOp = createToken({ name: 'CompareOp', pattern: Lexer.NA, label: 'a comparison' });
export const AddOp = createToken({ name: 'AddOp', pattern: Lexer.NA, label: '`+` or `-`' });
export const MulOp = createToken({ name: 'MulOp', pattern: Lexer.NA, label: '`*` or `/`' });

// Structure
export const Protocol = keyword('protocol');
export const Version = keyword('version');
export const Setting = keyword('setting');
export const Individual = keyword('individual');
export const Group = keyword('group');
export const Population = keyword('population');
export const Age = keyword('age');
export const Exclude = keyword('exclude');
export const Caution = keyword('caution');
export const Roles = keyword('roles');
export const Qualified = keyword('qualified');
export const Per = keyword('per');
export const Participants = keyword('participants');
export const Measures = keyword('measures');
export const Events = keyword('events');
export const Drugs = keyword('drugs');
export const Max = keyword('max');
export const Course = keyword('course');
export const Repeat = keyword('repeat');
export const Spacing = keyword('spacing');
export const Limit = keyword('limit');
export const Session = keyword('session');
export const Staffing = keyword('staffing');
export const During = keyword('during');
export const Stage = keyword('stage');
export const Duration = keyword('duration');
export const At = keyword('at');
export const Least = keyword('least');
export const Most = keyword('most');
export const Start = keyword('start');
export const Measure = keyword('measure');
export const Monitor = keyword('monitor');
export const Every = keyword('every');
export const Continuously = keyword('continuously');
export const Administer = keyword('administer');
export const Over = keyword('over');
export const Once = keyword('once');
export const Gate = keyword('gate');
export const Else = keyword('else');
export const Defer = keyword('defer');
export const Discharge = keyword('discharge');
export const Rule = keyword('rule');
export const When = keyword('when');
export const Then = keyword('then');
export const Resume = keyword('resume');
export const For = keyword('for');
export const Pause = keyword('pause');
export const Stop = keyword('stop');
export const End = keyword('end');
export const Escalate = keyword('escalate');
export const Notify = keyword('notify');
export const Attend = keyword('attend');
export const Within = keyword('within');
export const Give = keyword('give');
export const Reduce = keyword('reduce');
export const To = keyword('to');
export const Assert = keyword('assert');
export const Always = keyword('always');
export const Never = keyword('never');
export const Eventually = keyword('eventually');
export const Implies = keyword('implies');
export const Or = keyword('or');
export const And = keyword('and');
export const Not = keyword('not');
export const Observed = keyword('observed');
export const Baseline = keyword('baseline');
export const Elapsed = keyword('elapsed');
export const Paused = keyword('paused');
// Routes
export const Iv = keyword('iv', [RouteKw]);
export const Im = keyword('im', [RouteKw]);
export const Sublingual = keyword('sublingual', [RouteKw]);
export const Intranasal = keyword('intranasal', [RouteKw]);
export const Oral = keyword('oral', [RouteKw]);

// Units. Composite units come first so `mg/kg` is one token, not `mg` `/` `kg`.
const unitTokens: TokenType[] = [];
/** Every unit by its spelling (`mg/kg`, `min`), for reading a misspelt unit as the one meant. */
export const UNIT_TOKENS = new Map<string, TokenType>();
function unit(name: string, pattern: RegExp, word: boolean): TokenType {
  const spelling = pattern.source.replace(/\\/g, '').replace(/\(\?!.*\)$/, '');
  const t = createToken({
    name: `Unit_${name}`,
    pattern,
    categories: word ? [Unit, AnyWord] : [Unit],
    label: `\`${spelling}\``,
    ...(word ? { longer_alt: Identifier } : { start_chars_hint: [pattern.source.charAt(0) === '\\' ? pattern.source.charAt(1) : pattern.source.charAt(0)] }),
  });
  unitTokens.push(t);
  UNIT_TOKENS.set(spelling, t);
  return t;
}
unit('mcg_per_kg', /mcg\/kg/, false);
unit('mg_per_kg', /mg\/kg/, false);
unit('per_min', /\/min(?![A-Za-z0-9_(])/, false);
unit('percent', /%/, false);
unit('mmHg', /mmHg/, true);
unit('bpm', /bpm/, true);
unit('score', /score/, true);
unit('mcg', /mcg/, true);
unit('mg', /mg/, true);
unit('g', /g/, true);
unit('days', /days/, true);
unit('day', /day/, true);
unit('weeks', /weeks/, true);
unit('week', /week/, true);
// `min` doubles as the `min(a, b)` function; the parser accepts it as a callee.
export const MinUnit = unit('min', /min/, true);
unit('h', /h/, true);
unit('s', /s/, true);

// Literals
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: /\d+(?:\.\d+)?/, label: 'a number' });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"(?:[^"\\\r\n]|\\.)*"/, label: 'a quoted text' });
/** A string with no closing quote before the end of the line; reported, then parsed as a string. */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /"(?:[^"\\\r\n]|\\.)*/,
  categories: [StringLiteral],
  label: 'a quoted text',
});

// Punctuation
export const LCurly = createToken({ name: 'LCurly', pattern: /{/, label: '`{`' });
export const RCurly = createToken({ name: 'RCurly', pattern: /}/, label: '`}`' });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, label: '`(`' });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, label: '`)`' });
export const Comma = createToken({ name: 'Comma', pattern: /,/, label: '`,`' });
export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, label: '`..`' });
export const LessEq = createToken({ name: 'LessEq', pattern: /<=/, categories: [CompareOp], label: '`<=`' });
export const GreaterEq = createToken({ name: 'GreaterEq', pattern: />=/, categories: [CompareOp], label: '`>=`' });
export const EqEq = createToken({ name: 'EqEq', pattern: /==/, categories: [CompareOp], label: '`==`' });
export const NotEq = createToken({ name: 'NotEq', pattern: /!=/, categories: [CompareOp], label: '`!=`' });
export const Less = createToken({ name: 'Less', pattern: /</, categories: [CompareOp], label: '`<`' });
export const Greater = createToken({ name: 'Greater', pattern: />/, categories: [CompareOp], label: '`>`' });
export const Plus = createToken({ name: 'Plus', pattern: /\+/, categories: [AddOp], label: '`+`' });
export const Minus = createToken({ name: 'Minus', pattern: /-/, categories: [AddOp], label: '`-`' });
export const Star = createToken({ name: 'Star', pattern: /\*/, categories: [MulOp], label: '`*`' });
export const Slash = createToken({ name: 'Slash', pattern: /\//, categories: [MulOp], label: '`/`' });

// Trivia
export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v\uFEFF]+/, group: Lexer.SKIPPED });
export const LineComment = createToken({ name: 'LineComment', pattern: /\/\/[^\r\n]*/, group: 'comments' });
export const BlockComment = createToken({ name: 'BlockComment', pattern: /\/\*[\s\S]*?\*\//, group: 'comments', line_breaks: true });
/** A block comment that runs to the end of the file; reported, kept as a comment. */
export const UnterminatedComment = createToken({
  name: 'UnterminatedComment',
  pattern: /\/\*[\s\S]*/,
  group: 'comments',
  line_breaks: true,
});

export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  ...unitTokens.slice(0, 4), // mcg/kg, mg/kg, /min, %
  StringLiteral,
  UnterminatedString,
  NumberLiteral,
  LCurly,
  RCurly,
  LParen,
  RParen,
  Comma,
  DotDot,
  LessEq,
  GreaterEq,
  EqEq,
  NotEq,
  Less,
  Greater,
  Plus,
  Minus,
  Star,
  Slash,
  // Longest words first, so `attend` is not read as `at` + `tend`.
  ...[...keywordTokens, ...unitTokens.slice(4)].sort(
    (a, b) => String(b.PATTERN).length - String(a.PATTERN).length,
  ),
  Identifier,
  AnyWord,
  Unit,
  RouteKw,
  CompareOp,
  AddOp,
  MulOp,
];

// Token definitions are validated by a test (`lexer grammar validations`);
// skipping that work here saves start-up time on every run.
export const kapLexer = new Lexer(allTokens, {
  positionTracking: 'onlyOffset',
  ensureOptimizations: false,
  skipValidations: true,
});

/** A reserved word: a keyword or a unit word such as `min` or `s`. */
export function isKeyword(token: IToken): boolean {
  return token.tokenType !== Identifier && /^[A-Za-z_]/.test(token.image) && (KEYWORDS.get(token.image) === token.tokenType || UNIT_WORDS.includes(token.image));
}

export const UNIT_WORDS: readonly string[] = ['s', 'min', 'h', 'day', 'days', 'week', 'weeks', 'mcg', 'mg', 'g', 'mcg/kg', 'mg/kg', 'mmHg', 'bpm', '/min', '%', 'score'];
