/**
 * The course of a protocol (LANGUAGE.md §2 `course`): its sessions in order,
 * each step repeated `min..max` times with `spacing` between the sessions of
 * a step, under `limit <session> N per T`, for one participant profile.
 *
 * The course does not run sessions itself: the environment (simulator or
 * app) asks to start one (`session.request`), runs it with
 * `createProtocolMachine`, and reports how it ended (`session.done`). The
 * course answers every request with `session.start` or `session.refused`
 * (a typed reason). Pure functions over a JSON context (as engine.ts), and
 * `createCourseMachine` wraps them in an XState machine.
 *
 * Semantics
 * - Order: a request names the current step's session (another of its
 *   repeats, while fewer than `max` were held) or the next step's session
 *   (allowed once the current step has its `min`; steps in between with
 *   `min` 0 may be skipped). Anything else is refused (`order`).
 * - A session that ends `deferred` did not happen (nothing was given): it
 *   counts for neither `repeat` nor `limit`, and may be requested again.
 *   `discharged` and `ended` count. `escalated` ends the course (outcome
 *   `escalated`): it needs a clinical decision, not the next session.
 * - Spacing (between consecutive counted sessions of one step): too early is
 *   refused (`spacing`); later than the maximum is allowed and reported as a
 *   `course.deviation`.
 * - Limit: a session is refused (`limit`) if starting it now would make more
 *   than N counted or running sessions of that name start within any window
 *   of T. The refusal says when the next one may start.
 * - Population: the profile is checked when the course starts. An excluded
 *   participant never starts a dosing session (a session with an
 *   `administer` line): the course ends at once with outcome `excluded`,
 *   naming the line (reason and span); the machine is then done. (The pure
 *   `courseApply` refuses any later request with code `excluded`.)
 * - The course completes when the last step has held its `max`, or on
 *   `course.end` once every step has its `min` (otherwise `course.end`
 *   gives `ended`, naming the step left short).
 */
import { enqueueActions, setup } from 'xstate';
import { populationExclusion, type ParticipantProfile } from './engine.js';
import type { IR, Outcome, SourceSpan } from './ir.js';
import { IRError } from './load.js';

// ── Events ───────────────────────────────────────────────────────────────

export interface SessionRequestEvent {
  readonly type: 'session.request';
  /** The session to start. Default: the next one the course expects. */
  readonly session?: string;
}
export interface SessionDoneEvent {
  readonly type: 'session.done';
  readonly outcome: Outcome;
}
export interface CourseEndEvent {
  readonly type: 'course.end';
}
export type CourseInEvent = SessionRequestEvent | SessionDoneEvent | CourseEndEvent;

export type RefusalCode = 'excluded' | 'order' | 'limit' | 'spacing' | 'session-running' | 'no-session-running' | 'course-over' | 'malformed';

export type CourseEmitted =
  | { readonly type: 'session.start'; readonly session: string; readonly step: number; readonly repeat: number; readonly dosing: boolean; readonly at: number }
  | {
      readonly type: 'session.refused';
      readonly session?: string;
      readonly code: RefusalCode;
      readonly reason: string;
      readonly span?: SourceSpan;
      /** `limit`/`spacing`: the earliest course minute at which the session may start. */
      readonly notBefore?: number;
      readonly at: number;
    }
  | { readonly type: 'course.deviation'; readonly kind: 'spacing'; readonly session: string; readonly reason: string; readonly span: SourceSpan; readonly at: number };

export interface CourseOutput {
  readonly outcome: 'completed' | 'excluded' | 'ended' | 'escalated';
  readonly reason?: string;
  readonly span?: SourceSpan;
  /** Course minutes. */
  readonly at: number;
  readonly sessions: readonly HeldSession[];
}

export interface HeldSession {
  readonly session: string;
  readonly step: number;
  /** Course minutes at which it started. */
  readonly at: number;
  /** How it ended; absent while it runs. */
  readonly outcome?: Outcome;
}

