/**
 * Reachability of a protocol machine's stages and outcomes with `xstate/graph`.
 *
 * Why not hand the machine to `getShortestPaths` as it is: xstate/graph
 * explores with `machine.transition(snapshot, event, mockScope)`, which never
 * starts invoked actors, and the session's only timer is an invoked callback
 * actor (machine.ts) that sends `kapspec.wake` when the next deadline is due.
 * With the machine alone, time never passes: nothing after the first stage's
 * start is reachable. So the traversal runs the *same* machine's transition
 * function with the clock made explicit:
 *
 * - the machine is built with `now: () => now`, and a thin ActorLogic wrapper
 *   sets `now` before each transition: to the deadline for a clock tick, to
 *   the current session time for anything else (readings and events take no
 *   time);
 * - a clock tick is the event the timer itself would send,
 *   `{ type: 'kapspec.wake', at }`, with `at` the runtime's
 *   `nextDeadline(snapshot)` (the clock reading the timer is armed for);
 * - readings are chosen per measure from the thresholds the protocol
 *   compares that measure with (one value in each region between
 *   thresholds), one measure changed at a time from a normal vector;
 * - every declared event is offered in every state.
 *
 * States are identified by an abstraction (`stateKey`): the state value, the
 * session minute, gate and pause state, stopped stages, the last readings and
 * the counts of events that `count()` reads. Anything it leaves out (who is
 * busy, rule edges, `for` timers) is kept in the stored snapshot, so every
 * path found is a real run of the machine; `replay` re-runs a path on a real
 * actor with a SimulatedClock to prove it.
 */
import { createActor, SimulatedClock, type ActorLogic } from 'xstate';
import { nextTimer } from './drive.js';
import { getShortestPaths, type StatePath } from 'xstate/graph';
import {
  createProtocolMachine,
  nextDeadline,
  OUTCOMES,
  type Expr,
  type GroupMachineOptions,
  type GroupProtocolMachine,
  type IR,
  type ProtocolEmitted,
  type ProtocolInEvent,
  type ProtocolMachineOptions,
  type Session,
} from '@kapspec/runtime';

const MINUTE = 60_000;

type Machine = ReturnType<typeof createProtocolMachine>;
export type Snap = ReturnType<Machine['getInitialSnapshot']>;
/** A machine event during traversal: an input, or the timer's wake-up. */
type WakeEvent = { readonly type: 'kapspec.wake'; readonly at: number };
/**
 * A traversal step: an input event, or `kapspec.run`: time passes, deadline
 * by deadline (each a `kapspec.wake` from the timer), until the stage, a
 * pause, a gate or the outcome changes.
 */
export type StepEvent = ProtocolInEvent | { readonly type: 'kapspec.run' };

// ── Thresholds ───────────────────────────────────────────────────────────

function* subExprs(e: Expr): Generator<Expr> {
  yield e;
  switch (e.kind) {
    case 'call':
      for (const a of e.args) yield* subExprs(a);
      return;
    case 'not':
    case 'neg':
      yield* subExprs(e.operand);
      return;
    case 'binary':
      yield* subExprs(e.left);
      yield* subExprs(e.right);
      return;
    case 'for':
    case 'during':
      yield* subExprs(e.expr);
      return;
    default:
      return;
  }
}

const STATE_CHANGING = new Set(['pause', 'stop', 'endSession', 'defer', 'escalate']);

/**
 * The expressions that can move the session (a stage, a pause, a gate, the
 * outcome): gates, discharge, and the conditions of rules whose actions can.
 * A rule that only notifies, attends or gives cannot (unless some other
 * condition reads `free()` or `dose()`), so its thresholds and events are
 * left out of the traversal's choices.
 */
function movingExprs(s: Session): Expr[] {
  const base = [...s.stages.flatMap((st) => st.gates.map((g) => g.expr)), ...(s.discharge ? [s.discharge.expr] : [])];
  const calls = new Set<string>();
  const all = [...base, ...s.rules.flatMap((r) => (r.resume ? [r.when, r.resume] : [r.when]))];
  for (const root of all) for (const e of subExprs(root)) if (e.kind === 'call') calls.add(e.fn);
  const moves = (kind: string) =>
    STATE_CHANGING.has(kind) || ((kind === 'give' || kind === 'reduce') && calls.has('dose')) || (kind === 'attend' && calls.has('free'));
  return [...base, ...s.rules.filter((r) => r.actions.some((a) => moves(a.kind))).flatMap((r) => (r.resume ? [r.when, r.resume] : [r.when]))];
}

