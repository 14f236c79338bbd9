/**
 * The semantic checker: names, units, types, ranges and protocol structure.
 * It runs on any tree the parser returns, including one rebuilt after syntax
 * errors, and never throws. Two passes: collect every declaration (so order
 * of declaration never matters), then check every use.
 */
import type { Name, NumberLit, Protocol, ProtocolItem, Quantity, RangeLit, Rule, Stage } from './ast.js';
import { diagnostic, type Diagnostic } from './diagnostics.js';
import { ExprChecker, type ExprContext } from './check-expr.js';
import {
  collectSymbols,
  Resolver,
  type MutableSessionSymbol,
  type Report,
  type Symbols,
  type SymbolTable,
} from './check-symbols.js';
import { showQuantity } from './check-text.js';
import { DIMENSION_NAMES, MEASURE_DIMENSIONS, toCanonical, unitInfo } from './units.js';

export type {
  ExprType,
  FlagSymbol,
  RefKind,
  SessionSymbol,
  SettingSymbol,
  SymbolTable,
} from './check-symbols.js';

export interface CheckOptions {
  /**
   * The tree comes from a file with syntax errors, so parts of it may be
   * missing: skip the checks that report something as absent (no session, an
   * event with no rule, a measure never monitored, an unreachable stage).
   */
  readonly partial?: boolean;
}

export interface CheckResult {
  readonly diagnostics: Diagnostic[];
  readonly symbols: SymbolTable;
}

export function check(protocol: Protocol, options: CheckOptions = {}): CheckResult {
  const diagnostics: Diagnostic[] = [];
  const report: Report = (d) => diagnostics.push(d);
  const sy = collectSymbols(protocol, report);
  new Checker(sy, report, options.partial === true).protocol(protocol);
  return { diagnostics, symbols: sy };
}

class Checker {
  private readonly names: Resolver;
  private readonly ex: ExprChecker;
  /** Events mentioned by some rule's `when`. */
  private readonly handled = new Set<string>();

  constructor(
    private readonly sy: Symbols,
    private readonly report: Report,
    private readonly partial: boolean,
  ) {
    this.names = new Resolver(sy, report);
    this.ex = new ExprChecker(this.names);
  }

  protocol(p: Protocol): void {
    let sessionIndex = 0;
    for (const item of p.items) {
      if (item.kind === 'Session') {
        const s = this.sy.sessionList[sessionIndex++];
        if (s) this.session(s);
      } else this.header(item);
    }
    if (this.partial) return;
    if (sessionIndex === 0) {
      this.report(
        diagnostic('KAP3015', 'This protocol has no session.', p.title.span, {
          hint: 'Add one, e.g. `session dosing { stage infusion duration 40 min { … } }`.',
        }),
      );
    }
    const role = this.sy.roles.keys().next().value ?? 'therapist';
    for (const [name, decl] of this.sy.events) {
      if (this.handled.has(name)) continue;
      this.report(
        diagnostic('KAP3007', `The event \`${name}\` has no rule, so nothing happens when it is reported.`, decl.span, {
          hint: `Add a rule that handles it, e.g. \`rule ${name} { when ${name} then notify ${role} }\`.`,
        }),
      );
    }
  }

  // ── protocol sections ─────────────────────────────────────────────────

