/**
 * The symbol table the checker builds and the compiler reads: every declared
 * name by kind, sessions with their stages in order, the setting, and the
 * resolution of each bare name in an expression. Also the name resolvers
 * that report unknown and wrong-kind names.
 */
import type {
  Assert,
  Discharge,
  DrugDecl,
  Expr,
  MeasureDecl,
  Name,
  Protocol,
  RefExpr,
  RoleDecl,
  Rule,
  Session,
  SettingDecl,
  Stage,
  StaffingBlock,
} from './ast.js';
import type { Span } from './span.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { closest } from './suggest.js';
import { orList } from './check-text.js';
import { unitInfo, type Dimension } from './units.js';

/** What a bare name (or a function argument) in an expression refers to. */
export type RefKind = 'measure' | 'event' | 'stage' | 'outcome' | 'role' | 'drug';

/** The static type of a checked expression. */
export type ExprType = { readonly kind: 'bool' } | { readonly kind: 'number'; readonly dimension?: Dimension };

/** A participant-profile flag named in `population { exclude … }` or `caution …`. */
export interface FlagSymbol {
  readonly name: Name;
  readonly list: 'exclude' | 'caution';
}

export interface SessionSymbol {
  readonly name: string;
  readonly decl: Session;
  /** Stages by name; iteration follows source order. */
  readonly stages: ReadonlyMap<string, Stage>;
  /** Every stage in source order (including any with a duplicate name). */
  readonly stageOrder: readonly Stage[];
  readonly rules: ReadonlyMap<string, Rule>;
  readonly asserts: ReadonlyMap<string, Assert>;
  readonly staffing: StaffingBlock | undefined;
  readonly discharge: Discharge | undefined;
  /** Measures named by a `monitor`/`measure` line of some stage. */
  readonly monitored: ReadonlySet<string>;
}

export interface SettingSymbol {
  readonly mode: 'individual' | 'group';
  readonly size?: { readonly min: number; readonly max: number };
  /** Absent when the protocol has no `setting` line (individual by default). */
  readonly decl?: SettingDecl;
}

export interface SymbolTable {
  readonly measures: ReadonlyMap<string, MeasureDecl>;
  /** Events by name; the value is the name as declared in `events { … }`. */
  readonly events: ReadonlyMap<string, Name>;
  readonly roles: ReadonlyMap<string, RoleDecl>;
  /** Declared drugs (empty when the protocol has no `drugs { }` block). */
  readonly drugs: ReadonlyMap<string, DrugDecl>;
  /** True when a `drugs { }` block exists: then every drug name must be declared. */
  readonly drugsDeclared: boolean;
  readonly flags: ReadonlyMap<string, FlagSymbol>;
  readonly sessions: ReadonlyMap<string, SessionSymbol>;
  readonly setting: SettingSymbol;
  /** What a bare name in a checked expression refers to; undefined when unresolved. */
  refKind(ref: RefExpr): RefKind | undefined;
  /** The static type of a checked expression; undefined when unknown (errors, `Missing`). */
  exprType(e: Expr): ExprType | undefined;
  /** The dimension of `dose(drug)`: the declared maximum's, else the first administered dose's. */
  doseDimension(drug: string): Dimension | undefined;
}

export type Report = (d: Diagnostic) => void;

export class MutableSessionSymbol implements SessionSymbol {
  readonly stages = new Map<string, Stage>();
  readonly stageOrder: Stage[] = [];
  readonly rules = new Map<string, Rule>();
  readonly asserts = new Map<string, Assert>();
  staffing: StaffingBlock | undefined;
  discharge: Discharge | undefined;
  readonly monitored = new Set<string>();
  constructor(
    readonly name: string,
    readonly decl: Session,
  ) {}
}

type GlobalKind = 'measure' | 'event' | 'role' | 'drug';

export class Symbols implements SymbolTable {
  readonly measures = new Map<string, MeasureDecl>();
  readonly events = new Map<string, Name>();
  readonly roles = new Map<string, RoleDecl>();
  readonly drugs = new Map<string, DrugDecl>();
  drugsDeclared = false;
  readonly flags = new Map<string, FlagSymbol>();
  readonly sessions = new Map<string, MutableSessionSymbol>();
  /** Every session in source order, duplicates included. */
  readonly sessionList: MutableSessionSymbol[] = [];
  setting: SettingSymbol = { mode: 'individual' };
  /** Names shared by measures, events, roles and drugs: one protocol-wide scope. */
  readonly globals = new Map<string, { kind: GlobalKind; name: Name }>();
  readonly administeredDims = new Map<string, Dimension>();
  readonly refs = new WeakMap<RefExpr, RefKind>();
  readonly types = new WeakMap<Expr, ExprType>();

