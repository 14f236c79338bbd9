/**
 * Group sessions (LANGUAGE.md §7): all participants in lock-step stages, each
 * with their own observations and rule state, one shared staff pool.
 *
 * Design choice — participants are context slices, not child actors.
 * DESIGN.md sketches "one child actor per participant". We keep the actor
 * model's *isolation* (each participant's slice is a complete individual
 * session context run by the same engine.ts functions: own readings, own
 * `for`/edge rule state, own stage run, own doses, own outcome) but run the
 * slices inside the one session actor instead of spawning child machines:
 *
 * - Two participants' rules that fire at the same instant compete for one
 *   staff pool; with child actors the winner would depend on message
 *   delivery between actors. Here the group processes slices in the order
 *   the participants were given, inside one atomic step: deterministic.
 * - Lock-step needs a synchronous "is everyone ready?" decision after every
 *   step; with children it would take a round of messages per step.
 * - One JSON context persists and restores exactly with
 *   `getPersistedSnapshot()`; a tree of spawned children with their own
 *   clocks would need every child's timer restored consistently (the reason
 *   the clock is one invoked actor, see machine.ts).
 *
 * Each participant is still visible as XState state: the machine has a
 * `participants` region with one sub-state per participant (`active`, then
 * its outcome), so `snapshot.matches({ session: { participants: { p3: 'escalated' } } })`
 * works, and the per-participant slices are in `context.members`.
 *
 * Semantics
 * - Stages: a participant who has done the current stage (its duration of
 *   un-paused time passed, its gates decided, or a rule `stop`ped its part)
 *   is *ready*; the group moves on when every participant still in session
 *   is ready. A participant who pauses holds the whole group in the stage.
 *   In the last stage each participant leaves on their own `discharge when`.
 * - A participant who is deferred (gate, exclusion), ended or escalated
 *   leaves the group with that outcome; the others go on. The session is
 *   over when everyone has an outcome (see `GroupOutput`).
 * - Staff: one pool. `attend` takes one free person; staffing lines count
 *   the free pool and scale `per N participants` with the participants still
 *   in session (rounded up). A line that is violated is reported again each
 *   time the free pool shrinks further.
 */
import {
  apply,
  assignPending,
  checkStaffing,
  cloneSlice,
  participantState,
  staffState,
  type ParticipantState,
  moveOn,
  nextDeadline,
  settle,
  staffTick,
  start,
  tick,
  trimBusy,
  initialContext,
  isPaused,
  type ParticipantProfile,
  type Plan,
  type SessionContext,
  type StaffState,
} from './engine.js';
import type { GroupOutput, ProtocolEmitted, ProtocolInEvent, SessionOutput } from './events.js';
import type { Outcome } from './ir.js';

const EPS = 1e-9;

export interface GroupParticipant {
  /** The id events carry as `participant`. */
  readonly id: string;
  readonly profile?: ParticipantProfile;
}

type SharedKey = 'present' | 'busy' | 'pending' | 'lineOk' | 'violations' | 'session' | 'origin';
/** One participant's slice: an individual session context without the shared pool. */
export type Member = Omit<SessionContext, SharedKey> & { who: string };

export interface GroupContext extends StaffState {
  session: string;
  /** Clock reading (ms) at session start. */
  origin: number;
  /** Per staffing line: the free count at the last report while violated (null: the line holds). */
  lineLow: (number | null)[];
  members: Member[];
  outcome: GroupOutput | null;
}

type Out = ProtocolEmitted[];

export function groupInitial(
  p: Plan,
  origin: number,
  participants: readonly GroupParticipant[],
  staff: Readonly<Record<string, number>> | undefined,
): GroupContext {
  const n = participants.length;
  const present: Record<string, number> = {};
  for (const r of p.ir.roles) present[r.name] = staff?.[r.name] ?? r.min * (r.perParticipants ? Math.ceil(n / r.perParticipants) : 1);
  const members = participants.map((pt) => {
    const c = initialContext(p, origin, pt.profile ? { participant: pt.profile } : {}) as Partial<SessionContext>;
    for (const k of ['present', 'busy', 'pending', 'lineOk', 'violations', 'session', 'origin'] as const) delete c[k];
    return { ...(c as Member), who: pt.id };
  });
  return {
    session: p.session.name,
    origin,
    t: 0,
    stageIndex: 0,
    present,
    busy: [],
    pending: [],
    lineOk: p.session.staffing.map(() => true),
    lineLow: p.session.staffing.map(() => null),
    violations: [],
    members,
    outcome: null,
  };
}

