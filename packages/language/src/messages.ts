/**
 * Parser error messages written for protocol designers. Chevrotain's message
 * provider can only return a string, so each message is a small JSON payload
 * (code, message, hint) that `parse.ts` unpacks into a diagnostic.
 */
import { EOF, tokenLabel, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import type { DiagnosticCode } from './diagnostics.js';
import { AnyWord, Identifier, isKeyword, KEYWORDS, NumberLiteral, RCurly, UNIT_WORDS, Unit } from './lexer.js';
import { closest } from './suggest.js';

export interface ParserMessage {
  code: DiagnosticCode;
  message: string;
  hint?: string;
}

/** What may appear inside each block, by the rule that parses the block. */
const BLOCK_CONTENTS: Record<string, { what: string; words: string[] }> = {
  protocolFile: {
    what: 'a section (`version`, `setting`, `population`, `roles`, `measures`, `events`, `drugs`, `course` or `session`)',
    words: ['version', 'setting', 'population', 'roles', 'measures', 'events', 'drugs', 'course', 'session'],
  },
  session: {
    what: 'a session item (`staffing`, `stage`, `discharge when`, `rule` or `assert`)',
    words: ['staffing', 'stage', 'discharge', 'rule', 'assert'],
  },
  stage: {
    what: 'a stage item (`monitor`, `measure`, `administer` or `gate`)',
    words: ['monitor', 'measure', 'administer', 'gate'],
  },
  populationBlock: { what: '`age`, `exclude` or `caution`', words: ['age', 'exclude', 'caution'] },
  rolesBlock: { what: 'a role such as `therapist 1..2`', words: [] },
  measuresBlock: { what: 'a measure such as `sbp mmHg 50..260`', words: [] },
  eventsBlock: { what: 'an event name', words: [] },
  drugsBlock: { what: 'a drug such as `ketamine max 1 mg/kg`', words: [] },
  courseBlock: { what: 'a session name or a `limit` line', words: ['limit'] },
  staffingBlock: { what: 'a staffing line such as `therapist >= 1`', words: [] },
  rule: { what: '`resume when …`', words: ['resume'] },
};

const ALTERNATIVES: Record<string, { what: string; words: string[] }> = {
  protocolItem: BLOCK_CONTENTS.protocolFile!,
  sessionItem: BLOCK_CONTENTS.session!,
  stageItem: BLOCK_CONTENTS.stage!,
  populationItem: BLOCK_CONTENTS.populationBlock!,
  settingDecl: { what: '`individual` or `group` with a size such as `group 4..12`', words: ['individual', 'group'] },
  schedule: {
    what: 'a schedule: `every 15 min`, `at 40 min`, `at start` or `continuously`',
    words: ['every', 'at', 'continuously'],
  },
  action: {
    what: 'an action (`pause`, `stop`, `resume`, `end session`, `defer`, `escalate`, `notify`, `attend`, `give` or `reduce`)',
    words: ['pause', 'stop', 'end', 'defer', 'escalate', 'notify', 'attend', 'give', 'reduce'],
  },
  atom: { what: 'a value or a condition, such as `sbp`, `160 mmHg` or `panic`', words: ['observed', 'baseline', 'caution', 'stage', 'elapsed'] },
  stageDuration: { what: 'a duration such as `40 min`, `at least 60 min` or `at most 90 min`', words: ['at'] },
  assertDecl: {
    what: 'a property: `always …`, `never …`, `eventually … within …` or `… implies … within …`',
    words: ['always', 'never', 'eventually'],
  },
  gate: { what: '`defer "<reason>"` or `end session "<reason>"`', words: ['defer', 'end'] },
  administer: { what: '`over <time>` or `once`', words: ['over', 'once'] },
  courseItem: BLOCK_CONTENTS.courseBlock!,
  condition: { what: '`for <time>` or `during <stage>`', words: ['for', 'during'] },
};

/** Previous words after which a number is a time. */
const TIME_CONTEXT = new Set(['every', 'at', 'for', 'within', 'over', 'duration', 'least', 'most', 'per', 'spacing']);

export function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  return `\`${token.image}\``;
}

function describeExpected(expected: TokenType, ruleName: string, previous: IToken): string {
  if (expected === NumberLiteral) {
    if (ruleName === 'timeQuantity') return 'a duration such as `15 min`';
    if (ruleName === 'doseQuantity') return 'a dose such as `0.5 mg/kg` or `4 mg`';
    if (ruleName === 'range') return 'a range such as `50..260`';
    if (TIME_CONTEXT.has(previous.image)) return 'a duration such as `15 min`';
    return 'a number';
  }
  if (expected === Identifier || expected === AnyWord) {
    const byPrevious: Record<string, string> = {
      session: 'a session name such as `dosing`',
      stage: 'a stage name such as `infusion`',
      rule: 'a rule name such as `hypertension`',
      assert: 'a property name such as `responsive`',
      pause: 'the name of a stage',
      stop: 'the name of a stage',
      notify: 'the name of a role',
      attend: 'the name of a role',
      escalate: 'an escalation level such as `emergency`',
      give: 'the name of a drug',
      reduce: 'the name of a drug',
      administer: 'the name of a drug',
      observed: 'the name of a measure',
      baseline: 'the name of a measure',
      caution: 'the name of a condition flag',
      during: 'the name of a stage',
      limit: 'the name of a session',
    };
    return byPrevious[previous.image] ?? 'a name';
  }
  if (expected === Unit) {
    if (ruleName === 'courseStep') return 'a time unit such as `days` or `weeks`';
    return 'a unit such as `mmHg`, `bpm`, `%` or `score`';
  }
  if (expected === RCurly) {
    const inside = BLOCK_CONTENTS[ruleName];
    return inside ? `${inside.what} or \`}\`` : '`}`';
  }
  return tokenLabel(expected);
}