  refKind(ref: RefExpr): RefKind | undefined {
    return this.refs.get(ref);
  }
  exprType(e: Expr): ExprType | undefined {
    return this.types.get(e);
  }
  doseDimension(drug: string): Dimension | undefined {
    const unit = this.drugs.get(drug)?.max?.unit;
    const declared = unit ? unitInfo(unit.text)?.dimension : undefined;
    return declared ?? this.administeredDims.get(drug);
  }

  /** What else a name is, for "wrong kind of name" messages. */
  describe(name: string, session: SessionSymbol | undefined): { what: string; span: Span } | undefined {
    const g = this.globals.get(name);
    if (g) return { what: article(g.kind), span: g.name.span };
    const flag = this.flags.get(name);
    if (flag) return { what: 'a condition flag', span: flag.name.span };
    if (session) {
      const st = session.stages.get(name);
      if (st) return { what: 'a stage', span: st.name.span };
      const r = session.rules.get(name);
      if (r) return { what: 'a rule', span: r.name.span };
      const a = session.asserts.get(name);
      if (a) return { what: 'an assert', span: a.name.span };
    }
    const s = this.sessions.get(name);
    if (s) return { what: 'a session', span: s.decl.name.span };
    for (const other of this.sessionList) {
      if (other === session) continue;
      const st = other.stages.get(name);
      if (st) return { what: `a stage of session \`${other.name}\``, span: st.name.span };
    }
    return undefined;
  }
}

const FIRST = 'first declared here';

function duplicate(report: Report, what: string, name: Name, first: Span, hint = 'Rename or remove one of them.'): void {
  report(
    diagnostic('KAP2001', `${what} \`${name.text}\` is declared twice.`, name.span, {
      hint,
      related: [{ span: first, message: FIRST }],
    }),
  );
}

const SECTION_WORDS: Record<string, string> = {
  Version: 'version',
  Setting: 'setting',
  Population: 'population',
  Roles: 'roles',
  Measures: 'measures',
  Events: 'events',
  Drugs: 'drugs',
  Course: 'course',
};

function sectionSpan(item: { span: Span }, word: string): Span {
  return { start: item.span.start, end: Math.min(item.span.end, item.span.start + word.length) };
}

/** First pass: every declaration, with duplicates reported. Nothing is resolved yet. */
export function collectSymbols(protocol: Protocol, report: Report): Symbols {
  const sy = new Symbols();
  const sections = new Map<string, Span>();
  const declareGlobal = (kind: GlobalKind, name: Name): boolean => {
    const prev = sy.globals.get(name.text);
    if (prev) {
      if (prev.kind === kind) duplicate(report, capital(kind), name, prev.name.span);
      else
        report(
          diagnostic('KAP2001', `\`${name.text}\` is already declared as ${article(prev.kind)}; a ${kind} needs another name.`, name.span, {
            hint: 'Measures, events, roles and drugs share one set of names: rename one of them.',
            related: [{ span: prev.name.span, message: FIRST }],
          }),
        );
      return false;
    }
    sy.globals.set(name.text, { kind, name });
    return true;
  };

  for (const item of protocol.items) {
    const word = SECTION_WORDS[item.kind];
    if (word !== undefined) {
      const span = sectionSpan(item, word);
      const first = sections.get(word);
      if (first) {
        report(
          diagnostic('KAP2003', `The \`${word}\` section is written twice; a protocol has one.`, span, {
            hint: word === 'version' || word === 'setting' ? 'Keep one of them.' : `Merge the two \`${word}\` sections into one.`,
            related: [{ span: first, message: 'first written here' }],
          }),
        );
      } else sections.set(word, span);
    }
    switch (item.kind) {
      case 'Setting':
        if (sy.setting.decl === undefined) {
          sy.setting = {
            mode: item.mode,
            ...(item.size ? { size: { min: item.size.min.value, max: item.size.max.value } } : {}),
            decl: item,
          };
        }
        break;
      case 'Population':
        for (const p of item.items) {
          if (p.kind !== 'Exclude' && p.kind !== 'Caution') continue;
          const list = p.kind === 'Exclude' ? 'exclude' : 'caution';
          for (const f of p.flags) {
            const prev = sy.flags.get(f.text);
            if (prev) {
              report(
                diagnostic(
                  'KAP2001',
                  prev.list === list
                    ? `The condition \`${f.text}\` is listed twice.`
                    : `The condition \`${f.text}\` is listed under both \`exclude\` and \`caution\`.`,
                  f.span,
                  {
                    hint: prev.list === list ? 'Remove one of them.' : 'A condition either excludes a participant or calls for caution: keep one.',
                    related: [{ span: prev.name.span, message: 'first listed here' }],
                  },
                ),
              );
            } else sy.flags.set(f.text, { name: f, list });
          }
        }
        break;
      case 'Roles':
        for (const r of item.roles) if (declareGlobal('role', r.name)) sy.roles.set(r.name.text, r);
        break;
      case 'Measures':
        for (const m of item.measures) if (declareGlobal('measure', m.name)) sy.measures.set(m.name.text, m);
        break;
      case 'Events':
        for (const e of item.events) if (declareGlobal('event', e)) sy.events.set(e.text, e);
        break;
      case 'Drugs':
        sy.drugsDeclared = true;
        for (const d of item.drugs) if (declareGlobal('drug', d.name)) sy.drugs.set(d.name.text, d);
        break;
      case 'Session': {
        const s = collectSession(sy, item, report);
        sy.sessionList.push(s);
        const prev = sy.sessions.get(s.name);
        if (prev) duplicate(report, 'Session', item.name, prev.decl.name.span);
        else sy.sessions.set(s.name, s);
        break;
      }
      default:
        break;
    }
  }
  // Dose dimensions of drugs, from what is administered (for `dose(drug)`).
  for (const s of sy.sessionList) {
    const note = (drug: Name, unit: string | undefined): void => {
      const dim = unit ? unitInfo(unit)?.dimension : undefined;
      if (dim && !sy.administeredDims.has(drug.text)) sy.administeredDims.set(drug.text, dim);
    };
    for (const item of s.decl.items) {
      if (item.kind === 'Stage') {
        for (const si of item.items) if (si.kind === 'Administer') note(si.drug, si.dose.unit?.text);
      } else if (item.kind === 'Rule') {
        for (const a of item.actions) {
          if (a.kind === 'Give') note(a.drug, a.dose.unit?.text);
          else if (a.kind === 'Reduce') note(a.drug, a.to.unit?.text);
        }
      }
    }
  }
  return sy;
}