const numbers = (e: Expr): number[] => [...subExprs(e)].flatMap((x) => (x.kind === 'number' ? [x.value] : []));
const measureOf = (e: Expr): string | null => (e.kind === 'measure' ? e.name : e.kind === 'observed' ? e.measure : null);

/** Per measure, the numbers the session compares it with (`sbp > 180`, `sbp <= max(…, 140 mmHg)`). */
export function thresholds(ir: IR, session: Session): Map<string, number[]> {
  const out = new Map<string, Set<number>>();
  for (const root of movingExprs(session)) {
    for (const e of subExprs(root)) {
      if (e.kind !== 'binary' || !['<', '<=', '>', '>=', '==', '!='].includes(e.op)) continue;
      for (const [side, other] of [
        [e.left, e.right],
        [e.right, e.left],
      ] as const) {
        const m = measureOf(side);
        if (!m) continue;
        const set = out.get(m) ?? new Set<number>();
        for (const n of numbers(other)) set.add(n);
        out.set(m, set);
      }
    }
  }
  const result = new Map<string, number[]>();
  for (const decl of ir.measures) {
    const ts = [...(out.get(decl.name) ?? [])].filter((x) => x > decl.min && x < decl.max).sort((a, b) => a - b);
    result.set(decl.name, ts);
  }
  return result;
}

/** One reading in each region between a measure's thresholds (inside its declared range). */
export function representatives(ir: IR, session: Session): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [m, ts] of thresholds(ir, session)) {
    const decl = ir.measures.find((d) => d.name === m)!;
    if (ts.length === 0) continue;
    const reps = [Math.max(decl.min, ts[0]! - 1)];
    for (let i = 0; i + 1 < ts.length; i++) reps.push((ts[i]! + ts[i + 1]!) / 2);
    reps.push(Math.min(decl.max, ts[ts.length - 1]! + 1));
    out.set(m, [...new Set(reps)]);
  }
  return out;
}

/** Reading vectors: `normal`, and `normal` with one measure moved to each region. */
export function readingProfiles(ir: IR, session: Session, normal: Readonly<Record<string, number>>): Record<string, number>[] {
  const declared = new Set(ir.measures.map((m) => m.name));
  const base = Object.fromEntries(Object.entries(normal).filter(([k]) => declared.has(k)));
  const profiles: Record<string, number>[] = [base];
  const ts = thresholds(ir, session);
  const region = (m: string, x: number) => (ts.get(m) ?? []).map((t) => (x < t ? 'a' : x === t ? 'b' : 'c')).join('');
  for (const [m, reps] of representatives(ir, session)) {
    if (!(m in base)) continue;
    for (const r of reps) if (region(m, r) !== region(m, base[m]!)) profiles.push({ ...base, [m]: r });
  }
  return profiles;
}

/** Events that a moving condition reads (directly or through `count()`). */
function consequentialEvents(ir: IR, session: Session): string[] {
  const names = new Set<string>();
  for (const root of movingExprs(session)) for (const e of subExprs(root)) if (e.kind === 'event') names.add(e.name);
  return ir.events.map((e) => e.name).filter((n) => names.has(n));
}

/** Events whose number of occurrences a `count()` reads. */
function countedEvents(session: Session): string[] {
  const names = new Set<string>();
  for (const root of movingExprs(session)) {
    for (const e of subExprs(root)) {
      if (e.kind === 'call' && e.fn === 'count') for (const a of e.args) if (a.kind === 'event') names.add(a.name);
    }
  }
  return [...names];
}

// ── The traversal ────────────────────────────────────────────────────────

/** The session's next deadline (clock ms): the runtime's `nextDeadline`, read from the context (pure transitions never start the timer child). */
export function dueOf(s: Snap): number | null {
  return nextDeadline(s) ?? null;
}

export interface ReachOptions extends ProtocolMachineOptions {
  readonly session: string;
  /** A reading vector that triggers nothing: the starting point of the reading profiles. */
  readonly normal: Readonly<Record<string, number>>;
  /** Safety net for xstate/graph (TOOLCHAIN gotcha 11). */
  readonly limit?: number;
}

export interface Reach {
  readonly logic: ActorLogic<Snap, StepEvent>;
  /** Shortest path to the first state found in each stage (`stage:<name>`) and outcome (`outcome:<name>`). */
  readonly paths: Map<string, StatePath<Snap, StepEvent>>;
  /** Abstract states visited. */
  readonly states: number;
  readonly session: Session;
}