  private header(item: Exclude<ProtocolItem, { kind: 'Session' }>): void {
    switch (item.kind) {
      case 'Version':
        return;
      case 'Setting':
        if (item.size) {
          this.range(item.size, 'group size');
          if (item.size.min.value <= 0) {
            this.report(
              diagnostic('KAP3013', 'A group needs at least one participant.', item.size.min.span, {
                hint: 'Write the smallest group size, e.g. `setting group 4..12`.',
              }),
            );
          }
        }
        return;
      case 'Population':
        for (const p of item.items) {
          if (p.kind === 'Age') this.range(p.range, 'age');
          else if (p.kind === 'ExcludeWhen') this.ex.condition(p.condition, { where: 'population', session: undefined });
        }
        return;
      case 'Roles':
        for (const r of item.roles) {
          if (r.max) this.range({ min: r.min, max: r.max, span: { start: r.min.span.start, end: r.max.span.end } }, `\`${r.name.text}\``);
          if (r.per) this.perParticipants(r.per);
        }
        return;
      case 'Measures':
        for (const m of item.measures) {
          const dim = unitInfo(m.unit.text)?.dimension;
          if (dim && !MEASURE_DIMENSIONS.has(dim)) {
            this.report(
              diagnostic('KAP3002', `The measure \`${m.name.text}\` has the unit \`${m.unit.text}\`, which is ${DIMENSION_NAMES[dim]}.`, m.unit.span, {
                hint: 'A measure is a pressure (`mmHg`), a rate (`bpm`, `/min`), a percentage (`%`) or a `score`.',
              }),
            );
          }
          this.range(m.range, `\`${m.name.text}\``);
        }
        return;
      case 'Events':
        return;
      case 'Drugs':
        for (const d of item.drugs) if (d.max) this.ex.dose(d.max, `as the maximum of \`${d.name.text}\``);
        return;
      case 'Course':
        for (const c of item.items) {
          this.names.session(c.session);
          if (c.kind === 'CourseStep') {
            if (c.repeat) {
              const { min, max } = c.repeat;
              if (max) this.range({ min, max, span: c.repeat.span }, 'repeat');
              if ((max ?? min).value <= 0) {
                this.report(
                  diagnostic('KAP3013', `\`repeat ${max ? `${min.text}..${max.text}` : min.text}\` never runs the session.`, c.repeat.span, {
                    hint: 'Repeat a session at least once, or remove the line.',
                  }),
                );
              }
            }
            if (c.spacing) {
              const { min, max, unit } = c.spacing;
              const dim = unitInfo(unit.text)?.dimension;
              if (dim && dim !== 'time') {
                this.report(
                  diagnostic('KAP3002', `\`spacing\` needs a time, but \`${unit.text}\` is a unit of ${DIMENSION_NAMES[dim].replace(/^an? /, '')}.`, unit.span, {
                    hint: 'Write the time between sessions, e.g. `spacing 2..4 days`.',
                  }),
                );
              }
              if (max) this.range({ min, max, span: c.spacing.span }, 'spacing');
              if ((max ?? min).value <= 0) {
                this.report(
                  diagnostic('KAP3013', `\`spacing ${showSpacing(c.spacing)}\` leaves no time between sessions.`, c.spacing.span, {
                    hint: 'Write the time between sessions, e.g. `spacing 2..4 days`.',
                  }),
                );
              }
            }
          } else {
            if (c.count.value <= 0) {
              this.report(
                diagnostic('KAP3013', `\`limit ${c.session.text} ${c.count.text}\` allows no session at all.`, c.count.span, {
                  hint: 'Allow at least one session per period, or remove the session from the course.',
                }),
              );
            }
            this.ex.time(c.per, 'per');
          }
        }
        return;
    }
  }

  /** `per <n> participants`: positive, and only meaningful in a group. */
  private perParticipants(n: NumberLit): void {
    if (n.value <= 0) {
      this.report(
        diagnostic('KAP3013', `\`per ${n.text} participants\` divides by zero.`, n.span, {
          hint: 'Write how many participants one person covers, e.g. `per 4 participants`.',
        }),
      );
    } else if (this.sy.setting.mode === 'individual') {
      this.report(
        diagnostic('KAP3014', `\`per ${n.text} participants\` has no effect in an individual protocol.`, n.span, {
          hint: 'Remove it, or make the protocol a group one with `setting group <min>..<max>`.',
        }),
      );
    }
  }

  private range(r: RangeLit, what: string): void {
    if (r.min.value <= r.max.value) return;
    this.report(
      diagnostic('KAP3005', `The ${what} range \`${r.min.text}..${r.max.text}\` is empty: its lower bound is above its upper bound.`, r.span, {
        hint: `Write the smaller number first: \`${r.max.text}..${r.min.text}\`.`,
      }),
    );
  }

  // ── sessions ──────────────────────────────────────────────────────────

  private session(s: MutableSessionSymbol): void {
    const reads = new Map<string, Name>();
    const ctx = (where: ExprContext['where']): ExprContext => ({ where, session: s, reads, events: this.handled });
    const stopped = new Set<string>();
    for (const item of s.decl.items) {
      switch (item.kind) {
        case 'Staffing':
          for (const line of item.lines) {
            this.names.role(line.role, s);
            if (line.per) this.perParticipants(line.per);
            for (const st of line.during) this.names.stage(st, s);
          }
          break;
        case 'Stage':
          this.stage(item, s, ctx);
          break;
        case 'Discharge':
          this.ex.condition(item.condition, ctx('discharge'));
          break;
        case 'Rule':
          this.rule(item, s, ctx, stopped);
          break;
        case 'Assert': {
          const c: ExprContext = { where: 'assert', session: s };
          const p = item.property;
          if (p.kind === 'LeadsTo') {
            this.ex.condition(p.cause, c);
            this.ex.condition(p.effect, c);
          } else this.ex.condition(p.expr, c);
          if (p.kind === 'LeadsTo' || p.kind === 'Eventually') this.ex.time(p.within, 'within');
          if (!c.observes) {
            this.report(
              diagnostic('KAP3010', `The assert \`${item.name.text}\` mentions nothing a session can show, so the protocol cannot affect whether it holds.`, item.name.span, {
                hint: 'Mention a measure, an event, a stage, an outcome, `present(role)`, `free(role)`, `dose(drug)` or `elapsed`.',
              }),
            );
          }
          break;
        }
      }
    }
    if (this.partial) return;
    if (s.stageOrder.length === 0) {
      this.report(
        diagnostic('KAP3015', `Session \`${s.name}\` has no stage.`, s.decl.name.span, {
          hint: 'Add at least one, e.g. `stage talk duration 60 min { … }`.',
        }),
      );
    }
    for (const [name, at] of reads) {
      if (s.monitored.has(name)) continue;
      this.report(
        diagnostic('KAP3008', `\`${name}\` is read here, but session \`${s.name}\` never measures it.`, at.span, {
          hint: `Add \`monitor ${name} every …\` or \`measure ${name} at start\` to a stage of \`${s.name}\`.`,
        }),
      );
    }
    this.unreachable(s, stopped);
  }