export interface CourseContext {
  origin: number;
  t: number;
  profile: ParticipantProfile | null;
  step: number;
  /** Counted sessions per step. */
  counts: number[];
  sessions: HeldSession[];
  running: boolean;
  outcome: CourseOutput | null;
}

type Out = CourseEmitted[];

const EPS = 1e-9;

// ── Pure functions ───────────────────────────────────────────────────────

function courseOf(ir: IR) {
  if (!ir.course) throw new IRError('invalid', '$.course', `"${ir.protocol.title}" has no course`);
  return ir.course;
}

const isDosing = (ir: IR, name: string) => ir.sessions.find((s) => s.name === name)?.stages.some((st) => st.administer.length > 0) ?? false;
const repeatOf = (ir: IR, i: number) => courseOf(ir).steps[i]!.repeat ?? { min: 1, max: 1 };

export function courseInitial(ir: IR, origin: number, profile: ParticipantProfile | undefined): CourseContext {
  const course = courseOf(ir);
  return { origin, t: 0, profile: profile ?? null, step: 0, counts: course.steps.map(() => 0), sessions: [], running: false, outcome: null };
}

/** Starts the course: the population check. */
export function courseStart(ir: IR, c: CourseContext): void {
  const course = courseOf(ir);
  if (!c.profile || !course.steps.some((s) => isDosing(ir, s.session))) return;
  const x = populationExclusion(ir, c.profile);
  if (x) c.outcome = { outcome: 'excluded', reason: x.reason, span: x.span, at: c.t, sessions: [] };
}

export function courseApply(ir: IR, c: CourseContext, e: CourseInEvent, out: Out): void {
  const refuse = (code: RefusalCode, reason: string, extra: { session?: string; span?: SourceSpan; notBefore?: number } = {}): void => {
    out.push({ type: 'session.refused', ...(extra.session !== undefined ? { session: extra.session } : {}), code, reason, ...(extra.span ? { span: extra.span } : {}), ...(extra.notBefore !== undefined ? { notBefore: extra.notBefore } : {}), at: c.t });
  };
  if (c.outcome) {
    if (e.type === 'session.request') {
      const o = c.outcome;
      refuse(o.outcome === 'excluded' ? 'excluded' : 'course-over', o.outcome === 'excluded' ? `${o.reason}: no session starts` : `the course is over (${o.outcome})`, {
        ...(e.session !== undefined ? { session: e.session } : {}),
        ...(o.span ? { span: o.span } : {}),
      });
    }
    return;
  }
  switch (e.type) {
    case 'session.request':
      return request(ir, c, e.session, out, refuse);
    case 'session.done': {
      if (!c.running) return refuse('no-session-running', 'no session of the course is running');
      const last = c.sessions[c.sessions.length - 1]!;
      c.sessions[c.sessions.length - 1] = { ...last, outcome: e.outcome };
      c.running = false;
      if (e.outcome !== 'deferred') c.counts[last.step]! += 1;
      if (e.outcome === 'escalated') {
        finish(c, { outcome: 'escalated', reason: `${last.session} session ${c.sessions.length} was escalated`, at: c.t });
        return;
      }
      const steps = courseOf(ir).steps;
      if (last.step === steps.length - 1 && c.counts[last.step]! >= repeatOf(ir, last.step).max) finish(c, { outcome: 'completed', at: c.t });
      return;
    }
    case 'course.end': {
      if (c.running) return refuse('session-running', 'a session is running: report how it ended (session.done) first');
      const steps = courseOf(ir).steps;
      const short = steps.findIndex((s, i) => c.counts[i]! < repeatOf(ir, i).min);
      if (short < 0) finish(c, { outcome: 'completed', at: c.t });
      else {
        const s = steps[short]!;
        finish(c, { outcome: 'ended', reason: `ended before ${s.session} was held ${repeatOf(ir, short).min} times (held ${c.counts[short]})`, span: s.span, at: c.t });
      }
      return;
    }
  }
}

function finish(c: CourseContext, o: Omit<CourseOutput, 'sessions'>): void {
  c.outcome = { ...o, sessions: c.sessions };
}

