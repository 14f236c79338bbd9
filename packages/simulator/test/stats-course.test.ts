import { describe, expect, it, vi } from 'vitest';
import { OUTCOMES, type IR } from '@kapspec/runtime';
import { calibratedModel, courseSessionSeed, runStats, simulate, statsFigures, statsSessionSeed, StatsError, wilson, type Trace } from '../src/index.js';
import { CALIBRATION_MONITORING, SEVERE_HYPERTENSION } from '../src/models/parameters.js';
import { exampleIR } from './helpers.js';

vi.setConfig({ testTimeout: 120_000 });

const IV = exampleIR('individual-iv');
const IN = exampleIR('intranasal-esketamine');

describe('runStats in course mode', () => {
  it('follows each participant through the course’s repeats of the session, with the per-patient figures', async () => {
    const r = await runStats(IV, { sessions: 20, seed: 4, course: true });
    // individual-iv.kap: "dosing repeat 6".
    expect(r.course).toMatchObject({ participants: 20, sessionsPerParticipant: 6 });
    expect(r.sessions).toBe(120);
    const ids = r.calibration.rows.map((x) => `${x.id} ${x.figure}`);
    expect(ids).toContain('IV4 participants with a severe episode over the course');
    expect(ids).toContain('IV4 severe episodes within the first 3 sessions of the course');
    expect(ids).toContain('IV10 peak SBP rise, session 6 / session 1');
    const perPatient = r.calibration.rows.find((x) => x.figure === 'participants with a severe episode over the course')!;
    expect(perPatient.n).toBeLessThanOrEqual(20);
    expect(perPatient.comparable).toBe(false); // Yale's patients had 17 infusions on average
    expect(r.calibration.notComputed.map((x) => x.id)).not.toContain('IV10');
    // Without --course the same figures are listed as not computed, with the way to get them.
    const single = await runStats(IV, { sessions: 4, seed: 4 });
    expect(single.course).toBeUndefined();
    expect(single.calibration.notComputed.find((x) => x.id === 'IV10')?.reason).toMatch(/--course/);
  });

  it('the same report for 1 and 2 workers', async () => {
    const one = await runStats(IN, { sessions: 70, seed: 9, course: true, workers: 1 });
    const two = await runStats(IN, { sessions: 70, seed: 9, course: true, workers: 2 });
    expect(two).toEqual(one);
    expect(one.course).toMatchObject({ participants: 70, sessionsPerParticipant: 8 });
    const es13 = one.calibration.rows.find((x) => x.id === 'ES13' && x.figure.includes('per participant'))!;
    expect(es13.comparable).toBe(true); // label dose, 8-session induction
    expect(es13.n).toBeGreaterThan(0);
    // Per patient over 8 sessions is at least the per-session share.
    const perSession = one.calibration.rows.find((x) => x.id === 'ES13' && x.figure.includes('per dosed session'))!;
    expect(es13.value!).toBeGreaterThanOrEqual(perSession.value!);
  });

  it('course session 1 is stats session i; later sessions carry their place in the course', () => {
    const s = statsSessionSeed(4, 0);
    expect(courseSessionSeed(s, 1)).toBe(s);
    expect(courseSessionSeed(s, 2)).not.toBe(s);
    const first = simulate(IV, { session: 'dosing', scenario: calibratedModel(IV, { session: 'dosing', seed: s }), seed: s });
    const viaCourse = simulate(IV, { session: 'dosing', scenario: calibratedModel(IV, { session: 'dosing', seed: s, sessionIndex: 1 }), seed: courseSessionSeed(s, 1) });
    expect(viaCourse).toEqual(first);
    const later = calibratedModel(IV, { session: 'dosing', seed: s, sessionIndex: 2 });
    expect(later.parameters['sessionIndex']).toBe(2);
  });

  it('names what it cannot do: a group protocol, no course, a session the course does not include', async () => {
    await expect(runStats(exampleIR('group-im'), { sessions: 2, seed: 1, course: true })).rejects.toThrow(StatsError);
    await expect(runStats(exampleIR('group-im'), { sessions: 2, seed: 1, course: true })).rejects.toThrow(/individual protocols only/);
    await expect(runStats(exampleIR('flawed/bp-every-20-min'), { sessions: 2, seed: 1, course: true })).rejects.toThrow(/no course block/);
    await expect(runStats(IV, { sessions: 2, seed: 1, course: true, session: 'integration' })).resolves.toMatchObject({ course: { sessionsPerParticipant: 3 } });
    await expect(runStats(IV, { sessions: 2, seed: 1, course: true, session: 'nope' })).rejects.toThrow(/no session "nope"/);
  });
});