/** A copy that the group entry points may change without touching `g` (see `cloneContext`). */
export function cloneGroup(g: GroupContext): GroupContext {
  return {
    ...g,
    present: { ...g.present },
    busy: g.busy.slice(),
    pending: g.pending.slice(),
    lineOk: g.lineOk.slice(),
    lineLow: g.lineLow.slice(),
    violations: g.violations.slice(),
    members: g.members.map((m) => cloneSlice(m)),
  };
}

/** Runs `fn` on one participant's slice with the shared pool lent to it; stamps its emitted events with the participant id. */
function withMember(g: GroupContext, m: Member, out: Out, fn: (c: SessionContext, o: Out) => void): void {
  const c = m as unknown as SessionContext;
  c.present = g.present;
  c.busy = g.busy;
  c.pending = g.pending;
  c.lineOk = g.lineOk;
  c.violations = g.violations;
  c.session = g.session;
  c.origin = g.origin;
  const o: Out = [];
  try {
    fn(c, o);
  } finally {
    g.present = c.present;
    g.busy = c.busy;
    g.pending = c.pending;
    g.violations = c.violations;
    const loose = c as Partial<SessionContext>;
    for (const k of ['present', 'busy', 'pending', 'lineOk', 'violations', 'session', 'origin'] as const) delete loose[k];
  }
  for (const e of o) {
    if (e.type === 'input.rejected' || (e as { participant?: string }).participant !== undefined) out.push(e);
    else {
      const { type, ...rest } = e;
      out.push({ type, participant: m.who, ...rest } as ProtocolEmitted);
    }
  }
}

const live = (g: GroupContext) => g.members.filter((m) => m.outcome === null);

export function groupStart(p: Plan, g: GroupContext, out: Out): void {
  for (const m of g.members) withMember(g, m, out, (c, o) => start(p, c, o));
  groupSettle(p, g, out);
}

export function groupNextDeadline(p: Plan, g: GroupContext): number | null {
  if (g.outcome) return null;
  let best: number | null = null;
  const consider = (d: number | null) => {
    if (d === null || d <= g.t + EPS) return;
    if (best === null || d < best) best = d;
  };
  for (const m of live(g)) consider(nextDeadline(p, m as unknown as SessionContext));
  for (const b of g.busy) consider(b.until);
  for (const q of g.pending) consider(q.deadline);
  return best;
}

export function groupAdvanceTo(p: Plan, g: GroupContext, t: number, out: Out): void {
  for (let guard = 0; guard < 100_000 && !g.outcome; guard++) {
    const d = groupNextDeadline(p, g);
    if (d === null || d > t + EPS) break;
    groupTick(p, g, Math.max(d, g.t), out);
  }
  if (!g.outcome && t > g.t) {
    g.t = t;
    for (const m of live(g)) if (t > m.t) m.t = t;
  }
}

function groupTick(p: Plan, g: GroupContext, d: number, out: Out): void {
  g.t = d;
  staffTick(p, g, d, out);
  for (const m of live(g)) withMember(g, m, out, (c, o) => tick(p, c, d, o));
  groupSettle(p, g, out);
}

