/**
 * `kapspec stats <file> --sessions N [--seed N] [--session ID] [--workers K]
 * [--profile yale|cohort741] [--format text|json|csv]`: Monte Carlo
 * statistics over N sessions of the calibrated model (`runStats`,
 * @kapspec/simulator). The report goes to stdout; progress to stderr, only on
 * a terminal; diagnostics and errors to stderr.
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { StatsExample, StatsFigure, StatsReport } from '@kapspec/simulator';
import { EXIT_OK, EXIT_USAGE, type CommandContext } from '../context.js';
import type { Io } from '../io.js';
import { parseNonNegative, parsePositive, parsePositiveNumber, parseSeed, staffOption } from '../protocol.js';

export interface StatsCommandOptions {
  readonly sessions: number;
  readonly seed: number;
  readonly session?: string;
  /** A positive integer, or `auto`. */
  readonly workers: number | 'auto';
  readonly profile: 'yale' | 'cohort741';
  readonly format: 'text' | 'json' | 'csv';
  /** `--course`: each of `sessions` participants goes through the course. */
  readonly course?: boolean;
  /** Staff called away (times per person per hour) and their mean absence (minutes). */
  readonly staffLeaveRate?: number;
  readonly staffAbsence?: number;
  /** `--no-tui` sets this to false. */
  readonly tui?: boolean;
}

/** The seed when `--seed` is not given (as `simulate`). */
export const DEFAULT_STATS_SEED = 1;
/** `--workers auto` uses at most this many threads. */
export const MAX_AUTO_WORKERS = 8;
/**
 * `--workers auto` starts k workers only for k times this many
 * participant-sessions (`statsUnitSize`) or more. Every worker compiles the
 * simulator afresh, and on two cores the workers' start-up costs more than
 * the second core gains on a short run; the faster a session, the longer
 * the run that start-up outweighs. Measured here (2 cores,
 * examples/individual-iv.kap, docs/simulator.md), one process per run: one
 * thread was faster up to about 24,000 sessions (16,384: 3,486 against
 * 2,922 a second; 24,576: 3,681 against 3,696), two workers from there on
 * (32,768: 3,802 against 4,146; 49,152: 3,734 against 4,270).
 */
export const AUTO_WORK_PER_WORKER = 12_288;

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  try {
    return parsePositive(value);
  } catch {
    throw new InvalidArgumentError('expected a whole number of at least 1, or auto');
  }
}

