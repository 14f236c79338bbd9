import { describe, expect, it, vi } from 'vitest';
import { calibratedModel, courseSessionSeed, runStats, simulate, statsSessionSeed, StatsError } from '../src/index.js';
import { exampleIR } from './helpers.js';

vi.setConfig({ testTimeout: 120_000 });

const IV = exampleIR('individual-iv');
const IN = exampleIR('intranasal-esketamine');

describe('runStats in course mode', () => {
  it('follows each participant through the course’s repeats of the session, with the per-patient figures', async () => {
    const r = await runStats(IV, { sessions: 20, seed: 4, course: true });
    // individual-iv.kap: "dosing repeat 6".
    expect(r.course).toEqual({ participants: 20, sessionsPerParticipant: 6 });
    expect(r.sessions).toBe(120);
    expect(r.participants).toBe(120);
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
    expect(one.course).toEqual({ participants: 70, sessionsPerParticipant: 8 });
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