/** Unit spellings kapspec does not read, and what to write instead. */
const OTHER_UNITS: Record<string, string> = {
  kg: 'kapspec has no unit `kg`: a dose per body weight is written `mg/kg` or `mcg/kg`.',
  ug: 'If `ug` is a unit, write `mcg`.',
  sec: 'If `sec` is a unit, write `s`.',
  secs: 'If `secs` is a unit, write `s`.',
  second: 'If `second` is a unit, write `s`.',
  seconds: 'If `seconds` is a unit, write `s`.',
  mins: 'If `mins` is a unit, write `min`.',
  minute: 'If `minute` is a unit, write `min`.',
  minutes: 'If `minutes` is a unit, write `min`.',
  hr: 'If `hr` is a unit, write `h`.',
  hrs: 'If `hrs` is a unit, write `h`.',
  hour: 'If `hour` is a unit, write `h`.',
  hours: 'If `hours` is a unit, write `h`.',
  percent: 'If `percent` is a unit, write `%`.',
};

/** A name right after a number is often a unit kapspec does not know (`180 kg`, `10 mins`, `120 mmhg`). */
function unitHint(actual: IToken): string | undefined {
  const other = OTHER_UNITS[actual.image];
  if (other !== undefined) return other;
  const guess = closest(actual.image, UNIT_WORDS.filter((u) => u.length >= 3));
  return guess === undefined ? undefined : `If \`${actual.image}\` is a unit, write \`${guess}\`.`;
}

function keywordHint(actual: IToken, words: readonly string[]): string | undefined {
  if (actual.tokenType !== Identifier) return undefined;
  const guess = closest(actual.image, words);
  return guess === undefined ? undefined : `Did you mean \`${guess}\`?`;
}

function pack(m: ParserMessage): string {
  return JSON.stringify(m);
}

export function unpack(text: string): ParserMessage {
  try {
    const parsed = JSON.parse(text) as ParserMessage;
    if (typeof parsed.code === 'string' && typeof parsed.message === 'string') return parsed;
  } catch {
    // fall through: a message chevrotain built itself
  }
  return { code: 'KAP1003', message: text };
}

function found(actual: IToken): string {
  return actual.tokenType === EOF ? 'the file ends here' : `found ${describeToken(actual)}`;
}

export const errorMessageProvider: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const what = describeExpected(expected, ruleName, previous);
    const after =
      expected !== RCurly && previous && previous.image && previous.tokenType !== EOF ? ` after \`${previous.image}\`` : '';
    let hint: string | undefined;
    if (expected === Identifier && isKeyword(actual)) {
      hint = `\`${actual.image}\` is a reserved word; choose another name, such as \`${actual.image}_1\`.`;
    } else if (expected === RCurly) {
      hint = keywordHint(actual, BLOCK_CONTENTS[ruleName]?.words ?? []);
      if (hint === undefined && actual.tokenType === EOF) hint = 'Every `{` needs a matching `}`.';
    } else if (expected === Unit && actual.tokenType === Identifier) {
      const guess = closest(actual.image, UNIT_WORDS);
      if (guess !== undefined) hint = `Did you mean \`${guess}\`?`;
    } else if (KEYWORDS.has(tokenLabel(expected).replace(/`/g, ''))) {
      const word = tokenLabel(expected).replace(/`/g, '');
      hint = keywordHint(actual, [word]);
    }
    if (hint === undefined && previous?.tokenType === NumberLiteral && actual.tokenType === Identifier) hint = unitHint(actual);
    return pack({ code: 'KAP1003', message: `Expected ${what}${after}, but ${found(actual)}.`, ...(hint ? { hint } : {}) });
  },

  buildNotAllInputParsedMessage({ firstRedundant }) {
    return pack({
      code: 'KAP1005',
      message: `Unexpected ${describeToken(firstRedundant)} after the end of the protocol.`,
      hint: 'Everything belongs inside `protocol "…" { … }`; check for an extra `}`.',
    });
  },

  buildNoViableAltMessage({ actual, previous, ruleName }) {
    const token = actual[0] as IToken;
    const alt = ALTERNATIVES[ruleName];
    const what = alt?.what ?? 'something else';
    const after = previous && previous.image && previous.tokenType !== EOF ? ` after \`${previous.image}\`` : '';
    const hint = keywordHint(token, alt?.words ?? []);
    return pack({ code: 'KAP1004', message: `Expected ${what}${after}, but ${found(token)}.`, ...(hint ? { hint } : {}) });
  },

  buildEarlyExitMessage({ actual, previous, ruleName }) {
    const token = actual[0] as IToken;
    const alt = ALTERNATIVES[ruleName];
    const what = ruleName === 'nameList' ? 'a name' : ruleName === 'stageDuration' ? 'a duration such as `40 min` or `at least 60 min`' : (alt?.what ?? 'at least one item');
    const after = previous && previous.image && previous.tokenType !== EOF ? ` after \`${previous.image}\`` : '';
    return pack({ code: 'KAP1004', message: `Expected ${what}${after}, but ${found(token)}.` });
  },
};