export function reach(ir: IR, options: ReachOptions): Reach {
  const { normal, limit, ...machineOptions } = options;
  const session = ir.sessions.find((s) => s.name === options.session)!;
  let now = 0;
  const machine = createProtocolMachine(ir, { ...machineOptions, now: () => now });
  const step = (s: Snap, e: ProtocolInEvent | WakeEvent, scope: unknown): Snap => {
    now = e.type === 'kapspec.wake' ? e.at : s.context.origin + s.context.t * MINUTE;
    return machine.transition(s, e as never, scope as never);
  };
  const shape = (s: Snap) => JSON.stringify([s.status, s.value, s.context.stage.gates, s.context.stage.pausers, s.context.stopped]);
  const logic: ActorLogic<Snap, StepEvent> = {
    getInitialSnapshot: (scope, input) => {
      now = 0;
      return machine.getInitialSnapshot(scope as never, input as never);
    },
    transition: (s, e, scope) => {
      if (e.type !== 'kapspec.run') return step(s, e, scope);
      // Let time pass, deadline by deadline, until the shape of the state changes.
      const before = shape(s);
      let next = s;
      for (let i = 0; i < 10_000 && next.status === 'active'; i++) {
        const due = dueOf(next);
        if (due === null) break;
        next = step(next, { type: 'kapspec.wake', at: due }, scope);
        if (shape(next) !== before) break;
      }
      return next;
    },
    getPersistedSnapshot: (s) => machine.getPersistedSnapshot(s),
  };

  const profiles = readingProfiles(ir, session, normal);
  const inputs: ProtocolInEvent[] = [
    ...profiles.map((values) => ({ type: 'measure' as const, values })),
    ...consequentialEvents(ir, session).map((name) => ({ type: 'event' as const, name })),
  ];
  const counted = countedEvents(session);
  const stateKey = (s: Snap): string => {
    const c = s.context;
    return JSON.stringify([
      s.value,
      Math.round(c.t * 1000) / 1000,
      c.stage.gates,
      c.stage.pausers,
      c.stage.minReached,
      c.stopped,
      Object.entries(c.last)
        .map(([k, v]) => `${k}=${v.value}`)
        .sort(),
      counted.map((e) => Math.min(c.counts[e] ?? 0, 3)),
    ]);
  };

  const all = getShortestPaths(logic, {
    serializeState: stateKey,
    serializeEvent: (e) => JSON.stringify(e),
    limit: limit ?? 200_000,
    events: (s) => (s.status !== 'active' ? [] : [...(dueOf(s) === null ? [] : [RUN]), ...inputs]),
  });

  const paths = new Map<string, StatePath<Snap, StepEvent>>();
  const keep = (label: string, p: StatePath<Snap, StepEvent>) => {
    const had = paths.get(label);
    if (!had || p.steps.length < had.steps.length) paths.set(label, p);
  };
  for (const p of all) {
    const s = p.state;
    if (typeof s.value === 'string' && (OUTCOMES as readonly string[]).includes(s.value)) keep(`outcome:${s.value}`, p);
    else {
      const name = session.stages[s.context.stageIndex]!.name;
      keep(`stage:${name}`, p);
      if (s.matches({ session: { stage: { [name]: 'paused' } } } as never)) keep(`paused:${name}`, p);
    }
  }
  return { logic, paths, states: all.length, session };
}

const RUN = { type: 'kapspec.run' } as const;

/** Labels `reach` can report for a session: every stage and every outcome. */
export function allTargets(session: Session): string[] {
  const paused = new Set(session.rules.flatMap((r) => r.actions.flatMap((a) => (a.kind === 'pause' ? [a.stage] : []))));
  return [
    ...session.stages.flatMap((s) => [`stage:${s.name}`, ...(paused.has(s.name) ? [`paused:${s.name}`] : [])]),
    ...OUTCOMES.map((o) => `outcome:${o}`),
  ];
}

/**
 * Re-runs a path on a real actor (its own invoked timer, a SimulatedClock):
 * `kapspec.run` becomes stepping the clock to each due timer up to the minute
 * the traversal's step ended at, anything else `actor.send`. Returns the
 * actor's final snapshot value and output, and the emitted events.
 */