function request(
  ir: IR,
  c: CourseContext,
  name: string | undefined,
  out: Out,
  refuse: (code: RefusalCode, reason: string, extra?: { session?: string; span?: SourceSpan; notBefore?: number }) => void,
): void {
  const course = courseOf(ir);
  const steps = course.steps;
  const at = name !== undefined ? { session: name } : {};
  if (c.running) return refuse('session-running', 'a session is running: report how it ended (session.done) first', at);
  // Which step would this session be? The current one (if it has repeats left), else a later one reachable over steps already at their minimum.
  let step = -1;
  for (let i = c.step; i < steps.length; i++) {
    const s = steps[i]!;
    const fits = (name === undefined || s.session === name) && c.counts[i]! < repeatOf(ir, i).max;
    if (fits) {
      step = i;
      break;
    }
    if (c.counts[i]! < repeatOf(ir, i).min) break;
  }
  if (step < 0) {
    const cur = steps[c.step]!;
    const need = repeatOf(ir, c.step);
    const why =
      c.counts[c.step]! < need.min
        ? `the course is at ${cur.session} (held ${c.counts[c.step]} of ${need.min}${need.max !== need.min ? `..${need.max}` : ''})`
        : `${name ?? 'no session'} is not next in the course`;
    return refuse('order', `${name ?? 'the next session'} cannot start now: ${why}`, { ...at, span: cur.span });
  }
  const s = steps[step]!;
  // Spacing: from the previous counted session of this step.
  const prev = [...c.sessions].reverse().find((h) => h.step === step && h.outcome !== undefined && h.outcome !== 'deferred');
  if (s.spacing && prev) {
    const gap = c.t - prev.at;
    if (gap < s.spacing.min - EPS) {
      return refuse('spacing', `${s.session} needs at least ${days(s.spacing.min)} between sessions; the last was ${days(gap)} ago`, {
        session: s.session,
        span: s.span,
        notBefore: prev.at + s.spacing.min,
      });
    }
    if (gap > s.spacing.max + EPS) {
      out.push({ type: 'course.deviation', kind: 'spacing', session: s.session, reason: `${days(gap)} since the last ${s.session} session, more than the ${days(s.spacing.max)} allowed`, span: s.span, at: c.t });
    }
  }
  // Limits: counted or running sessions of this name in the window ending now.
  for (const l of course.limits) {
    if (l.session !== s.session) continue;
    const held = c.sessions.filter((h) => h.session === l.session && h.outcome !== 'deferred' && h.at > c.t - l.perMinutes + EPS).map((h) => h.at);
    if (held.length >= l.count) {
      const notBefore = held.sort((a, b) => a - b)[held.length - l.count]! + l.perMinutes;
      return refuse('limit', `limit ${l.session} ${l.count} per ${days(l.perMinutes)}: ${held.length} already in the last ${days(l.perMinutes)}`, {
        session: s.session,
        span: l.span,
        notBefore,
      });
    }
  }
  c.step = step;
  c.running = true;
  c.sessions.push({ session: s.session, step, at: c.t });
  out.push({ type: 'session.start', session: s.session, step, repeat: c.counts[step]! + 1, dosing: isDosing(ir, s.session), at: c.t });
}

function days(minutes: number): string {
  const d = minutes / 1440;
  if (Number.isInteger(d)) return `${d} day${d === 1 ? '' : 's'}`;
  const h = minutes / 60;
  return Number.isInteger(h * 10) ? `${h} h` : `${Math.round(minutes)} min`;
}

/** Checks a course event; the machine refuses bad ones with `session.refused` (code `malformed`) and changes nothing. */
export function validateCourseEvent(ir: IR, e: unknown): string | null {
  if (typeof e !== 'object' || e === null) return 'an event must be an object with a "type"';
  const x = e as Record<string, unknown>;
  switch (x.type) {
    case 'session.request':
      if (x.session !== undefined && (typeof x.session !== 'string' || !ir.sessions.some((s) => s.name === x.session))) {
        return `"${String(x.session)}" is not a session of the protocol (sessions: ${ir.sessions.map((s) => s.name).join(', ')})`;
      }
      return null;
    case 'session.done':
      return ['discharged', 'deferred', 'ended', 'escalated'].includes(x.outcome as string) ? null : `"session.done" needs an outcome: discharged, deferred, ended or escalated`;
    case 'course.end':
      return null;
    default:
      return `unknown event type ${JSON.stringify(x.type)}: expected "session.request", "session.done" or "course.end"`;
  }
}