function collectSession(sy: Symbols, session: Session, report: Report): MutableSessionSymbol {
  const s = new MutableSessionSymbol(session.name.text, session);
  const once = (word: string, item: { span: Span }, first: { span: Span } | undefined): boolean => {
    if (!first) return true;
    report(
      diagnostic('KAP2003', `Session \`${s.name}\` has two \`${word}\` sections; a session has one.`, sectionSpan(item, word), {
        hint: word === 'staffing' ? 'Merge the two `staffing` sections into one.' : 'Combine the two conditions with `and` or `or`.',
        related: [{ span: sectionSpan(first, word), message: 'first written here' }],
      }),
    );
    return false;
  };
  for (const item of session.items) {
    switch (item.kind) {
      case 'Stage': {
        s.stageOrder.push(item);
        const prev = s.stages.get(item.name.text);
        const clash = sy.globals.get(item.name.text);
        if (prev) duplicate(report, 'Stage', item.name, prev.name.span);
        else if (clash && (clash.kind === 'measure' || clash.kind === 'event')) {
          report(
            diagnostic('KAP2001', `\`${item.name.text}\` is already declared as ${article(clash.kind)}; a stage needs another name.`, item.name.span, {
              hint: 'A bare name in a condition must mean one thing: rename the stage.',
              related: [{ span: clash.name.span, message: FIRST }],
            }),
          );
          s.stages.set(item.name.text, item);
        } else s.stages.set(item.name.text, item);
        for (const si of item.items) if (si.kind === 'Monitor') for (const m of si.measures) s.monitored.add(m.text);
        break;
      }
      case 'Rule': {
        const prev = s.rules.get(item.name.text);
        if (prev) duplicate(report, 'Rule', item.name, prev.name.span);
        else s.rules.set(item.name.text, item);
        break;
      }
      case 'Assert': {
        const prev = s.asserts.get(item.name.text);
        if (prev) duplicate(report, 'Assert', item.name, prev.name.span);
        else s.asserts.set(item.name.text, item);
        break;
      }
      case 'Staffing':
        if (once('staffing', item, s.staffing)) s.staffing = item;
        break;
      case 'Discharge':
        if (once('discharge', item, s.discharge)) s.discharge = item;
        break;
    }
  }
  return s;
}

