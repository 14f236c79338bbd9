/**
 * The group session of LANGUAGE.md §8 (facilitator 1 per 4 participants),
 * lowered by hand, and a driver for group sessions on a SimulatedClock that
 * answers each participant's measurement requests with that participant's vitals.
 */
import { createActor, SimulatedClock } from 'xstate';
import type { IR } from '../src/ir.js';
import { createProtocolMachine, type GroupMachineOptions } from '../src/machine.js';
import type { ProtocolEmitted, ProtocolInEvent } from '../src/events.js';
import { and, bin, ev, m, n, nextDue, sp } from './fixtures.js';

export function groupIR(): IR {
  return {
    kapspecIR: 1,
    protocol: { title: 'Group IM KAP', span: sp(1, 1) },
    setting: { mode: 'group', min: 4, max: 12, span: sp(2) },
    population: {
      age: { min: 21, max: 70, span: sp(3) },
      exclude: [
        { flag: 'psychotic_disorder', span: sp(3, 30) },
        { flag: 'pregnancy', span: sp(3, 50) },
      ],
      excludeWhen: [],
      caution: [],
      span: sp(3),
    },
    roles: [
      { name: 'facilitator', min: 1, perParticipants: 4, span: sp(5) },
      { name: 'medical_provider', min: 1, qualified: 'ACLS', span: sp(6) },
    ],
    measures: [
      { name: 'sbp', unit: 'mmHg', min: 50, max: 260, span: sp(8) },
      { name: 'dbp', unit: 'mmHg', min: 30, max: 160, span: sp(8, 20) },
      { name: 'hr', unit: 'bpm', min: 20, max: 220, span: sp(8, 40) },
      { name: 'spo2', unit: '%', min: 50, max: 100, span: sp(8, 60) },
    ],
    events: ['nausea', 'vomiting', 'panic', 'request_stop'].map((name, i) => ({ name, span: sp(9, 12 + i * 10) })),
    drugs: [{ name: 'ketamine', unit: 'mg/kg', span: sp(17) }],
    sessions: [
      {
        name: 'circle',
        span: sp(11, 1),
        staffing: [
          { role: 'medical_provider', op: '>=', count: 1, during: [], span: sp(13) },
          { role: 'facilitator', op: '>=', count: 1, perParticipants: 4, during: [], span: sp(14) },
        ],
        stages: [
          {
            name: 'opening',
            duration: { exact: 20, span: sp(16, 20) },
            monitors: [{ measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'start' }, span: sp(16, 40) }],
            administer: [],
            gates: [
              {
                expr: bin('<=', m('sbp'), n(160, 'mmHg')),
                otherwise: { kind: 'defer', reason: 'pre-dose blood pressure too high', span: sp(16, 90) },
                span: sp(16, 70),
              },
            ],
            span: sp(16),
          },
          {
            name: 'journey',
            duration: { exact: 60, span: sp(17, 20) },
            monitors: [
              { measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'every', minutes: 15 }, span: sp(19) },
              { measures: ['spo2'], schedule: { kind: 'continuously' }, span: sp(20) },
            ],
            administer: [{ drug: 'ketamine', dose: { value: 1, unit: 'mg/kg' }, route: 'im', delivery: { kind: 'once' }, span: sp(18) }],
            gates: [],
            span: sp(17),
          },
          {
            name: 'sharing',
            duration: { atLeast: 45, span: sp(22, 20) },
            monitors: [{ measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'every', minutes: 15 }, span: sp(22, 40) }],
            administer: [],
            gates: [],
            span: sp(22),
          },
        ],
        discharge: { expr: and(bin('>=', { kind: 'elapsed' }, n(150, 'min')), bin('<=', m('sbp'), n(160, 'mmHg'))), span: sp(23) },
        rules: [
          { id: 'panic', when: ev('panic'), actions: [{ kind: 'attend', role: 'facilitator', within: 2, minutes: 20, span: sp(24, 20) }], span: sp(24) },
          {
            id: 'hypoxia',
            when: { kind: 'for', expr: bin('<', m('spo2'), n(90, '%')), minutes: 1 },
            actions: [{ kind: 'escalate', level: 'emergency', span: sp(25, 30) }],
            span: sp(25),
          },
          {
            id: 'vomiting',
            when: ev('vomiting'),
            actions: [{ kind: 'attend', role: 'facilitator', within: 1, minutes: 10, span: sp(26, 20) }],
            span: sp(26),
          },
          {
            id: 'stop_request',
            when: ev('request_stop'),
            actions: [{ kind: 'stop', stage: 'journey', span: sp(27, 20) }],
            span: sp(27),
          },
          {
            id: 'hypertension',
            when: { kind: 'during', expr: bin('>', m('sbp'), n(180, 'mmHg')), stages: ['journey'] },
            actions: [{ kind: 'pause', stage: 'journey', span: sp(28, 20) }],
            resume: { kind: 'for', expr: bin('<=', m('sbp'), n(160, 'mmHg')), minutes: 10 },
            span: sp(28),
          },
        ],
        asserts: [],
      },
    ],
  };
}

