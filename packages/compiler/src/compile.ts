/**
 * Checked AST → IR. Lowers a protocol the checker accepted into the versioned
 * JSON the runtime reads: names resolved, quantities in canonical units
 * (minutes; mg or mg/kg), every node with the `.kap` span it came from.
 * Never throws on user input: problems are KAP4xxx diagnostics.
 */
import {
  analyze,
  diagnostic,
  hasErrors,
  LineIndex,
  sortDiagnostics,
  toCanonical,
  unitInfo,
  type Diagnostic,
  type ParseOptions,
  type SymbolTable,
} from '@kapspec/language';
import type * as A from '@kapspec/language';
import { IR_VERSION, type IR } from '@kapspec/runtime';
import type * as I from '@kapspec/runtime';

export interface CompileOptions extends ParseOptions {
  /** The file name recorded in every source span. */
  readonly file?: string;
}

export interface CompileResult {
  /** Undefined when the protocol has errors (syntax, names, units or compile). */
  readonly ir: IR | undefined;
  readonly diagnostics: readonly Diagnostic[];
}

/** Parse, check and lower `.kap` text. */
export function compile(text: string, options: CompileOptions = {}): CompileResult {
  const analyzed = analyze(text, options);
  if (!analyzed.protocol || !analyzed.symbols || hasErrors(analyzed.diagnostics)) {
    return { ir: undefined, diagnostics: analyzed.diagnostics };
  }
  const lowered = lower(analyzed.protocol, analyzed.symbols, text, options.file);
  const diagnostics = sortDiagnostics([...analyzed.diagnostics, ...lowered.diagnostics]);
  return { ir: hasErrors(lowered.diagnostics) ? undefined : lowered.ir, diagnostics };
}

/** Lower a checked protocol. `symbols` must come from `check(protocol)`. */
export function lower(
  protocol: A.Protocol,
  symbols: SymbolTable,
  source: string,
  file?: string,
): { ir: IR; diagnostics: Diagnostic[] } {
  const l = new Lowering(symbols, new LineIndex(source), file);
  const ir = l.protocol(protocol);
  return { ir, diagnostics: l.diagnostics };
}

/**
 * A stage that can last longer than this (minutes) gets a warning (KAP4003):
 * a KAP session lasts hours, so a day or more is almost surely a unit slip
 * (`weeks` for `min`). A tool threshold, not a clinical figure.
 */
export const LONG_STAGE_MINUTES = 24 * 60;

const DOSE_UNIT: Record<string, I.DoseUnit> = { mg: 'mg', mcg: 'mg', g: 'mg', 'mg/kg': 'mg/kg', 'mcg/kg': 'mg/kg' };

class Lowering {
  readonly diagnostics: Diagnostic[] = [];
  /** Tracking unit of each drug and where it was first fixed. */
  private readonly drugUnits = new Map<string, { unit: I.DoseUnit; span: A.Span }>();
  private readonly drugOrder: string[] = [];
  private readonly drugSpans = new Map<string, A.Span>();

  constructor(
    private readonly symbols: SymbolTable,
    private readonly lines: LineIndex,
    private readonly file: string | undefined,
  ) {}

  private span(s: A.Span): I.SourceSpan {
    const { line, column } = this.lines.position(s.start);
    return { ...(this.file !== undefined ? { file: this.file } : {}), start: s.start, end: s.end, line, column };
  }

  /** KAP4003: a bound of the stage's duration beyond a day (the first such bound only). */
  private longStage(st: A.Stage, d: NonNullable<A.Stage['duration']>): void {
    for (const q of [d.exact, d.atLeast, d.atMost]) {
      if (q === undefined || this.minutes(q) <= LONG_STAGE_MINUTES) continue;
      this.diagnostics.push(
        diagnostic('KAP4003', `Stage \`${st.name.text}\` lasts \`${q.unit ? `${q.text} ${q.unit.text}` : q.text}\` (${fmt(this.minutes(q))} min), more than a day.`, q.span, {
          hint: 'A KAP session lasts hours: check the unit (`min`, `h`). The simulator does not run a session that could last more than a week.',
        }),
      );
      return;
    }
  }

  private minutes(q: A.Quantity): number {
    return q.unit ? toCanonical(q.value, q.unit.text) : q.value;
  }

  private dose(q: A.Quantity, drug: A.Name): I.Dose {
    const unit = DOSE_UNIT[q.unit?.text ?? ''] ?? 'mg';
    const value = q.unit ? toCanonical(q.value, q.unit.text) : q.value;
    this.noteDrug(drug, unit, q.span);
    return { value, unit };
  }