export function replay(ir: IR, options: ProtocolMachineOptions, path: StatePath<Snap, StepEvent>) {
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, options), { clock });
  const log: ProtocolEmitted[] = [];
  actor.on('*', (e) => log.push(e));
  actor.start();
  for (const step of path.steps) {
    const e = step.event as StepEvent | { type: 'xstate.init' };
    if (e.type === 'kapspec.run') {
      const target = step.state.context.origin + step.state.context.t * MINUTE;
      for (let due = nextTimer(clock); due !== null && due <= target; due = nextTimer(clock)) clock.set(due);
      if (clock.now() < target) clock.set(target);
    } else if (e.type !== 'xstate.init') actor.send(e);
  }
  const snap = actor.getSnapshot();
  actor.stop();
  return { value: snap.value, output: snap.output, context: snap.context, log };
}

/** A path as readable steps: `"0 measure sbp=190"`, `"15 run"` (time passed to minute 15), `"20 event panic"`. */
export function describePath(path: StatePath<Snap | GroupSnap, StepEvent>, normal: Readonly<Record<string, number>>): string[] {
  return path.steps.flatMap((step) => {
    const e = step.event as StepEvent | { type: 'xstate.init' };
    const t = Math.round(step.state.context.t * 1000) / 1000;
    const who = 'participant' in e && e.participant !== undefined ? `${e.participant} ` : '';
    switch (e.type) {
      case 'kapspec.run':
        return [`${t} run`];
      case 'measure': {
        const diff = Object.entries(e.values).filter(([k, v]) => normal[k] !== v);
        return [`${t} ${who}measure ${diff.length ? diff.map(([k, v]) => `${k}=${v}`).join(',') : 'normal'}`];
      }
      case 'event':
        return [`${t} ${who}event ${e.name}`];
      default:
        return [];
    }
  });
}

// ── Group sessions ───────────────────────────────────────────────────────
//
// The same wrapper over a group machine. The group context keeps one slice
// per participant (`context.members`, group.ts); the state key reads the
// group's stage and minute and each participant's outcome, stage, gates,
// pause and readers' state. Readings and events are explored for one
// participant (`subject`); every other participant is given the `normal`
// reading vector once, at the start (a real actor gets the same three sends
// right after `start()`): the engine keeps the last observed value (nothing
// goes stale), the opening gate reads readings taken in its stage (they are,
// at minute 0), and no condition on a constant normal vector ever fires, so
// answering each later `measure.request` with the same vector would change
// nothing but `last.at`.

export interface GroupReachOptions extends Omit<GroupMachineOptions, 'now'> {
  readonly session: string;
  /** The participant whose readings and events are explored (default: the first). */
  readonly subject?: string;
  readonly normal: Readonly<Record<string, number>>;
  readonly limit?: number;
}

export type GroupSnap = ReturnType<GroupProtocolMachine['getInitialSnapshot']>;

export interface GroupReach {
  readonly logic: ActorLogic<GroupSnap, StepEvent>;
  /**
   * Shortest path to the first state found for each label: `stage:<name>`
   * (the group's stage, while the subject is in session),
   * `<subject>:outcome:<name>` (the subject's own outcome) and
   * `outcome:<name>` (the group's, once everyone has left).
   */
  readonly paths: Map<string, StatePath<GroupSnap, StepEvent>>;
  readonly states: number;
  readonly session: Session;
}

/** The `measure` events that give every participant but `subject` the normal vector. */
function othersNormal(ir: IR, options: GroupReachOptions, subject: string): ProtocolInEvent[] {
  const declared = new Set(ir.measures.map((m) => m.name));
  const values = Object.fromEntries(Object.entries(options.normal).filter(([k]) => declared.has(k)));
  return options.participants.filter((p) => p.id !== subject).map((p) => ({ type: 'measure' as const, values, participant: p.id }));
}