const HELP = `
Examples:
  $ kapspec stats examples/individual-iv.kap --sessions 1000
  $ kapspec stats examples/intranasal-esketamine.kap --sessions 500 --format csv > stats.csv
  $ kapspec stats examples/individual-iv.kap --sessions 10000 --workers 2 --format json
  $ kapspec stats examples/intranasal-esketamine.kap --sessions 500 --course
  $ kapspec stats examples/individual-iv.kap --sessions 1000 --staff-leave-rate 0.5

Simulates --sessions independent sessions with the calibrated participant
model (published figures, ../shared/design/CALIBRATION.md) through the
protocol's own state machine and reports, with 95 % confidence intervals
(Wilson for proportions, normal for means):
  outcomes     share of participants discharged / deferred / ended /
               escalated / none (no outcome by the simulation horizon); they
               sum to 1 (with --course: share of sessions)
  rules        per rule: share of sessions in which it fired, fires per session
  pause        share of sessions paused; minutes paused per session (mean, SD,
               median, 90th and 99th percentile from 1-minute bins, max)
  staff        per role: mean share of present person-time spent attending a
               participant; sessions with a staffing violation
  session      session length in minutes
  calibration  every CALIBRATION.md figure the route allows, computed from the
               simulated sessions, next to the published figure; figures that
               do not measure the same thing are marked, figures that cannot
               be computed from single sessions are listed with the reason

--course follows each of --sessions participants through the protocol's
course: the session as many times as the course repeats it (its upper
bound, e.g. "dosing repeat 8" gives 8), with the model's course effects
(adverse events rarer in later sessions, a session after a severe
hypertensive episode managed). Every figure above then counts sessions
(outcomes are shares of sessions, not of participants), and because a
participant's sessions are not independent their intervals are narrower
than the run supports. Added: figures per participant over the course,
with intervals over the participants (dosed in at least one session,
discharged in every session, at least one session of each outcome, each
rule fired at least once, at least one pause, at least one staffing
violation), and the per-patient calibration figures (IV4 patients with a
severe episode and episodes in the first 3 sessions, IV10 session 6
against session 1, ES1-ES13 per patient). Individual protocols with a
course only.

Staff are never called away unless --staff-leave-rate is given (no source
gives a rate): with it, each person on duty leaves n times an hour on
average and comes back after --staff-absence minutes on average (both
exponential), so the staff and staffing-violation figures show what
absences do to the protocol. \`kapspec simulate\` takes the same options.

Session i uses seed S_i derived from --seed and i alone; \`kapspec simulate
--seed S_i\` shows that session on its own. The text output ends with the
first session to reach each outcome, fire each rule and break a staffing
line (by role), each with that command (not with --course: a session of a
course depends on the ones before it).

The results are the same, bit for bit, for any --workers (default auto: one
thread per core, at most ${MAX_AUTO_WORKERS}, and one worker per ${AUTO_WORK_PER_WORKER} participant-sessions at
most: a short run is faster in one thread than in workers that each start
afresh). Memory does not grow with --sessions: each session is folded into
running totals and dropped.

--format json prints one object (version field "kapspecStats": 2):
  {"kapspecStats":2, "protocol", "session", "seed", "sessions",
   "participantsPerSession", "participants", "participantSessions",
   "model":"calibrated", "profile",
   "outcomes":[{"outcome","count","rate","ci":[lo,hi]}],
   "rules":[{"rule","sessions","rate","ci","fires","meanFires","meanFiresCi"}],
   "pause":{"sessions","rate","ci","meanMinutes","meanMinutesCi","sdMinutes",
            "maxMinutes","p50Minutes","p90Minutes","p99Minutes",
            "meanMinutesWhenPaused"},
   "staff":{"violationSessions","violationRate","violationCi",
            "roles":[{"role","meanShare","ci","violationSessions",
                      "violationRate","violationCi"}]},
   "sessionLength":{"meanMinutes","ci","sdMinutes","minMinutes","maxMinutes"},
   "calibration":{"route","dosed","withReadings",
     "rows":[{"id","figure","value","ci","n","unit","published",
              "publishedValue","comparable","note"}],
     "notComputed":[{"id","figure","reason"}]},
   "course":{"participants","sessionsPerParticipant",      (--course only)
     "perParticipant":{"dosed","allDischarged","paused","staffingViolation",
                       each {"participants","rate","ci"},
       "outcomes":[{"outcome","participants","rate","ci"}],
       "rules":[{"rule","participants","rate","ci"}]}},
   "staffAbsences":{"leaveRatePerHour","absenceMeanMinutes"},
                                          (--staff-leave-rate/--staff-absence only)
   "examples":{"outcomes":[{"of","session","seed"}],"rules":[...],
               "staffing":[...]}}
                                          (not with --course)
"participants" counts distinct people (with --course, --sessions of them);
"participantSessions" counts a participant once per session and is what
"outcomes" are shares of (with --course, every session of every course).
Version 1 gave participant-sessions as "participants" and had neither
"participantSessions" nor "perParticipant".
Rates are fractions (0..1); times are minutes; null marks a value no session
contributed to. --format csv prints one row per figure with the header
section,name,value,ci_low,ci_high,published,unit (published: the published
figure as a number in the row's unit, empty when there is none; section
"participants", with --course only, holds the per-participant figures).

Progress is shown on stderr when it is a terminal.

Exit codes: 0 done, 2 the protocol has errors, or usage or I/O error (a
missing file, an unknown session, --sessions not a positive integer).`;

export function statsCommand(context: CommandContext): Command {
  return new Command('stats')
    .description('Monte Carlo outcome statistics over many simulated sessions, with confidence intervals')
    .argument('<file>', 'the .kap file')
    .addOption(new Option('--sessions <n>', 'sessions to simulate (a positive integer)').argParser(parsePositive).makeOptionMandatory())
    .addOption(new Option('--seed <n>', 'random seed, an integer 0..4294967295').argParser(parseSeed).default(DEFAULT_STATS_SEED))
    .option('--session <id>', 'the session to simulate (default: the dosing session)')
    .addOption(new Option('--workers <k>', 'worker threads (a positive integer, or auto); results do not depend on it').argParser(parseWorkers).default('auto'))
    .addOption(new Option('--profile <profile>', 'IV response profile of the calibrated model').choices(['yale', 'cohort741']).default('yale'))
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'csv']).default('text'))
    .option('--course', 'follow each of --sessions participants through the course (all its repeats of the session)')
    .addOption(new Option('--staff-leave-rate <n>', 'each person on duty is called away n times an hour on average (default 0: never)').argParser(parseNonNegative))
    .addOption(new Option('--staff-absence <min>', 'mean minutes a person called away stays away (default 10)').argParser(parsePositiveNumber))
    .option('--no-tui', 'plain progress and table even on a terminal')
    .addHelpText('after', HELP)
    .action(async (file: string, options: StatsCommandOptions) => {
      context.exit(await runStatsCommand(context, file, options));
    });
}