  private noteDrug(drug: A.Name, unit: I.DoseUnit | undefined, at: A.Span): void {
    if (!this.drugSpans.has(drug.text)) {
      this.drugSpans.set(drug.text, drug.span);
      this.drugOrder.push(drug.text);
    }
    if (unit === undefined) return;
    const known = this.drugUnits.get(drug.text);
    if (!known) {
      this.drugUnits.set(drug.text, { unit, span: at });
    } else if (known.unit !== unit) {
      this.diagnostics.push(
        diagnostic(
          'KAP4001',
          `\`${drug.text}\` is dosed in ${known.unit} here but in ${unit} elsewhere; kapspec tracks each drug's delivered dose in one unit.`,
          at,
          {
            related: [{ span: known.span, message: `\`${drug.text}\` is first dosed in ${known.unit} here` }],
            hint: `Write every dose of \`${drug.text}\` in ${known.unit}.`,
          },
        ),
      );
    }
  }

  protocol(p: A.Protocol): IR {
    const version = p.items.find((i): i is A.VersionDecl => i.kind === 'Version');
    const settingDecl = p.items.find((i): i is A.SettingDecl => i.kind === 'Setting');
    const population = p.items.find((i): i is A.PopulationBlock => i.kind === 'Population');
    const course = p.items.find((i): i is A.CourseBlock => i.kind === 'Course');

    // Declared drugs first, so their declared unit wins.
    for (const d of this.symbols.drugs.values()) {
      this.noteDrug(d.name, d.max?.unit ? DOSE_UNIT[d.max.unit.text] : undefined, d.max?.span ?? d.span);
    }
    const sessions = p.items.filter((i): i is A.Session => i.kind === 'Session').map((s) => this.session(s));

    const setting: I.Setting =
      settingDecl?.mode === 'group' && settingDecl.size
        ? { mode: 'group', min: settingDecl.size.min.value, max: settingDecl.size.max.value, span: this.span(settingDecl.span) }
        : { mode: 'individual', ...(settingDecl ? { span: this.span(settingDecl.span) } : {}) };

    return {
      kapspecIR: IR_VERSION,
      protocol: {
        title: p.title.value,
        ...(version ? { version: version.value.value } : {}),
        span: this.span(p.span),
      },
      setting,
      ...(population ? { population: this.population(population) } : {}),
      roles: [...this.symbols.roles.values()].map((r) => ({
        name: r.name.text,
        min: r.min.value,
        ...(r.max ? { max: r.max.value } : {}),
        ...(r.per ? { perParticipants: r.per.value } : {}),
        ...(r.qualified ? { qualified: r.qualified.value } : {}),
        span: this.span(r.span),
      })),
      measures: [...this.symbols.measures.values()].map((m) => ({
        name: m.name.text,
        unit: m.unit.text,
        min: m.range.min.value,
        max: m.range.max.value,
        span: this.span(m.span),
      })),
      events: [...this.symbols.events.values()].map((e) => ({ name: e.text, span: this.span(e.span) })),
      drugs: this.drugOrder.map((name) => {
        const declared = this.symbols.drugs.get(name);
        const max = declared?.max ? this.dose(declared.max, declared.name) : undefined;
        return {
          name,
          unit: this.drugUnits.get(name)?.unit ?? 'mg',
          ...(max ? { max } : {}),
          span: this.span(declared?.span ?? this.drugSpans.get(name)!),
        };
      }),
      ...(course ? { course: this.course(course) } : {}),
      sessions,
    };
  }

  private population(p: A.PopulationBlock): I.Population {
    const age = p.items.find((i): i is A.AgeItem => i.kind === 'Age');
    const flags = (kind: 'Exclude' | 'Caution'): I.FlagDecl[] =>
      p.items.flatMap((i) => (i.kind === kind ? i.flags.map((f) => ({ flag: f.text, span: this.span(f.span) })) : []));
    return {
      ...(age ? { age: { min: age.range.min.value, max: age.range.max.value, span: this.span(age.span) } } : {}),
      exclude: flags('Exclude'),
      excludeWhen: p.items.flatMap((i) =>
        i.kind === 'ExcludeWhen' ? [{ expr: this.expr(i.condition, undefined), span: this.span(i.span) }] : [],
      ),
      caution: flags('Caution'),
      span: this.span(p.span),
    };
  }

