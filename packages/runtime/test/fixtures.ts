/**
 * Hand-written IR fixtures (what @kapspec/compiler will produce) and a small
 * driver that runs a session on XState's SimulatedClock, stepping to each
 * next due timer (never past it: TOOLCHAIN gotcha 9).
 */
import { createActor, SimulatedClock } from 'xstate';
import type { BinaryOp, Expr, IR, SourceSpan } from '../src/ir.js';
import { createProtocolMachine, type ProtocolMachineOptions } from '../src/machine.js';
import type { ProtocolEmitted, ProtocolInEvent } from '../src/events.js';

/** A span on line `line` of dosing.kap (offsets are nominal). */
export const sp = (line: number, column = 3): SourceSpan => ({ file: 'dosing.kap', start: line * 100, end: line * 100 + 20, line, column });

export const m = (name: string): Expr => ({ kind: 'measure', name });
export const ev = (name: string): Expr => ({ kind: 'event', name });
export const n = (value: number, unit?: string): Expr => ({ kind: 'number', value, ...(unit ? { unit } : {}) });
export const bin = (op: BinaryOp, left: Expr, right: Expr): Expr => ({ kind: 'binary', op, left, right });
export const and = (...xs: Expr[]): Expr => xs.reduce((a, b) => bin('and', a, b));
export const or = (...xs: Expr[]): Expr => xs.reduce((a, b) => bin('or', a, b));

/** The `dosing` session of LANGUAGE.md §3, lowered by hand. */
export function dosingIR(): IR {
  return {
    kapspecIR: 1,
    protocol: { title: 'Individual IV KAP', version: '1.0', span: sp(1, 1) },
    setting: { mode: 'individual' },
    population: {
      age: { min: 18, max: 75, span: sp(4) },
      exclude: [
        { flag: 'psychotic_disorder', span: sp(5, 13) },
        { flag: 'pregnancy', span: sp(5, 33) },
      ],
      excludeWhen: [{ expr: bin('>=', { kind: 'baseline', measure: 'sbp' }, n(160, 'mmHg')), span: sp(6) }],
      caution: [{ flag: 'uncontrolled_hypertension', span: sp(7, 13) }],
      span: sp(3),
    },
    roles: [
      { name: 'therapist', min: 1, max: 2, span: sp(10) },
      { name: 'medical_provider', min: 1, qualified: 'ACLS', span: sp(11) },
    ],
    measures: [
      { name: 'sbp', unit: 'mmHg', min: 50, max: 260, span: sp(14) },
      { name: 'dbp', unit: 'mmHg', min: 30, max: 160, span: sp(15) },
      { name: 'hr', unit: 'bpm', min: 20, max: 220, span: sp(16) },
      { name: 'spo2', unit: '%', min: 50, max: 100, span: sp(17) },
      { name: 'cadss', unit: 'score', min: 0, max: 92, span: sp(18) },
    ],
    events: ['nausea', 'vomiting', 'panic', 'chest_pain', 'request_stop'].map((name, i) => ({ name, span: sp(20, 12 + i * 10) })),
    drugs: [
      { name: 'ketamine', unit: 'mg/kg', span: sp(33) },
      { name: 'ondansetron', unit: 'mg', span: sp(64) },
    ],
    sessions: [
      {
        name: 'dosing',
        span: sp(22, 1),
        stages: [
          {
            name: 'predose',
            duration: { exact: 15, span: sp(28, 17) },
            monitors: [{ measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'start' }, span: sp(29, 5) }],
            administer: [],
            gates: [
              {
                expr: and(bin('<=', m('sbp'), n(160, 'mmHg')), bin('<=', m('dbp'), n(100, 'mmHg'))),
                otherwise: { kind: 'defer', reason: 'pre-dose blood pressure too high', span: sp(30, 40) },
                span: sp(30, 5),
              },
            ],
            span: sp(28),
          },
          {
            name: 'infusion',
            duration: { exact: 40, span: sp(33, 18) },
            monitors: [
              { measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'every', minutes: 5 }, span: sp(35, 5) },
              { measures: ['spo2'], schedule: { kind: 'continuously' }, span: sp(36, 5) },
              { measures: ['cadss'], schedule: { kind: 'at', minutes: 40 }, span: sp(37, 5) },
            ],
            administer: [
              { drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv', delivery: { kind: 'over', minutes: 40 }, span: sp(34, 5) },
            ],
            gates: [],
            span: sp(33),
          },
          {
            name: 'recovery',
            duration: { atLeast: 60, span: sp(40, 18) },
            monitors: [
              { measures: ['sbp', 'dbp', 'hr'], schedule: { kind: 'every', minutes: 15 }, span: sp(41, 5) },
              { measures: ['spo2'], schedule: { kind: 'continuously' }, span: sp(42, 5) },
            ],
            administer: [],
            gates: [],
            span: sp(40),
          },
        ],
        discharge: {
          expr: and(
            bin('>=', { kind: 'elapsed' }, n(120, 'min')),
            bin('<=', m('sbp'), n(160, 'mmHg')),
            bin('<=', m('dbp'), n(100, 'mmHg')),
            bin('<', m('cadss'), n(5, 'score')),
          ),
          span: sp(45),
        },
        rules: [
          {
            id: 'hypertension',
            when: { kind: 'during', expr: or(bin('>', m('sbp'), n(180, 'mmHg')), bin('>', m('dbp'), n(110, 'mmHg'))), stages: ['infusion'] },
            actions: [
              { kind: 'pause', stage: 'infusion', span: sp(49, 10) },
              { kind: 'notify', role: 'medical_provider', span: sp(49, 26) },
            ],
            resume: { kind: 'for', expr: and(bin('<=', m('sbp'), n(160, 'mmHg')), bin('<=', m('dbp'), n(100, 'mmHg'))), minutes: 10 },
            span: sp(47),
          },
          {
            id: 'severe_hypertension',
            when: bin('>', m('sbp'), n(200, 'mmHg')),
            actions: [
              { kind: 'stop', stage: 'infusion', span: sp(54, 10) },
              { kind: 'escalate', level: 'emergency', span: sp(54, 25) },
            ],
            span: sp(52),
          },
          {
            id: 'desaturation',
            when: { kind: 'for', expr: bin('<', m('spo2'), n(90, '%')), minutes: 1 },
            actions: [
              { kind: 'stop', stage: 'infusion', span: sp(58, 10) },
              { kind: 'escalate', level: 'emergency', span: sp(58, 25) },
            ],
            span: sp(56),
          },
          {
            id: 'panic',
            when: ev('panic'),
            actions: [{ kind: 'attend', role: 'therapist', within: 2, minutes: 15, span: sp(62, 10) }],
            span: sp(60),
          },
          {
            id: 'nausea',
            when: ev('nausea'),
            actions: [{ kind: 'give', drug: 'ondansetron', dose: { value: 4, unit: 'mg' }, span: sp(64, 30) }],
            span: sp(64),
          },
          {
            id: 'stop_request',
            when: ev('request_stop'),
            actions: [
              { kind: 'stop', stage: 'infusion', span: sp(65, 35) },
              { kind: 'notify', role: 'therapist', span: sp(65, 51) },
            ],
            span: sp(65),
          },
        ],
        staffing: [
          { role: 'therapist', op: '>=', count: 1, during: [], span: sp(24) },
          { role: 'medical_provider', op: '>=', count: 1, during: ['infusion', 'recovery'], span: sp(25) },
        ],
        asserts: [
          {
            name: 'terminates',
            property: {
              kind: 'eventually',
              expr: or({ kind: 'outcome', name: 'discharged' }, { kind: 'outcome', name: 'escalated' }, { kind: 'outcome', name: 'deferred' }),
              within: 240,
            },
            span: sp(69),
          },
        ],
      },
    ],
  };
}