/**
 * `auto`: one thread per core (at most MAX_AUTO_WORKERS), as many as the run
 * has `AUTO_WORK_PER_WORKER` participant-sessions for, and at least one
 * (this thread). `unitSize`: participant-sessions per unit of `sessions`
 * (`statsUnitSize`).
 */
export function resolveWorkers(workers: number | 'auto', sessions: number, unitSize: number, cores = availableParallelism()): number {
  if (workers !== 'auto') return workers;
  return Math.max(1, Math.min(cores, MAX_AUTO_WORKERS, Math.floor((sessions * unitSize) / AUTO_WORK_PER_WORKER)));
}

/** Line-based progress on a terminal: one line rewritten in place at most 10 times a second. */
function progressBar(io: Io, unit: string): { update(done: number, total: number): void; end(): void } {
  if (!io.stderr.isTTY) return { update: () => undefined, end: () => undefined };
  let last = 0;
  let shown = false;
  const started = Date.now();
  return {
    update(done, total) {
      const now = Date.now();
      if (done < total && now - last < 100) return;
      last = now;
      const width = 30;
      const filled = Math.round((width * done) / total);
      const rate = done / Math.max(0.001, (now - started) / 1000);
      io.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit}, ${rate.toFixed(1)}/s `);
      shown = true;
    },
    end() {
      if (shown) io.stderr.write('\n');
    },
  };
}

export async function runStatsCommand(context: CommandContext, file: string, options: StatsCommandOptions): Promise<number> {
  const { io } = context;
  const { loadProtocol, chooseSession } = await import('../protocol.js');
  const p = await loadProtocol(io, 'stats', file);
  if (typeof p === 'number') return p;
  const session = chooseSession(io, 'stats', p, options.session);
  if (typeof session === 'number') return session;

  const sim = await import('@kapspec/simulator');
  const workers = resolveWorkers(options.workers, options.sessions, sim.statsUnitSize(p.ir, { session: session.name, ...(options.course === true ? { course: true } : {}) }));
  const staff = staffOption(options);
  const text = options.format === 'text';
  // On a terminal (text output): the ink progress bar, then the table; elsewhere a plain progress line on stderr.
  // Course statistics count participants (a whole course each), the others sessions.
  const unit = options.course === true ? 'participants' : 'sessions';
  const ui = io.terminal && options.tui !== false && text
    ? (await import('../tui/index.js')).showStats({ ...io.terminal, title: `kapspec stats ${file}`, total: options.sessions, unit })
    : undefined;
  const progress = ui ? { update: (done: number) => ui.progress(done), end: () => undefined } : progressBar(io, unit);
  let report: StatsReport;
  try {
    report = await sim.runStats(p.ir, {
      session: session.name,
      sessions: options.sessions,
      seed: options.seed,
      workers,
      profile: options.profile,
      ...(options.course === true ? { course: true } : {}),
      ...(staff !== undefined ? { staff } : {}),
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (error) {
    progress.end();
    if (error instanceof sim.StatsError || error instanceof sim.CalibratedModelError || error instanceof sim.SimulationError) {
      io.stderr.write(`kapspec stats: cannot simulate ${file}: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  progress.end();
  const figures = sim.statsFigures(report);
  const replay = (seed: number) => simulateCommandLine(file, options, seed, sim.shellQuote);
  if (ui) {
    const { header, rows } = statsTable(figures);
    // The sections of the text output, as titles between the rows.
    const sectioned = figures.flatMap((f, i) => (i === 0 || figures[i - 1]!.section !== f.section ? [{ title: sectionTitle(f.section, report) }, rows[i]!] : [rows[i]!]));
    await ui.finish({ header, rows: sectioned, note: statsSummary(report), done: options.sessions });
    // The view leaves the cursor at the end of its last line: the notes start on a line of their own.
    // Notes wrapped at words to the terminal's width (the example commands are kept whole: they are copied).
    const { wrapNotes } = await import('../tui/index.js');
    io.stdout.write(`\n${wrapNotes(statsNotes(report), ui.columns)}${statsExamples(report, replay)}`);
    return EXIT_OK;
  }
  if (options.format === 'json') io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (options.format === 'csv') io.stdout.write(renderStatsCsv(figures));
  else io.stdout.write(`${renderStatsText(report, figures)}${statsExamples(report, replay)}`);
  return EXIT_OK;
}

/** The `kapspec simulate` command that shows one session of a `stats` run: its seed and the run's model options. */
export function simulateCommandLine(
  file: string,
  options: Pick<StatsCommandOptions, 'session' | 'profile' | 'staffLeaveRate' | 'staffAbsence'>,
  seed: number,
  quote: (arg: string) => string,
): string {
  const args = ['kapspec', 'simulate', quote(file)];
  if (options.session !== undefined) args.push('--session', quote(options.session));
  if (options.profile !== 'yale') args.push('--profile', options.profile);
  if (options.staffLeaveRate !== undefined) args.push('--staff-leave-rate', String(options.staffLeaveRate));
  if (options.staffAbsence !== undefined) args.push('--staff-absence', String(options.staffAbsence));
  args.push('--seed', String(seed));
  return args.join(' ');
}

/**
 * After the notes: the first session of the run to reach each outcome, to
 * fire each rule and to have a staffing violation about each role, by
 * session, each with the command that shows it alone on a line of its own
 * (a narrow terminal wraps it whole). Empty in course mode (a course's
 * session depends on the ones before it).
 */
export function statsExamples(report: StatsReport, command: (seed: number) => string): string {
  const ex = report.examples;
  if (ex === undefined) return '';
  const bySession = new Map<number, { seed: number; outcomes: string[]; rules: string[]; staffing: string[] }>();
  const entry = (e: StatsExample) => {
    let x = bySession.get(e.session);
    if (x === undefined) bySession.set(e.session, (x = { seed: e.seed, outcomes: [], rules: [], staffing: [] }));
    return x;
  };
  for (const e of ex.outcomes) entry(e).outcomes.push(e.of);
  for (const e of ex.rules) entry(e).rules.push(e.of);
  for (const e of ex.staffing) entry(e).staffing.push(e.of);
  if (bySession.size === 0) return '';
  const out = ['Example sessions, the first of each outcome, rule and staffing violation:'];
  for (const [session, x] of [...bySession].sort((a, b) => a[0] - b[0])) {
    const what = [
      ...x.outcomes,
      ...(x.rules.length > 0 ? [`${x.rules.length === 1 ? 'rule' : 'rules'} ${x.rules.join(', ')}`] : []),
      ...(x.staffing.length > 0 ? [`staffing violation (${x.staffing.join(', ')})`] : []),
    ];
    out.push(`  session ${session}: ${what.join('; ')}`);
    out.push(`    ${command(x.seed)}`);
  }
  return `${out.join('\n')}\n`;
}

// ── Output ──────────────────────────────────────────────────────────────

function csvField(v: string | number | null): string {
  if (v === null) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : v;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per figure: section,name,value,ci_low,ci_high,published,unit. */
export function renderStatsCsv(figures: readonly StatsFigure[]): string {
  const lines = ['section,name,value,ci_low,ci_high,published,unit'];
  for (const f of figures) lines.push([f.section, f.name, f.value, f.ciLow, f.ciHigh, f.publishedValue, f.unit].map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** A figure's value in its unit, for people. */
export function formatValue(x: number | null, unit: string): string {
  if (x === null || !Number.isFinite(x)) return '—';
  switch (unit) {
    case 'fraction':
      return `${(100 * x).toFixed(1)} %`;
    case 'min':
      return `${x.toFixed(1)} min`;
    case 'ratio':
    case 'fires':
      return x.toFixed(3);
    default:
      return `${x.toFixed(1)} ${unit}`;
  }
}

function formatCi(f: StatsFigure): string {
  if (f.ciLow === null || f.ciHigh === null) return '';
  if (f.unit === 'fraction') return `${(100 * f.ciLow).toFixed(1)}–${(100 * f.ciHigh).toFixed(1)} %`;
  const v = (x: number) => (f.unit === 'ratio' || f.unit === 'fires' ? x.toFixed(3) : x.toFixed(1));
  return `${v(f.ciLow)}–${v(f.ciHigh)}${f.unit === 'ratio' || f.unit === 'fires' ? '' : ` ${f.unit}`}`;
}

const SECTION_TITLES: Record<StatsFigure['section'], string> = {
  outcomes: 'Outcomes (share of participants)',
  rules: 'Rules',
  pause: 'Pause time',
  staff: 'Staff',
  session: 'Session length',
  participants: 'Per participant over the course',
  calibration: 'CALIBRATION.md figures (simulated vs published)',
};

/**
 * A section's title. With --course the outcomes count sessions (every
 * session of every participant), and the per-participant section says over
 * how many participants.
 */
export function sectionTitle(section: StatsFigure['section'], report: StatsReport): string {
  const c = report.course;
  if (c === undefined) return SECTION_TITLES[section];
  if (section === 'outcomes') return `Outcomes per session (share of all ${report.sessions} sessions, not of participants)`;
  if (section === 'participants') return `Per participant over the course (${c.participants} participants, ${c.sessionsPerParticipant} sessions each)`;
  return SECTION_TITLES[section];
}

/** The readable table: measure, value, 95 % CI, published figure. */
const showRate = (x: number) => String(Number(x.toFixed(3)));

/** What was run: protocol, session, how many sessions or courses, seed and model. */
export function statsSummary(report: StatsReport): string {
  const who = report.participantsPerSession === 1 ? '1 participant' : `${report.participantsPerSession} participants`;
  const runs = report.course
    ? `${report.course.participants} participants through the course, ${report.course.sessionsPerParticipant} sessions each (${report.sessions} sessions)`
    : `${report.sessions} sessions (${who} each)`;
  const away = report.staffAbsences
    ? `; staff called away ${showRate(report.staffAbsences.leaveRatePerHour)} times per person-hour, ${showRate(report.staffAbsences.absenceMeanMinutes)} min on average`
    : '';
  return `Protocol "${report.protocol}", session ${report.session}: ${runs}, seed ${report.seed}, calibrated model (${report.profile} profile${away}).`;
}

export function renderStatsText(report: StatsReport, figures: readonly StatsFigure[]): string {
  const out: string[] = [];
  out.push(statsSummary(report));
  out.push('');
  const { header, rows } = statsTable(figures);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  let section: string | undefined;
  figures.forEach((f, i) => {
    if (f.section !== section) {
      section = f.section;
      if (i > 0) out.push('');
      out.push(sectionTitle(f.section, report));
      out.push(`  ${line(header)}`);
    }
    out.push(`  ${line(rows[i]!)}`);
  });
  out.push('');
  out.push(statsNotes(report).trimEnd());
  return `${out.join('\n')}\n`;
}

/** The table's header and rows: measure, value, 95 % CI, published figure. */
export function statsTable(figures: readonly StatsFigure[]): { header: string[]; rows: string[][] } {
  return {
    header: ['measure', 'value', '95 % CI', 'published'],
    rows: figures.map((f) => [f.name, formatValue(f.value, f.unit), formatCi(f), f.published === null ? '' : `${f.published}${f.comparable === false ? ' *' : ''}`]),
  };
}

/** What follows the table: the route, the notes on calibration figures, what was not computed. */
export function statsNotes(report: StatsReport): string {
  const out: string[] = [];
  const cal = report.calibration;
  const c = report.course;
  if (c !== undefined) {
    out.push(
      `Course: ${c.participants} participants, ${c.sessionsPerParticipant} sessions each. The outcome, rule, pause, staff and session-length figures, and the calibration rows other than those over participants, count the ${report.sessions} sessions. ` +
        `A participant's sessions are not independent (the same person), so their 95 % CIs, which treat them as independent, are narrower than this run supports and are not per-participant CIs. ` +
        `The per-participant figures count the ${c.participants} participants, with CIs over ${c.participants}.`,
    );
  }
  // Counted per session and participant: over courses, a participant counts once per session.
  const dosed = c ? `${cal.dosed} of ${report.sessions} sessions dosed (${c.perParticipant.dosed.participants} of ${c.participants} participants in at least one)` : `${cal.dosed} participants dosed`;
  out.push(`Route ${cal.route ?? 'none'}: ${dosed}, ${cal.withReadings} with pre- and post-dose blood pressure readings.`);
  if (cal.rows.some((r) => !r.comparable)) out.push('* not the same measure as the published figure (see the notes).');
  if (cal.rows.length > 0) {
    out.push('Notes:');
    const seen = new Set<string>();
    for (const r of cal.rows) {
      if (r.note === 'as above' || seen.has(r.note)) continue;
      seen.add(r.note);
      out.push(`  ${r.id} ${r.figure}: ${r.note}.`);
    }
  }
  if (cal.notComputed.length > 0) {
    out.push('Not computed from simulated sessions:');
    for (const n of cal.notComputed) out.push(`  ${n.id} ${n.figure}: ${n.reason}.`);
  }
  return `${out.join('\n')}\n`;
}