  private course(c: A.CourseBlock): I.Course {
    const steps: I.CourseStep[] = [];
    const limits: I.CourseLimit[] = [];
    for (const item of c.items) {
      if (item.kind === 'CourseStep') {
        const sp = item.spacing;
        steps.push({
          session: item.session.text,
          ...(item.repeat
            ? { repeat: { min: item.repeat.min.value, max: (item.repeat.max ?? item.repeat.min).value } }
            : {}),
          ...(sp
            ? {
                spacing: {
                  min: toCanonical(sp.min.value, sp.unit.text),
                  max: toCanonical((sp.max ?? sp.min).value, sp.unit.text),
                },
              }
            : {}),
          span: this.span(item.span),
        });
      } else {
        limits.push({ session: item.session.text, count: item.count.value, perMinutes: this.minutes(item.per), span: this.span(item.span) });
      }
    }
    return { steps, limits, span: this.span(c.span) };
  }

  private session(s: A.Session): I.Session {
    const stages: I.Stage[] = [];
    const rules: I.Rule[] = [];
    const staffing: I.StaffLine[] = [];
    const asserts: I.Assert[] = [];
    let discharge: I.Session['discharge'];
    for (const item of s.items) {
      switch (item.kind) {
        case 'Stage':
          stages.push(this.stage(item, s));
          break;
        case 'Rule':
          rules.push({
            id: item.name.text,
            when: this.expr(item.when, s),
            actions: item.actions.map((a) => this.action(a)),
            ...(item.resume ? { resume: this.expr(item.resume, s) } : {}),
            span: this.span(item.span),
          });
          break;
        case 'Staffing':
          for (const line of item.lines) {
            staffing.push({
              role: line.role.text,
              op: line.op,
              count: line.count.value,
              ...(line.per ? { perParticipants: line.per.value } : {}),
              during: line.during.map((d) => d.text),
              span: this.span(line.span),
            });
          }
          break;
        case 'Discharge':
          discharge = { expr: this.expr(item.condition, s), span: this.span(item.span) };
          break;
        case 'Assert':
          asserts.push({ name: item.name.text, property: this.property(item.property, s), span: this.span(item.span) });
          break;
      }
    }
    return { name: s.name.text, stages, ...(discharge ? { discharge } : {}), rules, staffing, asserts, span: this.span(s.span) };
  }

  private stage(st: A.Stage, s: A.Session): I.Stage {
    const d = st.duration;
    const duration: I.StageDuration = d
      ? {
          ...(d.exact ? { exact: this.minutes(d.exact) } : {}),
          ...(d.atLeast ? { atLeast: this.minutes(d.atLeast) } : {}),
          ...(d.atMost ? { atMost: this.minutes(d.atMost) } : {}),
          span: this.span(d.span),
        }
      : {};
    const longest = duration.exact ?? duration.atMost;
    if (d) this.longStage(st, d);
    const monitors: I.Monitor[] = [];
    const administer: I.Administer[] = [];
    const gates: I.Gate[] = [];
    for (const item of st.items) {
      if (item.kind === 'Monitor') {
        const sc = item.schedule;
        const schedule: I.Schedule =
          sc.kind === 'every'
            ? { kind: 'every', minutes: this.minutes(sc.interval) }
            : sc.kind === 'at'
              ? { kind: 'at', minutes: this.minutes(sc.offset) }
              : { kind: sc.kind };
        if (longest !== undefined && schedule.kind === 'at' && schedule.minutes > longest) {
          this.diagnostics.push(
            diagnostic(
              'KAP4002',
              `\`${item.measures.map((m) => m.text).join(', ')}\` at ${fmt(schedule.minutes)} min is never measured: stage \`${st.name.text}\` lasts at most ${fmt(longest)} min.`,
              sc.span,
              { hint: `Measure at ${fmt(longest)} min or earlier, or \`at start\` of the next stage.` },
            ),
          );
        }
        monitors.push({ measures: item.measures.map((m) => m.text), schedule, span: this.span(item.span) });
      } else if (item.kind === 'Administer') {
        administer.push({
          drug: item.drug.text,
          dose: this.dose(item.dose, item.drug),
          route: item.route,
          delivery: item.delivery.kind === 'over' ? { kind: 'over', minutes: this.minutes(item.delivery.duration) } : { kind: 'once' },
          span: this.span(item.span),
        });
      } else {
        gates.push({
          expr: this.expr(item.condition, s),
          otherwise: this.action(item.otherwise) as I.DeferAction | I.EndSessionAction,
          span: this.span(item.span),
        });
      }
    }
    return { name: st.name.text, duration, monitors, administer, gates, span: this.span(st.span) };
  }