/** What one participant's course shows, worked out from full traces (the actor, not stats' lean engine traces). */
interface CourseByHand {
  readonly outcomes: string[];
  readonly fired: Set<string>;
  dosed: boolean;
  paused: boolean;
}

/**
 * Participant i of a course run, simulated here session by session as
 * docs/simulator.md describes course mode: the seed of stats session i, the
 * session's place in the course, and a managed session after one with a
 * severe reading within the IV window of the dose.
 */
function courseByHand(ir: IR, seed: number, i: number, length: number): CourseByHand {
  const s = statsSessionSeed(seed, i);
  const window = CALIBRATION_MONITORING.iv.value.at(-1)!;
  const out: CourseByHand = { outcomes: [], fired: new Set(), dosed: false, paused: false };
  let severe = false;
  for (let j = 1; j <= length; j++) {
    const scenario = calibratedModel(ir, { session: 'dosing', seed: s, participants: 1, sessionIndex: j, afterSevereEpisode: severe });
    const trace: Trace = simulate(ir, { session: 'dosing', scenario, seed: courseSessionSeed(s, j) });
    out.outcomes.push(trace.records.find((r) => r.type === 'outcome')?.outcome ?? 'none');
    let dose: number | undefined;
    for (const r of trace.records) {
      if (r.type === 'state' && r.paused.length > 0) out.paused = true;
      if (r.type === 'emit') {
        const e = r.event as { type: string; rule?: string; drug?: string; phase?: string };
        if (e.type === 'rule') out.fired.add(e.rule!);
        if (e.type === 'administer' && e.phase === 'start' && /ketamine/i.test(e.drug!)) dose ??= r.t;
      }
      if (r.type === 'observe' && dose !== undefined && r.t > dose && r.t - dose <= window) {
        if ((r.values['sbp'] ?? 0) >= SEVERE_HYPERTENSION.sbp.value || (r.values['dbp'] ?? 0) >= SEVERE_HYPERTENSION.dbp.value) severe = true;
      }
    }
    if (dose !== undefined) out.dosed = true;
  }
  return out;
}