// ── Machine ──────────────────────────────────────────────────────────────

export interface CourseMachineOptions {
  readonly profile?: ParticipantProfile;
  /** Clock reading in ms. Default: the actor clock's `now()` if it has one, else `Date.now()`. */
  readonly now?: () => number;
}

const MINUTE = 60_000;

/**
 * `createCourseMachine(ir, { profile })`: states `active.idle` /
 * `active.session` (tags `course:idle`, `course:session`), final states
 * `completed`, `excluded`, `ended`, `escalated`; output `CourseOutput`.
 */
export function createCourseMachine(ir: IR, options: CourseMachineOptions = {}) {
  courseOf(ir);
  const readNow = (self: unknown): number => {
    if (options.now) return options.now();
    const clock = (self as { clock?: { now?: unknown } } | undefined)?.clock;
    return typeof clock?.now === 'function' ? (clock.now as () => number)() : Date.now();
  };
  const step = (c: CourseContext, self: unknown, e: CourseInEvent | null, out: Out) => {
    const t = (readNow(self) - c.origin) / MINUTE;
    if (t > c.t) c.t = t;
    if (e) courseApply(ir, c, e, out);
  };
  const finals = ['completed', 'excluded', 'ended', 'escalated'] as const;
  return setup({
    types: {
      context: {} as CourseContext,
      events: {} as CourseInEvent,
      emitted: {} as CourseEmitted,
      output: {} as CourseOutput,
    },
    guards: {
      invalid: ({ event }) => validateCourseEvent(ir, event) !== null,
      running: ({ context }) => context.running,
      idle: ({ context }) => !context.running,
      outcomeIs: ({ context }, params: { outcome: string }) => context.outcome?.outcome === params.outcome,
    },
    actions: {
      start: enqueueActions(({ context, enqueue }) => {
        const c = structuredClone(context);
        courseStart(ir, c);
        enqueue.assign(() => c);
      }),
      input: enqueueActions(({ context, event, enqueue, self }) => {
        const c = structuredClone(context);
        const out: Out = [];
        step(c, self, event, out);
        enqueue.assign(() => c);
        for (const e of out) enqueue.emit(e);
      }),
      reject: enqueueActions(({ context, event, enqueue, self }) => {
        const reason = validateCourseEvent(ir, event);
        if (reason === null) return;
        enqueue.emit({ type: 'session.refused', code: 'malformed', reason, at: Math.max(context.t, (readNow(self) - context.origin) / MINUTE) });
      }),
    },
  }).createMachine({
    id: 'kapspec-course',
    context: ({ self }) => courseInitial(ir, readNow(self), options.profile),
    initial: 'active',
    output: ({ context }) => context.outcome as CourseOutput,
    states: {
      active: {
        entry: 'start',
        initial: 'idle',
        always: finals.map((o) => ({ guard: { type: 'outcomeIs' as const, params: { outcome: o } }, target: `#kapspec-course.${o}` })),
        on: {
          'session.request': [{ guard: 'invalid', actions: 'reject' }, { actions: 'input' }],
          'session.done': [{ guard: 'invalid', actions: 'reject' }, { actions: 'input' }],
          'course.end': [{ guard: 'invalid', actions: 'reject' }, { actions: 'input' }],
        },
        states: {
          idle: { tags: ['course:idle'], always: { guard: 'running', target: 'session' } },
          session: { tags: ['course:session'], always: { guard: 'idle', target: 'idle' } },
        },
      },
      ...Object.fromEntries(finals.map((o) => [o, { type: 'final' as const, tags: [`outcome:${o}`] }])),
    },
  });
}

export type CourseMachine = ReturnType<typeof createCourseMachine>;
