/**
 * For every example session: `xstate/graph`'s `getShortestPaths` reaches
 * every stage (and every pausable stage's `paused` state) and every outcome
 * that the session can reach. How the traversal handles the machine's timer,
 * and which readings and events it tries: reach.ts.
 *
 * Each path found is then replayed on a real actor with a SimulatedClock
 * (its own invoked timer firing) and must end in the same state with the
 * same output: the traversal explores the real machine, not a model of it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IR } from '@kapspec/runtime';
import { describe, expect, it } from 'vitest';
import { compile } from '../src/index.js';
import { allTargets, describePath, reach, reachGroup, replay, replayGroup, type ReachOptions } from './reach.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const load = (name: string): IR => compile(readFileSync(join(root, 'examples', name), 'utf8'), { file: `examples/${name}` }).ir!;

const NORMAL = { sbp: 124, dbp: 78, hr: 72, spo2: 97, cadss: 2 };

function check(ir: IR, options: Omit<ReachOptions, 'normal'>, expected: readonly string[]) {
  const r = reach(ir, { normal: NORMAL, ...options });
  expect([...r.paths.keys()].sort()).toEqual([...expected].sort());
  for (const [label, path] of r.paths) {
    const real = replay(ir, { session: options.session, ...(options.participant ? { participant: options.participant } : {}) }, path);
    expect(real.value, `${label}: ${describePath(path, NORMAL).join(' | ')}`).toEqual(path.state.value);
    expect(real.output).toEqual(path.state.output);
  }
  return r;
}

const all = (ir: IR, session: string) => allTargets(ir.sessions.find((s) => s.name === session)!);
const without = (xs: readonly string[], ...drop: string[]) => xs.filter((x) => !drop.includes(x));

describe('reachability: individual-iv.kap', () => {
  const ir = load('individual-iv.kap');

  it('dosing: every stage, the paused infusion and all four outcomes', () => {
    const r = check(ir, { session: 'dosing' }, all(ir, 'dosing'));
    expect(all(ir, 'dosing')).toEqual([
      'stage:predose',
      'stage:infusion',
      'paused:infusion',
      'stage:recovery',
      'outcome:discharged',
      'outcome:deferred',
      'outcome:ended',
      'outcome:escalated',
    ]);
    // The shortest witnesses, as a reader would check them against the .kap file.
    const show = (label: string) => describePath(r.paths.get(label)!, NORMAL);
    expect(show('outcome:deferred')).toEqual(['15 run']); // no pre-dose reading: the gate fails when predose ends
    expect(show('paused:infusion')).toEqual(['0 measure normal', '15 run', '15 measure sbp=190']);
    expect(show('outcome:discharged')).toEqual(['0 measure normal', '15 run', '55 run', '120 run']);
    expect(show('outcome:ended')).toEqual(['0 measure cadss=22.5', '15 run', '55 run', '180 run']);
  }, 60_000);

  // One stage, no gate, discharge on elapsed time, and two rules: panic
  // (a therapist attends) and a request to stop (ends the session).
  // Deferred and escalated are unreachable in these sessions.
  it.each(['screening', 'preparation', 'integration'])('%s: its stage, discharged, and ended by a request to stop', (session) => {
    check(ir, { session }, without(all(ir, session), 'outcome:deferred', 'outcome:escalated'));
  });
});

describe('reachability: intranasal-esketamine.kap', () => {
  const ir = load('intranasal-esketamine.kap');
  it('dosing: every stage and all four outcomes (no rule pauses a stage)', () => {
    check(ir, { session: 'dosing' }, all(ir, 'dosing'));
  }, 60_000);
});

describe('reachability: sublingual-lozenge.kap', () => {
  const ir = load('sublingual-lozenge.kap');
  // The gate's `else` is `end session` and no rule defers: `deferred` is
  // reached only from a different start, an excluded participant.
  it('lozenge: every stage and every outcome but deferred for an eligible participant', () => {
    check(ir, { session: 'lozenge' }, without(all(ir, 'lozenge'), 'outcome:deferred'));
  }, 60_000);
  it('lozenge: an excluded participant reaches deferred only, at the start', () => {
    const r = check(ir, { session: 'lozenge', participant: { age: 30, flags: ['pregnancy'] } }, ['outcome:deferred']);
    expect(r.paths.get('outcome:deferred')!.steps).toHaveLength(1);
  });
});

describe('reachability: group-im.kap', () => {
  const ir = load('group-im.kap');
  // The smallest group the protocol allows (`setting group 4..12`). p1's
  // readings and events are explored; p2..p4 get the normal vector at minute
  // 0 and are discharged at 150 (reach.ts, "Group sessions").
  const options = { session: 'circle', participants: ['p1', 'p2', 'p3', 'p4'].map((id) => ({ id })), normal: NORMAL };

  // Every stage, and every outcome p1 can have: `discharged` (the discharge
  // criteria at 150), `deferred` (the opening gate), `ended` (`not_settled`
  // at 4 h) and `escalated` (`severe_hypertension`, `hypoxia`). No rule
  // pauses a stage, so there is no `paused:` target. Staffing cannot change
  // an outcome: the only rule reading the pool (`panic_uncovered`) only
  // notifies, and a violated staffing line is reported, not acted on; so
  // events for p1 alone suffice and p2..p4 need no events. The group's own
  // outcome is the most serious participant outcome (p2..p4 are discharged
  // at 150): all four are reached too.
  it('circle: every stage, every outcome of p1 and of the group (4 participants)', () => {
    const r = reachGroup(ir, options);
    const stages = all(ir, 'circle').filter((l) => l.startsWith('stage:') || l.startsWith('paused:'));
    expect(stages).toEqual(['stage:opening', 'stage:journey', 'stage:sharing']);
    const outcomes = ['discharged', 'deferred', 'ended', 'escalated'];
    expect([...r.paths.keys()].sort()).toEqual([...stages, ...outcomes.map((o) => `p1:outcome:${o}`), ...outcomes.map((o) => `outcome:${o}`)].sort());
    for (const [label, path] of r.paths) {
      const real = replayGroup(ir, options, path);
      expect(real.value, `${label}: ${describePath(path, NORMAL).join(' | ')}`).toEqual(path.state.value);
      expect(real.output).toEqual(path.state.output);
      expect(real.context.members.map((m) => m.outcome)).toEqual(path.state.context.members.map((m) => m.outcome));
    }
    const show = (label: string) => describePath(r.paths.get(label)!, NORMAL);
    // The shortest witnesses, to check against group-im.kap. `run` lets time
    // pass until some participant's stage or outcome changes (the group's
    // `150 run` is p2..p4's discharge).
    expect(show('stage:journey')).toEqual(['0 p1 measure normal', '15 run']);
    expect(show('stage:sharing')).toEqual(['0 p1 measure normal', '15 run', '75 run']);
    expect(show('p1:outcome:discharged')).toEqual(['0 p1 measure normal', '15 run', '75 run', '150 run']);
    expect(show('p1:outcome:deferred')).toEqual(['15 run']); // no reading for p1 in opening: the gate fails at 15
    expect(show('p1:outcome:escalated')).toEqual(['0 p1 measure sbp=201']); // severe_hypertension
    // sbp 180 after the gate: never discharged (sbp <= 160), `not_settled` at 4 h.
    expect(show('p1:outcome:ended')).toEqual(['0 p1 measure normal', '15 run', '75 run', '75 p1 measure sbp=180', '150 run', '240 run']);
    expect(show('outcome:deferred')).toEqual(['15 run', '75 run', '150 run']);
    expect(r.paths.get('outcome:ended')!.state.output).toMatchObject({ outcome: 'ended', participant: 'p1', rule: 'not_settled' });
    expect(r.states).toBeLessThan(1_000);
  }, 60_000);
});