describe('runStats in course mode: per session and per participant kept apart', () => {
  it('participants are the people followed; outcomes are shares of their sessions; the per-participant figures count people, with intervals over them', async () => {
    const n = 12;
    const r = await runStats(IV, { sessions: n, seed: 4, course: true, workers: 1 });
    const c = r.course!;
    // individual-iv.kap repeats its dosing session 6 times: 12 people, 72 sessions.
    expect(r.participants).toBe(n);
    expect(r.participantSessions).toBe(n * 6);
    expect(r.sessions).toBe(n * 6);
    expect(r.outcomes.reduce((k, o) => k + o.count, 0)).toBe(n * 6);
    for (const o of r.outcomes) expect(o.ci).toEqual(wilson(o.count, n * 6));

    // The same people worked out from full traces, one course at a time.
    const people = Array.from({ length: n }, (_, i) => courseByHand(IV, 4, i, 6));
    const count = (p: (x: CourseByHand) => boolean) => people.filter(p).length;
    const pp = c.perParticipant;
    for (const outcome of [...OUTCOMES, 'none']) {
      const k = count((x) => x.outcomes.includes(outcome));
      expect(pp.outcomes.find((o) => o.outcome === outcome)).toEqual({ outcome, participants: k, rate: k / n, ci: wilson(k, n) });
      // The per-session count is of the same sessions.
      expect({ outcome, sessions: r.outcomes.find((o) => o.outcome === outcome)!.count }).toEqual({ outcome, sessions: people.reduce((s, x) => s + x.outcomes.filter((o) => o === outcome).length, 0) });
    }
    expect(pp.allDischarged.participants).toBe(count((x) => x.outcomes.every((o) => o === 'discharged')));
    expect(pp.dosed.participants).toBe(count((x) => x.dosed));
    expect(pp.paused.participants).toBe(count((x) => x.paused));
    for (const rule of pp.rules) expect({ rule: rule.rule, participants: rule.participants }).toEqual({ rule: rule.rule, participants: count((x) => x.fired.has(rule.rule)) });
    for (const x of [pp.dosed, pp.allDischarged, pp.paused, pp.staffingViolation, ...pp.outcomes, ...pp.rules]) expect(x.ci).toEqual(wilson(x.participants, n));
    // Not vacuous: this seed has people with a deferred session and people not discharged every time.
    expect(pp.outcomes.find((o) => o.outcome === 'deferred')!.participants).toBeGreaterThan(0);
    expect(pp.allDischarged.participants).toBeLessThan(n);
    // A share of people with at least one X is never below the share of sessions with X.
    for (const o of r.outcomes) expect(pp.outcomes.find((x) => x.outcome === o.outcome)!.rate).toBeGreaterThanOrEqual(o.rate);
  }, 120_000);

  it('flat figures: outcomes named as sessions, a participants section over the people', async () => {
    const r = await runStats(IV, { sessions: 5, seed: 4, course: true, workers: 1 });
    const figures = statsFigures(r);
    expect(figures.filter((f) => f.section === 'outcomes').map((f) => f.name)).toEqual(['sessions discharged', 'sessions deferred', 'sessions ended', 'sessions escalated', 'sessions without an outcome']);
    const people = figures.filter((f) => f.section === 'participants');
    expect(people.map((f) => f.name)).toContain('participants discharged in every session');
    expect(people.find((f) => f.name === 'participants with at least one session deferred')!.value).toBe(r.course!.perParticipant.outcomes.find((o) => o.outcome === 'deferred')!.rate);
    // Without --course: the outcome names and sections are unchanged, and there is no participants section.
    const single = statsFigures(await runStats(IV, { sessions: 3, seed: 4, workers: 1 }));
    expect(single.filter((f) => f.section === 'outcomes').map((f) => f.name)).toEqual([...OUTCOMES, 'none']);
    expect(single.some((f) => f.section === 'participants')).toBe(false);
  }, 60_000);
});

describe('runStats with staff called away', () => {
  it('absences make staffing violations; the report names the rates; the same for 1 and 2 workers', async () => {
    const calm = await runStats(IV, { sessions: 64, seed: 2, workers: 1 });
    expect(calm.staff.violationSessions).toBe(0);
    expect(calm.staffAbsences).toBeUndefined();
    const away = await runStats(IV, { sessions: 64, seed: 2, workers: 1, staff: { leaveRatePerHour: 0.5, absenceMeanMinutes: 15 } });
    expect(away.staffAbsences).toEqual({ leaveRatePerHour: 0.5, absenceMeanMinutes: 15 });
    // individual-iv.kap staffs the minimum (one therapist, one medical provider): any absence breaks a staffing line.
    expect(away.staff.violationSessions).toBeGreaterThan(10);
    const two = await runStats(IV, { sessions: 64, seed: 2, workers: 2, staff: { leaveRatePerHour: 0.5, absenceMeanMinutes: 15 } });
    expect(two).toEqual(away);
  });

  it('refuses rates that are not rates, naming them (never clamped)', async () => {
    await expect(runStats(IV, { sessions: 2, seed: 1, staff: { leaveRatePerHour: -1 } })).rejects.toThrow(/staff leave rate must be a number of times per person per hour, 0 or more, got -1/);
    await expect(runStats(IV, { sessions: 2, seed: 1, staff: { absenceMeanMinutes: 0 } })).rejects.toThrow(/mean staff absence must be a number of minutes above 0, got 0/);
    expect(() => calibratedModel(IV, { session: 'dosing', staff: { leaveRatePerHour: Number.NaN } })).toThrow(/staff leave rate/);
  });
});
