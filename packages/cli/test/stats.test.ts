import { describe, expect, it, vi } from 'vitest';
import { compile } from '@kapspec/compiler';
import type { StatsExample, StatsReport } from '@kapspec/simulator';
import { AUTO_WORK_PER_WORKER, MAX_AUTO_WORKERS, resolveWorkers } from '../src/commands/stats.js';
import { BAD } from './fixtures.js';
import { main } from '../src/main.js';
import { fakeTerminal } from './fake-terminal.js';
import { ANSI, memoryIo, run } from './memory-io.js';
import { plain } from './tui/fixtures.js';
import { example } from './sim-fixtures.js';

// Small runs: the first sessions of a process run before the JIT has warmed up.
vi.setConfig({ testTimeout: 120_000 });

const IV = 'examples/individual-iv.kap';
const IN = 'examples/intranasal-esketamine.kap';
const GROUP = 'examples/group-im.kap';
const files: Record<string, string> = { [IV]: example(IV), [IN]: example(IN), [GROUP]: example(GROUP), 'bad.kap': BAD };

describe('kapspec stats', () => {
  it('text: a table of measure, value, 95 % CI and published figure; nothing on stderr off a terminal', async () => {
    const r = await run(['stats', IV, '--sessions', '4', '--workers', '1'], { files });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Protocol "Individual IV ketamine-assisted psychotherapy", session dosing: 4 sessions (1 participant each), seed 1, calibrated model (yale profile).');
    expect(r.stdout).toContain('\nOutcomes (share of participants)\n');
    expect(r.stdout).toMatch(/\n {2}measure +value +95 % CI +published\n/);
    expect(r.stdout).toMatch(/\n {2}discharged +\d+\.\d %/);
    expect(r.stdout).toMatch(/\n {2}hypertension: sessions fired +\d+\.\d % +\d+\.\d–\d+\.\d %/);
    expect(r.stdout).toMatch(/\n {2}IV1 mean peak SBP rise +-?\d+\.\d mmHg .*\+16\.0 mmHg \(SD 11\.2\), 2,342 infusions\n/);
    expect(r.stdout).toContain('Not computed from simulated sessions:');
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('json: the documented, stable report; the same for 1 and 2 workers', async () => {
    const a = await run(['stats', IV, '--sessions', '3', '--seed', '5', '--workers', '1', '--format', 'json'], { files });
    expect(a.code).toBe(0);
    const report = JSON.parse(a.stdout) as Record<string, unknown>;
    expect(Object.keys(report)).toEqual(['kapspecStats', 'protocol', 'session', 'seed', 'sessions', 'participantsPerSession', 'participants', 'participantSessions', 'model', 'profile', 'outcomes', 'rules', 'pause', 'staff', 'sessionLength', 'calibration', 'examples']);
    expect(report).toMatchObject({ kapspecStats: 2, session: 'dosing', seed: 5, sessions: 3, participants: 3, participantSessions: 3, model: 'calibrated', profile: 'yale' });
    const b = await run(['stats', IV, '--sessions', '3', '--seed', '5', '--workers', '2', '--format', 'json'], { files });
    expect(b.stdout).toBe(a.stdout);
  });

  it('text: example sessions last, by session, each with the kapspec simulate command that shows it; that command gives the outcome, the rule and the violation', async () => {
    const args = ['stats', IV, '--sessions', '40', '--seed', '2', '--workers', '1', '--profile', 'cohort741', '--staff-leave-rate', '2'];
    const r = await run(args, { files });
    expect(r.code).toBe(0);
    const at = r.stdout.indexOf('\nExample sessions, the first of each outcome, rule and staffing violation:\n');
    expect(at).toBeGreaterThan(r.stdout.indexOf('Not computed from simulated sessions:'));
    const lines = r.stdout.slice(at).trim().split('\n').slice(1);
    const report = JSON.parse((await run([...args, '--format', 'json'], { files })).stdout) as StatsReport;
    const ex = report.examples!;
    expect(ex.outcomes.length).toBeGreaterThan(1);
    expect(ex.rules.length).toBeGreaterThan(1);
    expect(ex.staffing.length).toBeGreaterThan(0);
    // Two lines a session, in session order: what it is the first of, then the command.
    const sessions = [...new Set([...ex.outcomes, ...ex.rules, ...ex.staffing].map((e) => e.session))].sort((a, b) => a - b);
    expect(lines.length).toBe(2 * sessions.length);
    const all = [...ex.outcomes, ...ex.rules, ...ex.staffing];
    sessions.forEach((session, k) => {
      const seed = all.find((e) => e.session === session)!.seed;
      expect(lines[2 * k + 1]).toBe(`    kapspec simulate ${IV} --profile cohort741 --staff-leave-rate 2 --seed ${seed}`);
      const what = lines[2 * k]!;
      expect(what).toMatch(new RegExp(`^ {2}session ${session}: `));
      for (const e of ex.outcomes.filter((x) => x.session === session)) expect(what).toContain(e.of);
      for (const e of ex.rules.filter((x) => x.session === session)) expect(what).toMatch(new RegExp(`rules? (.*, )?${e.of}\\b`));
      for (const e of ex.staffing.filter((x) => x.session === session)) expect(what).toMatch(new RegExp(`staffing violation \\((.*, )?${e.of}\\b`));
    });
    // The commands show those very sessions: the outcome's, one where the rule fires, one with the violation.
    const shown = async (e: StatsExample) => {
      const k = sessions.indexOf(e.session);
      const s = await run(lines[2 * k + 1]!.trim().split(' ').slice(1), { files });
      expect(s.code).toBe(0);
      return s.stdout;
    };
    const o = ex.outcomes.at(-1)!;
    expect(await shown(o)).toMatch(new RegExp(`\nOutcome: ${o.of} at `));
    const rule = ex.rules.at(-1)!;
    expect(await shown(rule)).toMatch(new RegExp(`rule ${rule.of}\\b`));
    const v = ex.staffing[0]!;
    expect(await shown(v)).toMatch(new RegExp(`STAFFING: .*${v.of}`));
  });

  it('--course: participants through the course, the per-patient figures, and "course" in JSON', async () => {
    const r = await run(['stats', IN, '--sessions', '3', '--course', '--workers', '1'], { files });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      'Protocol "Intranasal esketamine, supervised sessions", session dosing: 3 participants through the course, 8 sessions each (24 sessions), seed 1, calibrated model (yale profile).',
    );
    expect(r.stdout).toMatch(/\n {2}ES13 observed sedation \(event `sedation`\), per participant over the course +\d+\.\d %/);
    const j = await run(['stats', IN, '--sessions', '3', '--course', '--workers', '1', '--format', 'json'], { files });
    const report = JSON.parse(j.stdout) as StatsReport;
    expect(report.course).toMatchObject({ participants: 3, sessionsPerParticipant: 8 });
    // Over courses the dosed count is of sessions (a participant has 8), not of participants.
    expect(r.stdout).toMatch(/\nRoute intranasal: \d+ of 24 sessions dosed \(\d of 3 participants in at least one\), \d+ with pre- and post-dose blood pressure readings\.\n/);
    expect(report.sessions).toBe(24);
    // A group protocol cannot be followed one participant at a time: a usage error naming why.
    const g = await run(['stats', 'group.kap', '--sessions', '2', '--course'], { files: { 'group.kap': example('examples/group-im.kap') } });
    expect(g.code).toBe(2);
    expect(g.stderr).toMatch(/cannot simulate group\.kap: course statistics follow one participant through their course: individual protocols only\n$/);
  });

  it('--course: per-session figures are labelled per session, per-participant figures count the --sessions participants (text, JSON, CSV)', async () => {
    const args = ['stats', IV, '--sessions', '4', '--course', '--workers', '1'];
    const text = await run(args, { files });
    expect(text.code).toBe(0);
    // individual-iv.kap repeats its dosing session 6 times: 4 participants, 24 sessions.
    expect(text.stdout).not.toContain('Outcomes (share of participants)');
    expect(text.stdout).toContain('\nOutcomes per session (share of all 24 sessions, not of participants)\n');
    expect(text.stdout).toMatch(/\n {2}sessions discharged +\d+\.\d %/);
    expect(text.stdout).toContain('\nPer participant over the course (4 participants, 6 sessions each)\n');
    expect(text.stdout).toMatch(/\n {2}participants with at least one session deferred +\d+\.\d % +\d+\.\d–\d+\.\d %/);
    expect(text.stdout).toMatch(/\nCourse: 4 participants, 6 sessions each\. .*not independent.*not per-participant CIs\. The per-participant figures count the 4 participants, with CIs over 4\.\n/);
    const json = JSON.parse((await run([...args, '--format', 'json'], { files })).stdout) as StatsReport;
    expect(json).toMatchObject({ kapspecStats: 2, sessions: 24, participants: 4, participantSessions: 24, course: { participants: 4, sessionsPerParticipant: 6 } });
    expect(json.outcomes.reduce((k, o) => k + o.count, 0)).toBe(24);
    const pp = json.course!.perParticipant;
    for (const x of [pp.dosed, pp.allDischarged, pp.paused, pp.staffingViolation, ...pp.outcomes, ...pp.rules]) expect(x.rate * 4).toBeCloseTo(x.participants, 12);
    const csv = (await run([...args, '--format', 'csv'], { files })).stdout.trimEnd().split('\n');
    expect(csv.filter((l) => l.startsWith('outcomes,')).map((l) => l.split(',')[1])).toEqual(['sessions discharged', 'sessions deferred', 'sessions ended', 'sessions escalated', 'sessions without an outcome']);
    expect(csv.find((l) => l.startsWith('participants,participants discharged in every session,'))).toBe(`participants,participants discharged in every session,${pp.allDischarged.rate},${pp.allDischarged.ci[0]},${pp.allDischarged.ci[1]},,fraction`);
  });

  it('--staff-leave-rate / --staff-absence: the header says so, violations follow, bad values are usage errors', async () => {
    const r = await run(['stats', IV, '--sessions', '20', '--workers', '1', '--staff-leave-rate', '0.5', '--staff-absence', '15'], { files });
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/calibrated model \(yale profile; staff called away 0\.5 times per person-hour, 15 min on average\)\.$/);
    expect(r.stdout).toMatch(/\n {2}sessions with a staffing violation +([1-9]\d*\.\d|100\.0) %/);
    const j = await run(['stats', IV, '--sessions', '2', '--workers', '1', '--staff-leave-rate', '2', '--format', 'json'], { files });
    expect((JSON.parse(j.stdout) as { staffAbsences: unknown }).staffAbsences).toEqual({ leaveRatePerHour: 2, absenceMeanMinutes: 10 });
    for (const [flag, value] of [['--staff-leave-rate', '-1'], ['--staff-leave-rate', 'often'], ['--staff-absence', '0']]) {
      const bad = await run(['stats', IV, '--sessions', '2', flag!, value!], { files });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(new RegExp(`^kapspec stats: option '${flag} <(n|min)>' argument '${value}' is invalid\\. expected a decimal number`));
    }
  });

  it('csv: one row per figure with the documented header', async () => {
    const r = await run(['stats', IN, '--sessions', '2', '--format', 'csv'], { files });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('section,name,value,ci_low,ci_high,published,unit');
    expect(lines).toContain('outcomes,discharged,' + lines.find((l) => l.startsWith('outcomes,discharged,'))!.slice('outcomes,discharged,'.length));
    expect(lines.some((l) => /^calibration,"?ES13 observed sedation.*,0\.347,fraction$/.test(l))).toBe(true);
    for (const l of lines.slice(1)) expect(l).toMatch(/^(outcomes|rules|pause|staff|session|calibration),/);
    // The participants section is a course's only.
    expect(lines.some((l) => l.startsWith('participants,'))).toBe(false);
  });

  it('--help documents the JSON and the CSV columns', async () => {
    const r = await run(['stats', '--help'], { files });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('"kapspecStats":2');
    expect(r.stdout).toContain('"participantSessions"');
    expect(r.stdout).toContain('"perParticipant"');
    expect(r.stdout).toContain('section,name,value,ci_low,ci_high,published,unit');
  });

  it('progress goes to stderr only on a terminal', async () => {
    const r = await run(['stats', IV, '--sessions', '2', '--format', 'json'], { files, stderrTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\r\[#+\] 2\/2 sessions, [\d.]+\/s \n$/);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
  });

  it('--course: the progress line counts participants, not sessions', async () => {
    const r = await run(['stats', IN, '--sessions', '2', '--course', '--workers', '1', '--format', 'json'], { files, stderrTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\r\[#+\] 2\/2 participants, [\d.]+\/s \n$/);
  });

  it('on a terminal: the ink view counts sessions, or participants with --course, then shows the table', async () => {
    for (const [args, unit, row, outcomes] of [
      [['stats', IV, '--sessions', '2', '--workers', '1'], 'sessions', /IV1 mean peak SBP rise +\d/, /─\nOutcomes \(share of participants\)\ndischarged +\d/],
      // With --course the outcomes count sessions, and a section counts the participants.
      [['stats', IN, '--sessions', '2', '--course', '--workers', '1'], 'participants', /ES13 observed sedation \(event +\d+\.\d %/, /─\nOutcomes per session \(share of all 16 sessions, not of\s+participants\)\nsessions discharged +\d[\s\S]*\n\nPer participant over the course \(2 participants, 8 sessions each\)\n/],
    ] as const) {
      const memory = memoryIo({ files });
      const { terminal, stdout } = fakeTerminal();
      const code = await main(args, { ...memory.io, terminal });
      expect(code, args.join(' ')).toBe(0);
      const screen = plain(stdout.text);
      expect(screen).toContain(`kapspec stats ${args[1]}`);
      expect(screen).toMatch(new RegExp(`100% {2}2/2 ${unit}`));
      expect(screen).toMatch(row);
      // The sections of the text output, titled.
      expect(screen).toMatch(outcomes);
      expect(screen).toMatch(/\n\nRules\n/);
      expect(screen).toMatch(/\n\nCALIBRATION\.md figures \(simulated vs published\)\n/);
      // Under the table: what was run, with the seed that reproduces it.
      expect(screen).toMatch(/session dosing: .*, seed 1, calibrated model \(yale profile\)\./s);
      // The figures' notes follow as text on stdout; nothing on stderr.
      expect(memory.stdout()).toMatch(/^(Route|Course|Notes)/m);
      expect(memory.stderr()).toBe('');
    }
  });

  it('usage and I/O mistakes: exit 2 with one line, never a clamp', async () => {
    for (const [args, message] of [
      [['stats', IV], /required option '--sessions <n>' not specified/],
      [['stats', IV, '--sessions', '0'], /'--sessions <n>' argument '0' is invalid\. expected a whole number of at least 1/],
      [['stats', IV, '--sessions', '-3'], /--sessions/],
      [['stats', IV, '--sessions', '2.5'], /expected a whole number of at least 1/],
      [['stats', IV, '--sessions', 'many'], /expected a whole number of at least 1/],
      [['stats', IV, '--sessions', '2', '--workers', '0'], /expected a whole number of at least 1, or auto/],
      [['stats', IV, '--sessions', '2', '--format', 'xml'], /--format/],
      [['stats', IV, '--sessions', '2', '--session', 'nope'], /has no session `nope`/],
      [['stats', 'missing.kap', '--sessions', '2'], /missing\.kap/],
    ] as const) {
      const r = await run(args, { files });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it('a protocol with errors: diagnostics and exit 2 (DESIGN: stats exits 0 or 2)', async () => {
    const r = await run(['stats', 'bad.kap', '--sessions', '2'], { files });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.kap has errors/);
  });

  it('--workers auto: a worker per AUTO_WORK_PER_WORKER participant-sessions, at most one per core and MAX_AUTO_WORKERS, at least this thread', () => {
    const w = AUTO_WORK_PER_WORKER;
    expect(resolveWorkers('auto', 5, 1, 2)).toBe(1);
    expect(resolveWorkers('auto', 2 * w - 1, 1, 2)).toBe(1);
    expect(resolveWorkers('auto', 2 * w, 1, 2)).toBe(2);
    expect(resolveWorkers('auto', 100 * w, 1, 2)).toBe(2);
    expect(resolveWorkers('auto', 100 * w, 1, 64)).toBe(MAX_AUTO_WORKERS);
    // A group of 8 (or a course of 8 sessions) is 8 participant-sessions a unit.
    expect(resolveWorkers('auto', w / 4, 8, 2)).toBe(2);
    expect(resolveWorkers('auto', w / 4 - 1, 8, 2)).toBe(1);
    expect(resolveWorkers(3, 5, 1, 2)).toBe(3);
  });

  it('the unit size of a run: participants of a group session, sessions of a course', async () => {
    const sim = await import('@kapspec/simulator');
    const irOf = (f: string) => compile(files[f]!).ir!;
    expect(sim.statsUnitSize(irOf(IV), {})).toBe(1);
    expect(sim.statsUnitSize(irOf(IV), { course: true })).toBe(6);
    const group = irOf(GROUP).setting;
    expect(group.mode).toBe('group');
    expect(sim.statsUnitSize(irOf(GROUP), {})).toBe(group.mode === 'group' ? group.min : 0);
    expect(sim.statsUnitSize(irOf(GROUP), { participants: 7 })).toBe(7);
    // What runStats refuses counts 1 here (runStats reports it).
    expect(sim.statsUnitSize(irOf(IV), { course: true, session: 'nope' })).toBe(1);
  });
});