export function capital(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

export function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

/**
 * Name resolution with "did you mean" and "wrong kind" diagnostics. Each
 * resolver returns the declaration, or undefined after reporting.
 */
export class Resolver {
  constructor(
    readonly sy: Symbols,
    readonly report: Report,
  ) {}

  /** Reports a name that is not of the expected kind: wrong kind if it is something else, unknown otherwise. */
  unknown(
    name: Name,
    expected: string,
    candidates: Iterable<string>,
    session: SessionSymbol | undefined,
    declareHint: string,
    wrongKindHint?: (what: string) => string | undefined,
  ): void {
    const other = this.sy.describe(name.text, session);
    if (other) {
      const hint = wrongKindHint?.(other.what) ?? declareHint;
      this.report(
        diagnostic('KAP2004', `\`${name.text}\` is ${other.what}, not ${expected}.`, name.span, {
          hint,
          related: [{ span: other.span, message: 'declared here' }],
        }),
      );
      return;
    }
    const guess = closest(name.text, candidates);
    this.report(
      diagnostic('KAP2002', `\`${name.text}\` is not ${declaredWhat(expected)}.`, name.span, {
        hint: guess !== undefined ? `Did you mean \`${guess}\`?` : declareHint,
      }),
    );
  }

  role(name: Name, session: SessionSymbol | undefined): RoleDecl | undefined {
    const r = this.sy.roles.get(name.text);
    if (r) return r;
    const roles = [...this.sy.roles.keys()];
    this.unknown(
      name,
      'a role',
      roles,
      session,
      roles.length > 0 ? `The declared roles are ${orList(roles, 'and')}.` : 'Declare it in `roles { … }`.',
    );
    return undefined;
  }

  measure(name: Name, session: SessionSymbol | undefined): MeasureDecl | undefined {
    const m = this.sy.measures.get(name.text);
    if (m) return m;
    const ms = [...this.sy.measures.keys()];
    this.unknown(name, 'a measure', ms, session, 'Declare it in `measures { … }` with its unit and possible range.', (what) =>
      what === 'an event' ? 'Events are reported when they happen, not measured: name a measure here.' : undefined,
    );
    return undefined;
  }

  /** A stage of this session; in a session-less position every stage is unknown. */
  stage(name: Name, session: SessionSymbol | undefined): Stage | undefined {
    const st = session?.stages.get(name.text);
    if (st) return st;
    if (!session) return undefined;
    const stages = [...session.stages.keys()];
    const other = this.sy.describe(name.text, session);
    if (other && other.what.startsWith('a stage of session')) {
      this.report(
        diagnostic('KAP2002', `\`${name.text}\` is not a stage of session \`${session.name}\`; it is ${other.what}.`, name.span, {
          hint: stages.length > 0 ? `The stages of \`${session.name}\` are ${orList(stages, 'and')}.` : `Session \`${session.name}\` has no stages.`,
          related: [{ span: other.span, message: 'declared here' }],
        }),
      );
      return undefined;
    }
    this.unknown(
      name,
      `a stage of session \`${session.name}\``,
      stages,
      session,
      stages.length > 0 ? `The stages of \`${session.name}\` are ${orList(stages, 'and')}.` : `Session \`${session.name}\` has no stages.`,
    );
    return undefined;
  }

  session(name: Name): SessionSymbol | undefined {
    const s = this.sy.sessions.get(name.text);
    if (s) return s;
    const names = [...this.sy.sessions.keys()];
    this.unknown(name, 'a session', names, undefined, 'Declare it with `session <name> { … }`.');
    return undefined;
  }

  /** A drug: any name when there is no `drugs { }` block, else a declared one. */
  drug(name: Name, session: SessionSymbol | undefined): boolean {
    if (!this.sy.drugsDeclared || this.sy.drugs.has(name.text)) {
      const g = this.sy.globals.get(name.text);
      if (!g || g.kind === 'drug') return true;
    }
    const drugs = [...this.sy.drugs.keys()];
    this.unknown(
      name,
      'a drug',
      drugs,
      session,
      this.sy.drugsDeclared ? 'Declare it in `drugs { … }`.' : 'Name the drug given.',
    );
    return false;
  }

  flag(name: Name): FlagSymbol | undefined {
    const f = this.sy.flags.get(name.text);
    if (f) return f;
    const flags = [...this.sy.flags.keys()];
    this.unknown(
      name,
      'a condition flag',
      flags,
      undefined,
      `List it in \`population { caution ${name.text} }\` first.`,
    );
    return undefined;
  }
}

function declaredWhat(expected: string): string {
  // "a role" → "a declared role"; "a measure, an event or a stage" → "a declared measure, event or stage".
  if (expected.startsWith('a stage of')) return expected;
  if (expected === 'a condition flag') return 'a condition flag listed in `population`';
  return `a declared ${expected.replace(/^an? /, '').replace(/(,| or) an? /g, '$1 ')}`;
}