/** Applies a validated event (a `measure`/`event` names a participant still in session). */
export function groupApply(p: Plan, g: GroupContext, e: ProtocolInEvent, out: Out): void {
  if (g.outcome) return;
  switch (e.type) {
    case 'measure':
    case 'event': {
      const m = g.members.find((x) => x.who === e.participant);
      if (!m || m.outcome) return;
      withMember(g, m, out, (c, o) => apply(p, c, e, o));
      break;
    }
    case 'staff.arrive':
      g.present[e.role] = (g.present[e.role] ?? 0) + 1;
      assignPending(p, g, out);
      for (const m of live(g)) withMember(g, m, out, (c, o) => settle(p, c, o));
      break;
    case 'staff.leave':
      g.present[e.role] = Math.max(0, (g.present[e.role] ?? 0) - 1);
      trimBusy(g, e.role);
      for (const m of live(g)) withMember(g, m, out, (c, o) => settle(p, c, o));
      break;
  }
  groupSettle(p, g, out);
}

/** Lock-step: moves everyone on when all participants in session are ready; then staffing; then the group outcome. */
function groupSettle(p: Plan, g: GroupContext, out: Out): void {
  const last = p.session.stages.length - 1;
  for (let round = 0; round < 100; round++) {
    const here = live(g);
    if (here.length === 0) break;
    g.stageIndex = here[0]!.stageIndex;
    if (g.stageIndex >= last || !here.every((m) => m.stage.ready)) break;
    for (const m of here) {
      withMember(g, m, out, (c, o) => {
        moveOn(p, c, o);
        settle(p, c, o);
      });
    }
  }
  const here = live(g);
  if (here.length > 0) {
    checkStaffing(p, g, out, here.length, g.lineLow);
    return;
  }
  g.outcome = summarize(g);
}

const SEVERITY: Record<Outcome, number> = { discharged: 0, deferred: 1, ended: 2, escalated: 3 };

function summarize(g: GroupContext): GroupOutput {
  const participants: Record<string, SessionOutput> = {};
  let worst: Member | null = null;
  let at = 0;
  for (const m of g.members) {
    const o = m.outcome!;
    participants[m.who] = o;
    at = Math.max(at, o.at);
    if (worst === null || SEVERITY[o.outcome] > SEVERITY[worst.outcome!.outcome]) worst = m;
  }
  const w = worst!.outcome!;
  if (w.outcome === 'discharged') return { outcome: 'discharged', at, participants };
  const count = g.members.filter((m) => m.outcome!.outcome === w.outcome).length;
  return {
    outcome: w.outcome,
    reason: `${count} of ${g.members.length} participants ${w.outcome}; ${worst!.who}: ${w.reason ?? w.outcome}`,
    ...(w.rule !== undefined ? { rule: w.rule } : {}),
    ...(w.span !== undefined ? { span: w.span } : {}),
    at,
    participant: worst!.who,
    participants,
  };
}

/** `sessionState(snapshot)` of a group session. */
export interface GroupSessionState {
  /** Session minutes of the last instant the machine processed. */
  readonly at: number;
  /** The group's stage. */
  readonly stage: string;
  /** The rules holding the group's stage paused, over all participants in session (each once); empty while it runs. */
  readonly paused: readonly string[];
  /** Staff present, by role (every declared role). */
  readonly present: Readonly<Record<string, number>>;
  /** Staff present and not attending anyone, by role. */
  readonly free: Readonly<Record<string, number>>;
  /** How the group session ended; absent while it runs. */
  readonly outcome?: GroupOutput;
  /** Each participant's stage, pause, doses and outcome, by id, in the order given. */
  readonly participants: Readonly<Record<string, ParticipantState>>;
}

export function groupStateOf(p: Plan, g: GroupContext): GroupSessionState {
  const participants: Record<string, ParticipantState> = {};
  const paused = new Set<string>();
  for (const m of g.members) {
    const s = participantState(p, m as unknown as SessionContext);
    participants[m.who] = s;
    if (!m.outcome) for (const r of s.paused) paused.add(r);
  }
  return {
    at: g.t,
    stage: p.session.stages[g.stageIndex]!.name,
    paused: [...paused],
    ...staffState(p, g),
    ...(g.outcome ? { outcome: g.outcome } : {}),
    participants,
  };
}

/** Whether the group's current stage is held paused: some participant in session holds it (the group waits). */
export function groupPaused(g: GroupContext): boolean {
  return live(g).some((m) => isPaused(m as unknown as SessionContext));
}
