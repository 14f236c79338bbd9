import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, STACK, assertBuilt, kapspec } from './helpers/cli.js';

// The runtime simulates ~5–20 sessions a second today; be generous.
vi.setConfig({ testTimeout: 180_000 });

beforeAll(() => assertBuilt());

const IV = 'examples/individual-iv.kap';

describe('kapspec stats (real bundled binary, worker threads)', () => {
  it('--sessions 40 --workers 2 in all three formats; the same numbers as 1 worker', async () => {
    const [text, json, csv, json1] = await Promise.all([
      kapspec(['stats', IV, '--sessions', '40', '--workers', '2']),
      kapspec(['stats', IV, '--sessions', '40', '--workers', '2', '--format', 'json']),
      kapspec(['stats', IV, '--sessions', '40', '--workers', '2', '--format', 'csv']),
      kapspec(['stats', IV, '--sessions', '40', '--workers', '1', '--format', 'json']),
    ]);
    for (const r of [text, json, csv, json1]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(ANSI);
    }
    expect(text.stdout).toMatch(/^Protocol "Individual IV ketamine-assisted psychotherapy", session dosing: 40 sessions \(1 participant each\), seed 1, calibrated model \(yale profile\)\.\n/);
    expect(text.stdout).toMatch(/\n {2}IV1 mean peak SBP rise +\d+\.\d mmHg +\d+\.\d–\d+\.\d mmHg +\+16\.0 mmHg/);
    const report = JSON.parse(json.stdout) as { sessions: number; outcomes: { rate: number }[] };
    expect(report.sessions).toBe(40);
    expect(report.outcomes.reduce((s, o) => s + o.rate, 0)).toBeCloseTo(1, 12);
    expect(json.stdout).toBe(json1.stdout);
    const lines = csv.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('section,name,value,ci_low,ci_high,published,unit');
    expect(lines.find((l) => l.startsWith('calibration,IV1 mean peak SBP rise,'))).toMatch(/,16,mmHg$/);
  });

  it('--course through the bundled worker threads: the same report as one thread', async () => {
    const [two, one] = await Promise.all([
      kapspec(['stats', IV, '--sessions', '70', '--course', '--workers', '2', '--format', 'json']),
      kapspec(['stats', IV, '--sessions', '70', '--course', '--workers', '1', '--format', 'json']),
    ]);
    expect(two.code).toBe(0);
    expect(two.stderr).toBe('');
    expect(two.stdout).toBe(one.stdout);
    const report = JSON.parse(two.stdout) as {
      kapspecStats: number;
      sessions: number;
      participants: number;
      participantSessions: number;
      outcomes: { count: number }[];
      course: { participants: number; sessionsPerParticipant: number; perParticipant: { allDischarged: { participants: number; ci: [number, number] } } };
      calibration: { rows: { id: string }[] };
    };
    expect(report.kapspecStats).toBe(2);
    expect(report.course).toMatchObject({ participants: 70, sessionsPerParticipant: 6 });
    // 70 people (--sessions), 420 sessions: the outcomes are shares of the sessions.
    expect(report.participants).toBe(70);
    expect(report.sessions).toBe(420);
    expect(report.participantSessions).toBe(420);
    expect(report.outcomes.reduce((k, o) => k + o.count, 0)).toBe(420);
    expect(report.course.perParticipant.allDischarged.participants).toBeLessThanOrEqual(70);
    expect(report.calibration.rows.map((r) => r.id)).toContain('IV10');
    // The text says which figures count sessions and which count participants.
    const text = await kapspec(['stats', IV, '--sessions', '70', '--course', '--workers', '2']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('\nOutcomes per session (share of all 420 sessions, not of participants)\n');
    expect(text.stdout).toContain('\nPer participant over the course (70 participants, 6 sessions each)\n');
    expect(text.stdout).not.toContain('Outcomes (share of participants)');
  });

  it('bad --sessions: exit 2, one line and a pointer to --help, no stack', async () => {
    for (const n of ['0', '-1', '1.5', 'lots']) {
      const r = await kapspec(['stats', IV, '--sessions', n]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^kapspec stats: .*--sessions.*\nRun `kapspec stats --help` for usage\.\n$/);
      expect(r.stderr).not.toMatch(STACK);
    }
    const missing = await kapspec(['stats', IV]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--sessions <n>' not specified/);
  });
});