export function reachGroup(ir: IR, options: GroupReachOptions): GroupReach {
  const { normal, limit, subject: subjectOption, ...machineOptions } = options;
  const subject = subjectOption ?? options.participants[0]!.id;
  const session = ir.sessions.find((s) => s.name === options.session)!;
  let now = 0;
  const machine = createProtocolMachine(ir, { ...machineOptions, now: () => now });
  const step = (s: GroupSnap, e: ProtocolInEvent | WakeEvent, scope: unknown): GroupSnap => {
    now = e.type === 'kapspec.wake' ? e.at : s.context.origin + s.context.t * MINUTE;
    return machine.transition(s, e as never, scope as never);
  };
  const members = (s: GroupSnap) => s.context.members;
  const shape = (s: GroupSnap) =>
    JSON.stringify([s.status, s.value, members(s).map((m) => [m.stageIndex, m.stage.gates, m.stage.pausers, m.stopped, m.outcome?.outcome ?? null])]);
  const start = othersNormal(ir, options, subject);
  const logic: ActorLogic<GroupSnap, StepEvent> = {
    getInitialSnapshot: (scope, input) => {
      now = 0;
      let s = machine.getInitialSnapshot(scope as never, input as never);
      for (const e of start) s = step(s, e, scope);
      return s;
    },
    transition: (s, e, scope) => {
      if (e.type !== 'kapspec.run') return step(s, e, scope);
      const before = shape(s);
      let next = s;
      for (let i = 0; i < 10_000 && next.status === 'active'; i++) {
        const due = nextDeadline(next) ?? null;
        if (due === null) break;
        next = step(next, { type: 'kapspec.wake', at: due }, scope);
        if (shape(next) !== before) break;
      }
      return next;
    },
    getPersistedSnapshot: (s) => machine.getPersistedSnapshot(s),
  };

  const inputs: ProtocolInEvent[] = [
    ...readingProfiles(ir, session, normal).map((values) => ({ type: 'measure' as const, values, participant: subject })),
    ...consequentialEvents(ir, session).map((name) => ({ type: 'event' as const, name, participant: subject })),
  ];
  const counted = countedEvents(session);
  const stateKey = (s: GroupSnap): string =>
    JSON.stringify([
      s.value,
      Math.round(s.context.t * 1000) / 1000,
      members(s).map((c) => [
        c.who,
        c.outcome?.outcome ?? null,
        c.stageIndex,
        c.stage.gates,
        c.stage.pausers,
        c.stage.ready,
        c.stage.minReached,
        c.stopped,
        // Only the subject's readings vary; the others' are the normal vector.
        c.who === subject
          ? Object.entries(c.last)
              .map(([k, v]) => `${k}=${v.value}`)
              .sort()
          : null,
        counted.map((e) => Math.min(c.counts[e] ?? 0, 3)),
      ]),
    ]);
  const subjectIn = (s: GroupSnap) => members(s).find((m) => m.who === subject)!.outcome === null;

  const all = getShortestPaths(logic, {
    serializeState: stateKey,
    serializeEvent: (e) => JSON.stringify(e),
    limit: limit ?? 200_000,
    events: (s) => (s.status !== 'active' ? [] : [...(nextDeadline(s) === undefined ? [] : [RUN]), ...(subjectIn(s) ? inputs : [])]),
  });

  const paths = new Map<string, StatePath<GroupSnap, StepEvent>>();
  const keep = (label: string, p: StatePath<GroupSnap, StepEvent>) => {
    const had = paths.get(label);
    if (!had || p.steps.length < had.steps.length) paths.set(label, p);
  };
  for (const p of all) {
    const s = p.state;
    const me = members(s).find((m) => m.who === subject)!;
    if (me.outcome) keep(`${subject}:outcome:${me.outcome.outcome}`, p);
    else keep(`stage:${session.stages[s.context.stageIndex]!.name}`, p);
    if (typeof s.value === 'string' && (OUTCOMES as readonly string[]).includes(s.value)) keep(`outcome:${s.value}`, p);
  }
  return { logic, paths, states: all.length, session };
}

/** `replay` for a group path: the same start (the others' normal readings), then the path's steps. */
export function replayGroup(ir: IR, options: Omit<GroupReachOptions, 'limit'>, path: StatePath<GroupSnap, StepEvent>) {
  const { normal: _normal, subject: subjectOption, ...machineOptions } = options;
  const subject = subjectOption ?? options.participants[0]!.id;
  const clock = new SimulatedClock();
  const actor = createActor(createProtocolMachine(ir, machineOptions), { clock });
  const log: ProtocolEmitted[] = [];
  actor.on('*', (e) => log.push(e));
  actor.start();
  for (const e of othersNormal(ir, options as GroupReachOptions, subject)) actor.send(e);
  for (const step of path.steps) {
    const e = step.event as StepEvent | { type: 'xstate.init' };
    if (e.type === 'kapspec.run') {
      const target = step.state.context.origin + step.state.context.t * MINUTE;
      for (let due = nextTimer(clock); due !== null && due <= target; due = nextTimer(clock)) clock.set(due);
      if (clock.now() < target) clock.set(target);
    } else if (e.type !== 'xstate.init') actor.send(e);
  }
  const snap = actor.getSnapshot();
  actor.stop();
  return { value: snap.value, output: snap.output, context: snap.context, log };
}