  private action(a: A.Action): I.Action {
    const span = this.span(a.span);
    switch (a.kind) {
      case 'Pause':
        return { kind: 'pause', stage: a.stage.text, span };
      case 'Stop':
        return { kind: 'stop', stage: a.stage.text, span };
      case 'EndSession':
        return { kind: 'endSession', reason: a.reason.value, span };
      case 'Defer':
        return { kind: 'defer', reason: a.reason.value, span };
      case 'Escalate':
        return { kind: 'escalate', level: a.level.text, span };
      case 'Notify':
        return { kind: 'notify', role: a.role.text, span };
      case 'Attend':
        return {
          kind: 'attend',
          role: a.role.text,
          ...(a.within ? { within: this.minutes(a.within) } : {}),
          ...(a.duration ? { minutes: this.minutes(a.duration) } : {}),
          span,
        };
      case 'Give':
        return { kind: 'give', drug: a.drug.text, dose: this.dose(a.dose, a.drug), ...(a.route ? { route: a.route } : {}), span };
      case 'Reduce':
        return { kind: 'reduce', drug: a.drug.text, to: this.dose(a.to, a.drug), span };
    }
  }

  private property(p: A.Property, s: A.Session): I.Property {
    switch (p.kind) {
      case 'Always':
        return { kind: 'always', expr: this.expr(p.expr, s) };
      case 'Never':
        return { kind: 'never', expr: this.expr(p.expr, s) };
      case 'Eventually':
        return { kind: 'eventually', expr: this.expr(p.expr, s), within: this.minutes(p.within) };
      case 'LeadsTo':
        return { kind: 'leadsTo', cause: this.expr(p.cause, s), effect: this.expr(p.effect, s), within: this.minutes(p.within) };
    }
  }

  /** Lowers a checked expression. `session` scopes stage names (undefined in `population`). */
  private expr(e: A.Expr, session: A.Session | undefined): I.Expr {
    const span = this.span(e.span);
    switch (e.kind) {
      case 'Quantity': {
        const info = e.unit ? unitInfo(e.unit.text) : undefined;
        if (!e.unit || !info) return { kind: 'number', value: e.value, span };
        const unit = DOSE_UNIT[e.unit.text] ?? canonicalUnit(info.dimension);
        return { kind: 'number', value: toCanonical(e.value, e.unit.text), unit, span };
      }
      case 'Ref': {
        const kind = this.symbols.refKind(e);
        switch (kind) {
          case 'measure':
            return { kind: 'measure', name: e.name.text, span };
          case 'event':
            return { kind: 'event', name: e.name.text, span };
          case 'stage':
            return { kind: 'inStage', stage: e.name.text, span };
          case 'outcome':
            return { kind: 'outcome', name: e.name.text as I.Outcome, span };
          case 'role':
            return { kind: 'role', name: e.name.text, span };
          case 'drug':
            this.noteDrug(e.name, undefined, e.span);
            return { kind: 'drug', name: e.name.text, span };
          default:
            // The checker reported it; a checked protocol has no such name.
            throw new Error(`internal: unresolved name \`${e.name.text}\` in a checked protocol`);
        }
      }
      case 'Paused':
        return { kind: 'paused', stage: e.stage.text, span };
      case 'Observed':
        return { kind: 'observed', measure: e.measure.text, span };
      case 'Baseline':
        return { kind: 'baseline', measure: e.measure.text, span };
      case 'Caution':
        return { kind: 'caution', flag: e.flag.text, span };
      case 'InStage':
        return { kind: 'inStage', stage: e.stage.text, span };
      case 'Elapsed':
        return { kind: 'elapsed', span };
      case 'Call':
        return { kind: 'call', fn: e.callee.text as I.CallFn, args: e.args.map((a) => this.expr(a, session)), span };
      case 'Not':
        return { kind: 'not', operand: this.expr(e.operand, session), span };
      case 'Neg':
        return { kind: 'neg', operand: this.expr(e.operand, session), span };
      case 'Binary':
        return { kind: 'binary', op: e.op, left: this.expr(e.left, session), right: this.expr(e.right, session), span };
      case 'Group':
        return this.expr(e.expr, session);
      case 'For':
        return { kind: 'for', expr: this.expr(e.expr, session), minutes: this.minutes(e.duration), span };
      case 'During':
        return { kind: 'during', expr: this.expr(e.expr, session), stages: e.stages.map((s) => s.text), span };
      case 'Missing':
        throw new Error('internal: a Missing node in a checked protocol');
    }
  }
}

function canonicalUnit(dimension: string): string {
  const table: Record<string, string> = { time: 'min', pressure: 'mmHg', rate: 'bpm', percent: '%', score: 'score' };
  return table[dimension] ?? dimension;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0+$/, '');
}
