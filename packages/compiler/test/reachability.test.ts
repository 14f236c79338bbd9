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
import { allTargets, describePath, reach, replay, type ReachOptions } from './reach.js';

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

  // One stage, no gate, no rule, discharge on elapsed time only: deferred,
  // ended and escalated are unreachable in these sessions.
  it.each(['screening', 'preparation', 'integration'])('%s: its stage and discharged only', (session) => {
    check(ir, { session }, without(all(ir, session), 'outcome:deferred', 'outcome:ended', 'outcome:escalated'));
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
  // reach.ts reads the individual session context (stage, pausers, last
  // readings) to tell states apart; a group context keeps them per
  // participant. Not done yet: see the report.
  it.todo('circle: every stage and outcome, per participant');
});
