import { describe, expect, it } from 'vitest';
import { initialPlayState, makePlayback, playReducer, sceneAt, windowValues, type PlayState } from '../../src/tui/playback.js';
import { BLOCKS, scaleOf, sparkline } from '../../src/tui/sparkline.js';
import { ruleThresholds, severity, showThresholds } from '../../src/tui/thresholds.js';
import { groupPanics, ivSurge } from './fixtures.js';

describe('thresholds from the IR', () => {
  it('reads every rule comparison of a measure with a number, normalised and sorted', () => {
    const { ir } = ivSurge();
    const th = ruleThresholds(ir.sessions.find((s) => s.name === 'dosing')!);
    expect(showThresholds(th.get('sbp')!)).toBe('>160 >180 >200');
    expect(th.get('sbp')!.find((t) => t.value === 180)!.rules).toEqual(['hypertension']);
    expect(showThresholds(th.get('dbp')!)).toBe('>100 >110');
    expect(showThresholds(th.get('spo2')!)).toBe('<90');
    expect(showThresholds(th.get('cadss')!)).toBe('>40');
    expect(th.has('hr')).toBe(false);
  });

  it('severity: none, some, the most extreme', () => {
    const { ir } = ivSurge();
    const sbp = ruleThresholds(ir.sessions.find((s) => s.name === 'dosing')!).get('sbp')!;
    expect(severity(sbp, 150)).toBe(0);
    expect(severity(sbp, 170)).toBe(1);
    expect(severity(sbp, 190)).toBe(1);
    expect(severity(sbp, 205)).toBe(2);
    expect(severity(sbp, undefined)).toBe(0);
  });
});

describe('sparklines', () => {
  it('maps a range onto the eight blocks, blanks where there is no value', () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7])).toBe(BLOCKS.join(''));
    expect(sparkline([undefined, 5, 5])).toBe(' ▁▁');
    expect(scaleOf([130, 150], [180])).toEqual({ lo: 130, hi: 180 });
  });

  it('windowValues holds the last sample on one column per minute', () => {
    const samples = [
      { t: 0, v: 1 },
      { t: 3, v: 4 },
    ];
    expect(windowValues(samples, 4, 6)).toEqual([undefined, 1, 1, 1, 4, 4]);
    expect(windowValues(undefined, 4, 2)).toEqual([undefined, undefined]);
  });
});

describe('scene', () => {
  it('individual: the surge read at minute 35 pauses the infusion; the outcome at 180', () => {
    const { ir, trace } = ivSurge();
    const p = makePlayback(ir, trace);
    expect(p.group).toBe(false);
    expect(p.measures.map((m) => m.name)).toEqual(['sbp', 'dbp', 'hr', 'spo2', 'cadss']);
    const at = (t: number) => sceneAt(p, trace.records.filter((r) => r.t <= t).length, t);
    const s34 = at(34);
    expect(s34.stages.map((s) => `${s.name}:${s.status}`)).toEqual(['predose:done', 'infusion:current', 'recovery:pending']);
    expect(s34.stages[1]!.pausedBy).toEqual([]);
    const s40 = at(40);
    expect(s40.stages[1]!.pausedBy).toEqual(['p1']);
    expect(s40.log.map((l) => l.text)).toContain('infusion PAUSED (rule hypertension)');
    expect(s40.participants[0]!.seen['sbp']!.at(-1)).toEqual({ t: 35, v: 195 });
    expect(at(60).stages[1]!.pausedBy).toEqual([]);
    const end = at(1000);
    expect(end.finished).toBe(true);
    expect(end.participants[0]!.outcome).toMatchObject({ outcome: 'ended', t: 180, rule: 'not_settled' });
    expect(end.stages.every((s) => s.status === 'done')).toBe(true);
  });

  it('group: per-participant rows, merged log lines, the staff board with who is attended', () => {
    const { ir, trace } = groupPanics();
    const p = makePlayback(ir, trace);
    expect(p.group).toBe(true);
    expect(p.participants).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const s = sceneAt(p, trace.records.filter((r) => r.t <= 45).length, 45);
    expect(s.log.find((l) => l.text === 'journey begins')?.who).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    const fac = s.staff.find((r) => r.role === 'facilitator')!;
    expect(fac).toMatchObject({ free: 0, attending: 2, absent: 0 });
    expect(fac.assignments.map((a) => a.participant)).toEqual(['p1', 'p2']);
    expect(s.participants[0]!.attended).toEqual([{ role: 'facilitator', until: 60 }]);
    const end = sceneAt(p, trace.records.length, p.end);
    expect(end.participants.map((x) => x.outcome?.outcome)).toEqual(Array(6).fill('discharged'));
  });
});

describe('playReducer', () => {
  const { ir, trace } = ivSurge();
  const p = makePlayback(ir, trace);
  const logAt = (s: PlayState) => sceneAt(p, s.cursor, s.clock).log.length;

  it('a tick moves the clock by speed × time and applies the records up to it', () => {
    let s = initialPlayState(p, { speed: 10 });
    expect(s.playing).toBe(true);
    expect(s.clock).toBe(0);
    s = playReducer(p, s, { type: 'tick', ms: 1500 });
    expect(s.clock).toBe(15);
    expect(trace.records[s.cursor - 1]!.t).toBeLessThanOrEqual(15);
    expect(trace.records[s.cursor]!.t).toBeGreaterThan(15);
  });

  it('space toggles; a paused playback ignores ticks', () => {
    let s = initialPlayState(p, {});
    s = playReducer(p, s, { type: 'toggle' });
    expect(s.playing).toBe(false);
    expect(playReducer(p, s, { type: 'tick', ms: 1000 })).toBe(s);
    expect(playReducer(p, s, { type: 'toggle' }).playing).toBe(true);
  });

  it('→ adds exactly one log line per step and pauses', () => {
    let s = initialPlayState(p, { paused: true });
    const seen: number[] = [logAt(s)];
    for (let k = 0; k < 10; k++) {
      s = playReducer(p, s, { type: 'step' });
      seen.push(logAt(s));
      expect(s.playing).toBe(false);
    }
    expect(seen).toEqual(seen.map((_, i) => seen[0]! + i));
  });

  it('a step that stops on a stage exit already shows the stage as done', () => {
    let s = initialPlayState(p, { paused: true });
    for (let k = 0; k < 100 && sceneAt(p, s.cursor, s.clock).log.at(-1)?.text !== 'infusion ends'; k++) s = playReducer(p, s, { type: 'step' });
    const scene = sceneAt(p, s.cursor, s.clock);
    expect(scene.log.at(-1)?.text).toBe('infusion ends');
    expect(scene.stages.find((x) => x.name === 'infusion')!.status).toBe('done');
    s = playReducer(p, s, { type: 'step' });
    expect(sceneAt(p, s.cursor, s.clock).stages.map((x) => x.status)).toEqual(['done', 'done', 'current']);
  });

  it('+ and − walk the speeds; q quits; the end stops the playback', () => {
    let s = initialPlayState(p, { speed: 10 });
    s = playReducer(p, s, { type: 'faster' });
    expect(s.speed).toBe(20);
    s = playReducer(p, playReducer(p, s, { type: 'slower' }), { type: 'slower' });
    expect(s.speed).toBe(5);
    s = playReducer(p, s, { type: 'tick', ms: 10_000_000 });
    expect(s.cursor).toBe(trace.records.length);
    expect(s.playing).toBe(false);
    expect(playReducer(p, s, { type: 'quit' }).quit).toBe(true);
  });
});
