/**
 * The concrete-syntax parser (chevrotain). It builds a CST and collects
 * errors; `build-ast.ts` turns the CST into the typed AST. Error messages go
 * through `messages.ts`, which speaks to clinicians, not to parser authors.
 *
 * Error recovery is chevrotain's (single-token insertion and deletion,
 * re-synchronisation on follow sets, in-repetition recovery), changed in two
 * ways so that one mistake gives one error (see "Error recovery" at the end
 * of the class):
 *
 * - skipping input to re-synchronise treats a `{…}` or `(…)` block as one
 *   piece, so a `}` inside a skipped block is never taken for the end of the
 *   block the error is in;
 * - a rule that opened a block (`rule r {`, `stage s {`) and fails inside
 *   it skips to the block's own `}` and closes it there: what follows the
 *   block is parsed as if nothing had happened.
 *
 * Misspelt keywords are read back by `parse.ts`, which parses again.
 */
import {
  CstParser,
  EOF,
  isRecognitionException,
  tokenMatcher,
  MismatchedTokenException,
  type CstNode,
  type IParserErrorMessageProvider,
  type IRecognitionException,
  type IToken,
  type TokenType,
} from 'chevrotain';
import * as T from './lexer.js';
import { errorMessageProvider } from './messages.js';
import type { Span } from './span.js';

export interface KapParserOptions {
  /**
   * Run chevrotain's grammar validations (ambiguities, left recursion) while
   * building the parser. They cost start-up time on every run and can only
   * fail if the grammar itself is wrong, so they are off by default and a
   * test builds one validated parser.
   */
  readonly validate?: boolean;
}

/**
 * The members of chevrotain's recognizer that the recovery below uses or
 * extends. They are not in chevrotain's typings; chevrotain is pinned to
 * ~11.2 (package.json), and the recovery tests (parse tests, the golden
 * fixtures of test/fixtures/recovery) fail if they change.
 */
interface Recognizer {
  currIdx: number;
  CST_STACK: CstNode[];
  RULE_STACK_IDX: number;
  recoveryEnabled: boolean;
  errorMessageProvider: IParserErrorMessageProvider;
  isBackTracking(): boolean;
  LA(k: number): IToken;
  consumeToken(): void;
  exportLexerState(): number;
  importLexerState(state: number): void;
  SAVE_ERROR(error: IRecognitionException): IRecognitionException;
  getCurrRuleFullName(): string;
  buildFullFollowKeyStack(): unknown[];
  getFollowSetFromFollowKey(key: unknown): TokenType[] | undefined;
  cstPostTerminal(key: string, token: IToken): void;
}

/** The implementations that the overrides below fall back to. */
interface RecoveryMethods {
  invokeRuleCatch(e: unknown, resyncEnabled: boolean, recoveryValueFunc: (e: unknown) => unknown): unknown;
}

const base = CstParser.prototype as unknown as RecoveryMethods;

/** Flags a node that error recovery left unfinished, as chevrotain does. */
function markNode(node: CstNode): void {
  (node as { recoveredNode?: boolean }).recoveredNode = true;
}

/**
 * Whether a CST node has consumed a `{` and not yet its `}`, and that `}`
 * exists: a `{` in `unclosed` (never closed, as `parse.ts` found) bounds
 * nothing, so recovery inside it may resume at what follows the block.
 */
function opensBlock(node: CstNode | undefined, unclosed: ReadonlySet<number>): boolean {
  const c = node?.children;
  if (c === undefined) return false;
  const open = c['LCurly'] ?? [];
  if (open.length <= (c['RCurly']?.length ?? 0)) return false;
  const brace = open[open.length - 1] as IToken;
  return !unclosed.has(brace.startOffset);
}

export class KapParser extends CstParser {
  constructor(options: KapParserOptions = {}) {
    super(T.allTokens, {
      skipValidations: options.validate !== true,
      recoveryEnabled: true,
      nodeLocationTracking: 'onlyOffset',
      errorMessageProvider,
      maxLookahead: 3,
    });
    this.performSelfAnalysis();
  }

