/**
 * The concrete-syntax parser (chevrotain). It builds a CST and collects
 * errors; `build-ast.ts` turns the CST into the typed AST. Error messages go
 * through `messages.ts`, which speaks to clinicians, not to parser authors.
 */
import { CstParser, type CstNode, type IToken } from 'chevrotain';
import * as T from './lexer.js';
import { errorMessageProvider } from './messages.js';

export interface KapParserOptions {
  /**
   * Run chevrotain's grammar validations (ambiguities, left recursion) while
   * building the parser. They cost start-up time on every run and can only
   * fail if the grammar itself is wrong, so they are off by default and a
   * test builds one validated parser.
   */
  readonly validate?: boolean;
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
}

/** One parser instance, reused: chevrotain parsers are expensive to build. */
let instance: KapParser | undefined;
export function kapParser(): KapParser {
  instance ??= new KapParser();
  return instance;
}

export type { CstNode, IToken };