export const NORMAL = { sbp: 128, dbp: 78, hr: 72, spo2: 97, cadss: 2 } as const;
export type Vitals = (t: number) => Record<string, number>;

export interface Script {
  readonly vitals?: Vitals;
  /** Events to send at session minutes. */
  readonly events?: readonly { readonly at: number; readonly event: ProtocolInEvent }[];
  /** Stop driving at this minute (default: 600). */
  readonly until?: number;
  readonly options?: ProtocolMachineOptions;
  /** Do not answer measurement requests. */
  readonly silent?: boolean;
}

type TimerMap = Map<number, { start: number; timeout: number }>;
export const nextDue = (clock: SimulatedClock): number | null => {
  let best: number | null = null;
  for (const t of (clock as unknown as { timeouts: TimerMap }).timeouts.values()) {
    const d = t.start + t.timeout;
    if (best === null || d < best) best = d;
  }
  return best;
};

/** Runs a session: answers every measurement request with `vitals(t)`, sends scripted events on time. */
export function drive(ir: IR, script: Script = {}, existing?: Driven) {
  const d = existing ?? start(ir, script.options ?? { session: 'dosing' });
  const vitals: Vitals = script.vitals ?? (() => ({ ...NORMAL }));
  const until = (script.until ?? 600) * 60_000;
  const queue = [...(script.events ?? [])].sort((a, b) => a.at - b.at);
  for (let i = 0; i < 100_000 && d.actor.getSnapshot().status === 'active'; i++) {
    // Answer requests made so far.
    while (d.pending.length) {
      const r = d.pending.shift()!;
      if (script.silent) continue;
      const all = vitals(d.clock.now() / 60_000);
      const values = Object.fromEntries(r.measures.filter((k) => k in all).map((k) => [k, all[k]!]));
      if (Object.keys(values).length) d.actor.send({ type: 'measure', values });
    }
    if (d.actor.getSnapshot().status !== 'active') break;
    const timer = nextDue(d.clock);
    const scripted = queue.length ? queue[0]!.at * 60_000 : null;
    const next = Math.min(timer ?? Infinity, scripted ?? Infinity, until);
    if (next === until && next <= d.clock.now()) break;
    d.clock.set(Math.max(next, d.clock.now()));
    if (scripted !== null && scripted <= d.clock.now()) d.actor.send(queue.shift()!.event);
    if (next === until) break;
  }
  return d;
}

export interface Driven {
  readonly clock: SimulatedClock;
  readonly actor: ReturnType<typeof createActor<ReturnType<typeof createProtocolMachine>>>;
  readonly log: ProtocolEmitted[];
  readonly pending: { measures: readonly string[] }[];
}

export function start(ir: IR, options: ProtocolMachineOptions, clock = new SimulatedClock(), snapshot?: unknown): Driven {
  const machine = createProtocolMachine(ir, options);
  const actor = createActor(machine, { clock, ...(snapshot ? { snapshot: snapshot as never } : {}) });
  const log: ProtocolEmitted[] = [];
  const pending: { measures: readonly string[] }[] = [];
  actor.on('*', (e) => {
    log.push(e);
    if (e.type === 'measure.request') pending.push(e);
  });
  actor.start();
  return { clock, actor, log, pending };
}

export const ofType = <T extends ProtocolEmitted['type']>(log: readonly ProtocolEmitted[], type: T) =>
  log.filter((e): e is Extract<ProtocolEmitted, { type: T }> => e.type === type);