export const ids = (k: number) => Array.from({ length: k }, (_, i) => `p${i + 1}`);
export const people = (k: number) => ids(k).map((id) => ({ id }));

export const GROUP_NORMAL = { sbp: 128, dbp: 78, hr: 72, spo2: 97 } as const;

export interface GroupScript {
  /** Vitals of one participant at session minute t. */
  readonly vitals?: (id: string, t: number) => Record<string, number>;
  readonly events?: readonly { readonly at: number; readonly event: ProtocolInEvent }[];
  readonly until?: number;
  readonly options?: GroupMachineOptions;
}

export function startGroup(ir: IR, options: GroupMachineOptions, clock = new SimulatedClock(), snapshot?: unknown) {
  const machine = createProtocolMachine(ir, options);
  const actor = createActor(machine, { clock, ...(snapshot ? { snapshot: snapshot as never } : {}) });
  const log: ProtocolEmitted[] = [];
  const pending: { measures: readonly string[]; participant?: string }[] = [];
  actor.on('*', (e) => {
    log.push(e);
    if (e.type === 'measure.request') pending.push(e);
  });
  actor.start();
  return { clock, actor, log, pending };
}
export type GroupRun = ReturnType<typeof startGroup>;

export function driveGroup(ir: IR, script: GroupScript = {}, existing?: GroupRun): GroupRun {
  const d = existing ?? startGroup(ir, script.options ?? { participants: people(8) });
  const vitals: (id: string, t: number) => Record<string, number> = script.vitals ?? (() => ({ ...GROUP_NORMAL }));
  const until = (script.until ?? 600) * 60_000;
  const queue = [...(script.events ?? [])].sort((a, b) => a.at - b.at);
  for (let i = 0; i < 100_000 && d.actor.getSnapshot().status === 'active'; i++) {
    while (d.pending.length) {
      const r = d.pending.shift()!;
      const all = vitals(r.participant!, d.clock.now() / 60_000);
      const values = Object.fromEntries(r.measures.filter((k) => k in all).map((k) => [k, all[k]!]));
      if (Object.keys(values).length) d.actor.send({ type: 'measure', values, participant: r.participant! });
    }
    if (d.actor.getSnapshot().status !== 'active') break;
    const timer = nextDue(d.clock);
    const scripted = queue.length ? queue[0]!.at * 60_000 : null;
    const next = Math.min(timer ?? Infinity, scripted ?? Infinity, until);
    if (next === until && next <= d.clock.now()) break;
    d.clock.set(Math.max(next, d.clock.now()));
    while (queue.length && queue[0]!.at * 60_000 <= d.clock.now()) d.actor.send(queue.shift()!.event);
    if (next === until) break;
  }
  return d;
}