  private stage(st: Stage, s: MutableSessionSymbol, ctx: (w: ExprContext['where']) => ExprContext): void {
    const d = st.duration;
    if (d) {
      if (d.exact) this.ex.time(d.exact, 'duration');
      const okLeast = d.atLeast ? this.ex.time(d.atLeast, 'duration at least') : true;
      const okMost = d.atMost ? this.ex.time(d.atMost, 'duration at most') : true;
      if (d.atLeast && d.atMost && okLeast && okMost && minutes(d.atLeast) > minutes(d.atMost)) {
        this.report(
          diagnostic(
            'KAP3005',
            `Stage \`${st.name.text}\` lasts at least ${showQuantity(d.atLeast)} but at most ${showQuantity(d.atMost)}; no duration fits both.`,
            { start: d.atLeast.span.start, end: d.atMost.span.end },
            { hint: 'Make the lower bound smaller than the upper bound.' },
          ),
        );
      }
    }
    for (const item of st.items) {
      switch (item.kind) {
        case 'Monitor':
          for (const m of item.measures) this.names.measure(m, s);
          if (item.schedule.kind === 'every') this.ex.time(item.schedule.interval, 'every');
          else if (item.schedule.kind === 'at') this.ex.time(item.schedule.offset, 'at', true);
          break;
        case 'Administer':
          this.names.drug(item.drug, s);
          this.ex.dose(item.dose, `of \`${item.drug.text}\``);
          if (item.delivery.kind === 'over') this.ex.time(item.delivery.duration, 'over');
          break;
        case 'Gate':
          this.ex.condition(item.condition, ctx('gate'));
          break;
      }
    }
  }

  private rule(r: Rule, s: MutableSessionSymbol, ctx: (w: ExprContext['where']) => ExprContext, stopped: Set<string>): void {
    this.ex.condition(r.when, ctx('when'));
    for (const a of r.actions) {
      switch (a.kind) {
        case 'Pause':
          this.names.stage(a.stage, s);
          break;
        case 'Stop':
          if (this.names.stage(a.stage, s)) stopped.add(a.stage.text);
          break;
        case 'Notify':
          this.names.role(a.role, s);
          break;
        case 'Attend':
          this.names.role(a.role, s);
          if (a.within) this.ex.time(a.within, 'within', true);
          if (a.duration) this.ex.time(a.duration, 'for');
          break;
        case 'Give':
          this.names.drug(a.drug, s);
          this.ex.dose(a.dose, `of \`${a.drug.text}\``);
          break;
        case 'Reduce':
          this.names.drug(a.drug, s);
          this.ex.dose(a.to, `for \`${a.drug.text}\``, true);
          break;
        case 'EndSession':
        case 'Defer':
        case 'Escalate':
          break;
      }
    }
    if (r.resume) this.ex.condition(r.resume, ctx('resume'));
  }

  /**
   * Stages run in order, and only the last one closes by `discharge when`.
   * A stage before the last with no upper bound on its duration, that no rule
   * stops, never ends: every stage after it is unreachable.
   */
  private unreachable(s: MutableSessionSymbol, stopped: Set<string>): void {
    const stages = s.stageOrder;
    for (let i = 0; i < stages.length - 1; i++) {
      const st = stages[i] as Stage;
      const d = st.duration;
      if (d?.exact || d?.atMost || stopped.has(st.name.text)) continue;
      const why = d?.atLeast ? ` (\`duration at least ${showQuantity(d.atLeast)}\` sets no upper bound)` : ' (it has no `duration`)';
      for (const later of stages.slice(i + 1)) {
        this.report(
          diagnostic(
            'KAP3009',
            `Stage \`${later.name.text}\` can never start, because stage \`${st.name.text}\` before it never ends${why}.`,
            later.name.span,
            {
              hint: `Give \`${st.name.text}\` an end, e.g. \`duration 40 min\` or \`duration at most 90 min\`, or a rule that stops it; only the last stage closes by \`discharge when\`.`,
              related: [{ span: st.name.span, message: 'this stage never ends' }],
            },
          ),
        );
      }
      return;
    }
  }
}

function minutes(q: Quantity): number {
  return toCanonical(q.value, q.unit?.text ?? 'min');
}

function showSpacing(sp: { min: { text: string }; max?: { text: string }; unit: { text: string } }): string {
  return `${sp.min.text}${sp.max ? `..${sp.max.text}` : ''} ${sp.unit.text}`;
}