  /**
   * Stretches of the input that error recovery skipped or left unfinished:
   * each from the start of the construct that failed to where parsing
   * resumed. The checker's findings inside them are not reported; the syntax
   * error already covers them.
   */
  recovered: Span[] = [];

  /** Offsets of the `{` that are never closed (found before parsing, from the whole file). */
  unclosed: ReadonlySet<number> = new Set();

  override reset(): void {
    super.reset();
    this.recovered = [];
  }

  public protocolFile = this.RULE('protocolFile', () => {
    this.CONSUME(T.Protocol);
    this.CONSUME(T.StringLiteral, { LABEL: 'title' });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.protocolItem));
    this.CONSUME(T.RCurly);
  });

  private protocolItem = this.RULE('protocolItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.versionDecl) },
      { ALT: () => this.SUBRULE(this.settingDecl) },
      { ALT: () => this.SUBRULE(this.populationBlock) },
      { ALT: () => this.SUBRULE(this.rolesBlock) },
      { ALT: () => this.SUBRULE(this.measuresBlock) },
      { ALT: () => this.SUBRULE(this.eventsBlock) },
      { ALT: () => this.SUBRULE(this.drugsBlock) },
      { ALT: () => this.SUBRULE(this.courseBlock) },
      { ALT: () => this.SUBRULE(this.session) },
    ]);
  });

  private versionDecl = this.RULE('versionDecl', () => {
    this.CONSUME(T.Version);
    this.CONSUME(T.StringLiteral);
  });

  private settingDecl = this.RULE('settingDecl', () => {
    this.CONSUME(T.Setting);
    this.OR([
      { ALT: () => this.CONSUME(T.Individual) },
      {
        ALT: () => {
          this.CONSUME(T.Group);
          this.SUBRULE(this.range);
        },
      },
    ]);
  });

  private range = this.RULE('range', () => {
    this.CONSUME(T.NumberLiteral, { LABEL: 'min' });
    this.CONSUME(T.DotDot);
    this.CONSUME2(T.NumberLiteral, { LABEL: 'max' });
  });

  private nameList = this.RULE('nameList', () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.Identifier) });
  });

  private populationBlock = this.RULE('populationBlock', () => {
    this.CONSUME(T.Population);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.populationItem));
    this.CONSUME(T.RCurly);
  });

  private populationItem = this.RULE('populationItem', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Age);
          this.SUBRULE(this.range);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Exclude);
          this.OR2([
            {
              ALT: () => {
                this.CONSUME(T.When);
                this.SUBRULE(this.condition);
              },
            },
            { ALT: () => this.SUBRULE(this.nameList) },
          ]);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Caution);
          this.SUBRULE2(this.nameList);
        },
      },
    ]);
  });

  private rolesBlock = this.RULE('rolesBlock', () => {
    this.CONSUME(T.Roles);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.roleDecl));
    this.CONSUME(T.RCurly);
  });

  private roleDecl = this.RULE('roleDecl', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.NumberLiteral, { LABEL: 'min' });
    this.OPTION(() => {
      this.CONSUME(T.DotDot);
      this.CONSUME2(T.NumberLiteral, { LABEL: 'max' });
    });
    this.OPTION2(() => {
      this.CONSUME(T.Per);
      this.CONSUME3(T.NumberLiteral, { LABEL: 'per' });
      this.CONSUME(T.Participants);
    });
    this.OPTION3(() => {
      this.CONSUME(T.Qualified);
      this.CONSUME(T.StringLiteral);
    });
  });

  private measuresBlock = this.RULE('measuresBlock', () => {
    this.CONSUME(T.Measures);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.measureDecl));
    this.CONSUME(T.RCurly);
  });

  private measureDecl = this.RULE('measureDecl', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.Unit);
    this.SUBRULE(this.range);
  });

  private eventsBlock = this.RULE('eventsBlock', () => {
    this.CONSUME(T.Events);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.CONSUME(T.Identifier);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  private drugsBlock = this.RULE('drugsBlock', () => {
    this.CONSUME(T.Drugs);
    this.CONSUME(T.LCurly);
    this.MANY(() => {
      this.SUBRULE(this.drugDecl);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RCurly);
  });

  private drugDecl = this.RULE('drugDecl', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Max);
      this.SUBRULE(this.doseQuantity);
    });
  });

  private courseBlock = this.RULE('courseBlock', () => {
    this.CONSUME(T.Course);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.courseItem));
    this.CONSUME(T.RCurly);
  });

  private courseItem = this.RULE('courseItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.courseLimit) },
      { ALT: () => this.SUBRULE(this.courseStep) },
    ]);
  });

  private courseLimit = this.RULE('courseLimit', () => {
    this.CONSUME(T.Limit);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.NumberLiteral);
    this.CONSUME(T.Per);
    this.SUBRULE(this.timeQuantity);
  });

  private courseStep = this.RULE('courseStep', () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Repeat);
      this.CONSUME(T.NumberLiteral, { LABEL: 'repeatMin' });
      this.OPTION2(() => {
        this.CONSUME(T.DotDot);
        this.CONSUME2(T.NumberLiteral, { LABEL: 'repeatMax' });
      });
    });
    this.OPTION3(() => {
      this.CONSUME(T.Spacing);
      this.CONSUME3(T.NumberLiteral, { LABEL: 'spacingMin' });
      this.OPTION4(() => {
        this.CONSUME2(T.DotDot);
        this.CONSUME4(T.NumberLiteral, { LABEL: 'spacingMax' });
      });
      this.CONSUME(T.Unit);
    });
  });

  private session = this.RULE('session', () => {
    this.CONSUME(T.Session);
    this.CONSUME(T.AnyWord, { LABEL: 'name' });
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.sessionItem));
    this.CONSUME(T.RCurly);
  });

  private sessionItem = this.RULE('sessionItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.staffingBlock) },
      { ALT: () => this.SUBRULE(this.stage) },
      { ALT: () => this.SUBRULE(this.discharge) },
      { ALT: () => this.SUBRULE(this.rule) },
      { ALT: () => this.SUBRULE(this.assertDecl) },
    ]);
  });

  private staffingBlock = this.RULE('staffingBlock', () => {
    this.CONSUME(T.Staffing);
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.staffLine));
    this.CONSUME(T.RCurly);
  });

  private staffLine = this.RULE('staffLine', () => {
    this.CONSUME(T.Identifier);
    this.CONSUME(T.CompareOp);
    this.CONSUME(T.NumberLiteral, { LABEL: 'count' });
    this.OPTION(() => {
      this.CONSUME(T.Per);
      this.CONSUME2(T.NumberLiteral, { LABEL: 'per' });
      this.CONSUME(T.Participants);
    });
    this.OPTION2(() => {
      this.CONSUME(T.During);
      this.SUBRULE(this.nameList);
    });
  });

  private stage = this.RULE('stage', () => {
    this.CONSUME(T.Stage);
    this.CONSUME(T.AnyWord, { LABEL: 'name' });
    this.OPTION(() => this.SUBRULE(this.stageDuration));
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.stageItem));
    this.CONSUME(T.RCurly);
  });

  private stageDuration = this.RULE('stageDuration', () => {
    this.CONSUME(T.Duration);
    this.OR([
      { ALT: () => this.SUBRULE(this.timeQuantity, { LABEL: 'exact' }) },
      {
        ALT: () => {
          this.AT_LEAST_ONE(() => {
            this.CONSUME(T.At);
            this.OR2([
              {
                ALT: () => {
                  this.CONSUME(T.Least);
                  this.SUBRULE2(this.timeQuantity, { LABEL: 'atLeast' });
                },
              },
              {
                ALT: () => {
                  this.CONSUME(T.Most);
                  this.SUBRULE3(this.timeQuantity, { LABEL: 'atMost' });
                },
              },
            ]);
          });
        },
      },
    ]);
  });

  private stageItem = this.RULE('stageItem', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.monitor) },
      { ALT: () => this.SUBRULE(this.administer) },
      { ALT: () => this.SUBRULE(this.gate) },
    ]);
  });

  private monitor = this.RULE('monitor', () => {
    this.OR([{ ALT: () => this.CONSUME(T.Monitor) }, { ALT: () => this.CONSUME(T.Measure) }]);
    this.SUBRULE(this.nameList);
    this.SUBRULE(this.schedule);
  });

  private schedule = this.RULE('schedule', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Every);
          this.SUBRULE(this.timeQuantity, { LABEL: 'every' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.At);
          this.OR2([
            { ALT: () => this.CONSUME(T.Start) },
            { ALT: () => this.SUBRULE2(this.timeQuantity, { LABEL: 'at' }) },
          ]);
        },
      },
      { ALT: () => this.CONSUME(T.Continuously) },
    ]);
  });

  private administer = this.RULE('administer', () => {
    this.CONSUME(T.Administer);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.doseQuantity);
    this.CONSUME(T.RouteKw);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Over);
          this.SUBRULE(this.timeQuantity);
        },
      },
      { ALT: () => this.CONSUME(T.Once) },
    ]);
  });

  private gate = this.RULE('gate', () => {
    this.CONSUME(T.Gate);
    this.SUBRULE(this.condition);
    this.CONSUME(T.Else);
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Defer);
          this.CONSUME(T.StringLiteral);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.End);
          this.CONSUME(T.Session);
          this.CONSUME2(T.StringLiteral);
        },
      },
    ]);
  });

  private discharge = this.RULE('discharge', () => {
    this.CONSUME(T.Discharge);
    this.CONSUME(T.When);
    this.SUBRULE(this.condition);
  });

  private rule = this.RULE('rule', () => {
    this.CONSUME(T.Rule);
    this.CONSUME(T.AnyWord, { LABEL: 'name' });
    this.CONSUME(T.LCurly);
    this.CONSUME(T.When);
    this.SUBRULE(this.condition, { LABEL: 'when' });
    this.CONSUME(T.Then);
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.action) });
    this.OPTION(() => {
      this.CONSUME(T.Resume);
      this.CONSUME2(T.When);
      this.SUBRULE2(this.condition, { LABEL: 'resume' });
    });
    this.CONSUME(T.RCurly);
  });

  private action = this.RULE('action', () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Pause);
          this.CONSUME(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Stop);
          this.CONSUME2(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.End);
          this.CONSUME(T.Session);
          this.CONSUME(T.StringLiteral);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Defer);
          this.CONSUME2(T.StringLiteral);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Escalate);
          this.CONSUME3(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Notify);
          this.CONSUME4(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Attend);
          this.CONSUME5(T.Identifier);
          this.OPTION(() => {
            this.CONSUME(T.Within);
            this.SUBRULE(this.timeQuantity, { LABEL: 'within' });
          });
          this.OPTION2(() => {
            this.CONSUME(T.For);
            this.SUBRULE2(this.timeQuantity, { LABEL: 'for' });
          });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Give);
          this.CONSUME6(T.Identifier);
          this.SUBRULE(this.doseQuantity);
          this.OPTION3(() => this.CONSUME(T.RouteKw));
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Reduce);
          this.CONSUME7(T.Identifier);
          this.CONSUME(T.To);
          this.SUBRULE2(this.doseQuantity);
        },
      },
    ]);
  });

  private assertDecl = this.RULE('assertDecl', () => {
    this.CONSUME(T.Assert);
    this.CONSUME(T.AnyWord, { LABEL: 'name' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.Always);
          this.SUBRULE(this.condition, { LABEL: 'always' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Never);
          this.SUBRULE2(this.condition, { LABEL: 'never' });
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Eventually);
          this.SUBRULE3(this.condition, { LABEL: 'eventually' });
          this.CONSUME(T.Within);
          this.SUBRULE(this.timeQuantity, { LABEL: 'eventuallyWithin' });
        },
      },
      {
        ALT: () => {
          this.SUBRULE4(this.condition, { LABEL: 'leadsTo' });
          this.OPTION(() => {
            this.CONSUME2(T.Within);
            this.SUBRULE2(this.timeQuantity, { LABEL: 'leadsToWithin' });
          });
        },
      },
    ]);
  });

  // ── Expressions ───────────────────────────────────────────────────────

  /** An expression with optional `for <time>` and `during <stages>` qualifiers. */
  private condition = this.RULE('condition', () => {
    this.SUBRULE(this.implication);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.For);
            this.SUBRULE(this.timeQuantity);
          },
        },
        {
          ALT: () => {
            this.CONSUME(T.During);
            this.SUBRULE(this.nameList);
          },
        },
      ]);
    });
  });

  private implication = this.RULE('implication', () => {
    this.SUBRULE(this.disjunction);
    this.OPTION(() => {
      this.CONSUME(T.Implies);
      this.SUBRULE(this.implication);
    });
  });

  private disjunction = this.RULE('disjunction', () => {
    this.SUBRULE(this.conjunction);
    this.MANY(() => {
      this.CONSUME(T.Or);
      this.SUBRULE2(this.conjunction);
    });
  });

  private conjunction = this.RULE('conjunction', () => {
    this.SUBRULE(this.negation);
    this.MANY(() => {
      this.CONSUME(T.And);
      this.SUBRULE2(this.negation);
    });
  });

  private negation = this.RULE('negation', () => {
    this.MANY(() => this.CONSUME(T.Not));
    this.SUBRULE(this.comparison);
  });

  private comparison = this.RULE('comparison', () => {
    this.SUBRULE(this.additive);
    // More than one comparison is read so that `1 < sbp < 3` gets a clear error.
    this.MANY(() => {
      this.CONSUME(T.CompareOp);
      this.SUBRULE2(this.additive);
    });
  });

  private additive = this.RULE('additive', () => {
    this.SUBRULE(this.multiplicative);
    this.MANY(() => {
      this.CONSUME(T.AddOp);
      this.SUBRULE2(this.multiplicative);
    });
  });

  private multiplicative = this.RULE('multiplicative', () => {
    this.SUBRULE(this.unary);
    this.MANY(() => {
      this.CONSUME(T.MulOp);
      this.SUBRULE2(this.unary);
    });
  });

  private unary = this.RULE('unary', () => {
    this.MANY(() => this.CONSUME(T.Minus));
    this.SUBRULE(this.atom);
  });

  private atom = this.RULE('atom', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.quantity) },
      {
        ALT: () => {
          this.CONSUME(T.Observed);
          this.CONSUME(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Baseline);
          this.CONSUME2(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Caution);
          this.CONSUME3(T.Identifier);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.Stage);
          this.CONSUME4(T.Identifier);
        },
      },
      { ALT: () => this.CONSUME(T.Elapsed) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.condition);
          this.CONSUME(T.RParen);
        },
      },
      {
        // `min(a, b)` and `max(a, b)`: their names are also a unit and a keyword.
        ALT: () => {
          this.OR2([{ ALT: () => this.CONSUME(T.MinUnit) }, { ALT: () => this.CONSUME(T.Max) }]);
          this.SUBRULE(this.callArgs);
        },
      },
      {
        ALT: () => {
          this.CONSUME5(T.Identifier);
          this.OPTION(() => {
            this.OR3([
              { ALT: () => this.SUBRULE2(this.callArgs) },
              { ALT: () => this.CONSUME(T.Paused) },
            ]);
          });
        },
      },
    ]);
  });

  private callArgs = this.RULE('callArgs', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.condition) });
    this.CONSUME(T.RParen);
  });

  private quantity = this.RULE('quantity', () => {
    this.CONSUME(T.NumberLiteral);
    this.OPTION(() => this.CONSUME(T.Unit));
  });

  /** Same shape as `quantity`; a separate rule so errors can say "a duration". */
  private timeQuantity = this.RULE('timeQuantity', () => {
    this.CONSUME(T.NumberLiteral);
    this.OPTION(() => this.CONSUME(T.Unit));
  });

  /** Same shape as `quantity`; a separate rule so errors can say "a dose". */
  private doseQuantity = this.RULE('doseQuantity', () => {
    this.CONSUME(T.NumberLiteral);
    this.OPTION(() => this.CONSUME(T.Unit));
  });

  // ── Error recovery ────────────────────────────────────────────────────

  private get engine(): Recognizer {
    return this as unknown as Recognizer;
  }

  /**
   * How far ahead recovery may resume: the distance k of LA(k), the first
   * token outside any `{…}` or `(…)` that starts after the error and that
   * one of `follows` matches; else the `}` that closes the block the error
   * is in; else the end of the input.
   */
  private resyncDistance(follows: readonly TokenType[]): number {
    const x = this.engine;
    const open: TokenType[] = [];
    for (let k = 1; ; k++) {
      const t = x.LA(k);
      const type = t.tokenType;
      if (type === EOF) return k;
      if (open.length === 0 && (type === T.RCurly || follows.some((f) => tokenMatcher(t, f)))) return k;
      if (type === T.LCurly || type === T.LParen) open.push(type);
      else if (type === T.RCurly) open.length = Math.max(0, open.lastIndexOf(T.LCurly));
      else if (type === T.RParen && open[open.length - 1] === T.LParen) open.pop();
    }
  }

  /** Skips `n` tokens and returns them. */
  private skip(n: number): IToken[] {
    const x = this.engine;
    const skipped: IToken[] = [];
    for (let i = 0; i < n && x.LA(1).tokenType !== EOF; i++) {
      skipped.push(x.LA(1));
      x.consumeToken();
    }
    return skipped;
  }

  /** Records a stretch the parser did not read through, from where `node` starts (or `from`) to the last token before LA(1). */
  private markRecovered(node: CstNode, from: IToken): void {
    const x = this.engine;
    const first = node.location?.startOffset;
    const starts = [first, from.startOffset].filter((o): o is number => o !== undefined && Number.isFinite(o));
    const last = x.LA(0);
    const ends = [from, last]
      .filter((t) => Number.isFinite(t.startOffset) && t.tokenType !== EOF)
      .map((t) => t.startOffset + t.image.length);
    if (starts.length === 0 || ends.length === 0) return;
    const start = Math.min(...starts);
    this.recovered.push({ start, end: Math.max(start, ...ends) });
  }

  /**
   * chevrotain calls this when a rule fails. Its own recovery skips to the
   * first token that some rule on the stack may be followed by, without
   * regard to blocks; this one (see the class comment) keeps to the block.
   */
  protected invokeRuleCatch(e: unknown, resyncEnabled: boolean, recoveryValueFunc: (e: unknown) => unknown): unknown {
    const x = this.engine;
    if (!isRecognitionException(e as Error) || !resyncEnabled || !x.recoveryEnabled || x.isBackTracking() || (x.RULE_STACK_IDX === 0 && !opensBlock(x.CST_STACK[0], this.unclosed))) {
      return base.invokeRuleCatch.call(this, e, resyncEnabled, recoveryValueFunc);
    }
    const error = e as IRecognitionException & { partialCstResult?: CstNode };
    const depth = x.RULE_STACK_IDX;
    const node = x.CST_STACK[depth]!;
    let owner = depth;
    while (owner >= 0 && !opensBlock(x.CST_STACK[owner], this.unclosed)) owner--;
    if (owner === depth) {
      // This rule's own block: what is left of it up to its `}` is skipped, and the block closes there.
      error.resyncedTokens = this.skip(this.resyncDistance([]) - 1);
      const close = x.LA(1);
      if (close.tokenType === T.RCurly) {
        x.consumeToken();
        x.cstPostTerminal('RCurly', close);
      }
      this.markRecovered(node, error.token);
      markNode(node);
      return node;
    }
    // Within the enclosing block, the rules inside it may resume where they can be followed.
    const keys = x.buildFullFollowKeyStack();
    const inside = keys.slice(owner + 1).flatMap((k) => x.getFollowSetFromFollowKey(k) ?? []);
    const k = this.resyncDistance(inside);
    const target = x.LA(k);
    const mine = x.getFollowSetFromFollowKey(keys[depth]) ?? [];
    markNode(node);
    if (mine.some((f) => tokenMatcher(target, f))) {
      error.resyncedTokens = this.skip(k - 1);
      this.markRecovered(node, error.token);
      return node;
    }
    error.partialCstResult = node;
    throw error;
  }

  /**
   * A repetition (the items of a block) stopped at a token that neither
   * starts another item nor follows the repetition. Whole items are skipped
   * (a `{…}` block as one piece) until an item starts, the repetition's
   * follower (usually the block's `}`) comes, or a rule further out could
   * resume, where chevrotain's rule-level recovery takes over.
   */
  protected tryInRepetitionRecovery(repeat: (...args: unknown[]) => void, args: unknown[], lookahead: () => boolean, expected: TokenType): void {
    const x = this.engine;
    const actual = x.LA(1);
    const previous = x.LA(0);
    const ruleName = x.getCurrRuleFullName();
    const report = (resynced: IToken[]): void => {
      const message = x.errorMessageProvider.buildMismatchTokenMessage({ expected, actual, previous, ruleName });
      const error = new MismatchedTokenException(message, actual, previous);
      error.resyncedTokens = resynced;
      x.SAVE_ERROR(error);
    };
    const keys = x.buildFullFollowKeyStack();
    let owner = x.RULE_STACK_IDX;
    while (owner >= 0 && !opensBlock(x.CST_STACK[owner], this.unclosed)) owner--;
    const stop = x.currIdx + this.resyncDistance(keys.slice(owner + 1).flatMap((k) => x.getFollowSetFromFollowKey(k) ?? []));
    const saved = x.exportLexerState();
    const skipped: IToken[] = [];
    while (x.LA(1).tokenType !== EOF && x.currIdx + 1 <= stop) {
      if (tokenMatcher(x.LA(1), expected)) {
        report(skipped);
        return;
      }
      if (skipped.length > 0 && lookahead.call(this)) {
        report(skipped);
        repeat.apply(this, args);
        return;
      }
      if (x.currIdx + 1 === stop) break;
      // One piece: a token, or a whole `{…}` / `(…)` block.
      const n = x.LA(1).tokenType === T.LCurly || x.LA(1).tokenType === T.LParen ? this.groupLength() : 1;
      skipped.push(...this.skip(n));
    }
    x.importLexerState(saved);
  }

  /** The number of tokens from LA(1), an opening `{` or `(`, to its closing one (or to the end of the input). */
  private groupLength(): number {
    const x = this.engine;
    const open: TokenType[] = [];
    for (let k = 1; ; k++) {
      const type = x.LA(k).tokenType;
      if (type === EOF) return k - 1;
      if (type === T.LCurly || type === T.LParen) open.push(type);
      else if (type === T.RCurly) {
        const at = open.lastIndexOf(T.LCurly);
        if (at < 0) return k - 1;
        open.length = at;
      } else if (type === T.RParen && open[open.length - 1] === T.LParen) open.pop();
      if (open.length === 0) return k;
    }
  }
}

/** One parser instance, reused: chevrotain parsers are expensive to build. */
let instance: KapParser | undefined;
export function kapParser(): KapParser {
  instance ??= new KapParser();
  return instance;
}

export type { CstNode, IToken };
