import { describe, expect, it } from 'vitest';
import { createActor, SimulatedClock } from 'xstate';
import { createCourseMachine, type CourseEmitted, type CourseInEvent } from '../src/course.js';
import type { IR } from '../src/ir.js';
import { dosingIR, sp } from './fixtures.js';

const DAY = 1440;

/** dosingIR plus a non-dosing screening and integration session and the course of LANGUAGE.md §2 (limit 2 per 7 days). */
function courseIR(): IR {
  const base = dosingIR();
  const dosing = base.sessions[0]!;
  const talk = (name: string) => ({ ...dosing, name, stages: [{ ...dosing.stages[0]!, gates: [] }], rules: [], staffing: [] });
  return {
    ...base,
    sessions: [talk('screening'), dosing, talk('integration')],
    course: {
      steps: [
        { session: 'screening', span: sp(80) },
        { session: 'dosing', repeat: { min: 3, max: 4 }, spacing: { min: 2 * DAY, max: 4 * DAY }, span: sp(81) },
        { session: 'integration', repeat: { min: 1, max: 2 }, span: sp(82) },
      ],
      limits: [{ session: 'dosing', count: 2, perMinutes: 7 * DAY, span: sp(83) }],
      span: sp(79),
    },
  };
}

function run(ir: IR, profile?: object) {
  const clock = new SimulatedClock();
  const actor = createActor(createCourseMachine(ir, profile ? { profile } : {}), { clock });
  const log: CourseEmitted[] = [];
  actor.on('*', (e) => log.push(e));
  actor.start();
  /** Sends `e` on day `day`. */
  const at = (day: number, e: CourseInEvent) => {
    clock.set(day * DAY * 60_000);
    const k = log.length;
    actor.send(e);
    return log.slice(k);
  };
  const session = (day: number, name: string, outcome: 'discharged' | 'deferred' | 'ended' | 'escalated' = 'discharged') => {
    const r = at(day, { type: 'session.request', session: name });
    if (r[r.length - 1]?.type === 'session.start') at(day, { type: 'session.done', outcome });
    return r;
  };
  return { actor, log, at, session };
}

const ir = courseIR();

describe('course', () => {
  it('runs the steps in order with repeats, then completes on course.end once every minimum is held', () => {
    const c = run(ir, { age: 40 });
    expect(c.session(0, 'screening')).toEqual([{ type: 'session.start', session: 'screening', step: 0, repeat: 1, dosing: false, at: 0 }]);
    expect(c.session(1, 'dosing')).toEqual([{ type: 'session.start', session: 'dosing', step: 1, repeat: 1, dosing: true, at: DAY }]);
    c.session(4, 'dosing');
    c.session(8, 'dosing');
    expect(c.actor.getSnapshot().hasTag('course:idle')).toBe(true);
    c.session(12, 'integration');
    c.at(13, { type: 'course.end' });
    const out = c.actor.getSnapshot().output!;
    expect(out).toMatchObject({ outcome: 'completed', at: 13 * DAY });
    expect(out.sessions.map((s) => `${s.at / DAY} ${s.session} ${s.outcome}`)).toEqual([
      '0 screening discharged',
      '1 dosing discharged',
      '4 dosing discharged',
      '8 dosing discharged',
      '12 integration discharged',
    ]);
  });

  it('the next session by default, and completion when the last step holds its maximum', () => {
    const c = run(ir);
    for (const [day, name] of [[0, 'screening'], [1, 'dosing'], [4, 'dosing'], [8, 'dosing'], [11, 'dosing']] as const) {
      expect(c.at(day, { type: 'session.request' })).toEqual([expect.objectContaining({ type: 'session.start', session: name })]);
      c.at(day, { type: 'session.done', outcome: 'discharged' });
    }
    // dosing has its max (4): the next is integration.
    expect(c.at(12, { type: 'session.request' })).toEqual([expect.objectContaining({ type: 'session.start', session: 'integration', repeat: 1 })]);
    c.at(12, { type: 'session.done', outcome: 'discharged' });
    c.session(13, 'integration');
    expect(c.actor.getSnapshot().output).toMatchObject({ outcome: 'completed', at: 13 * DAY });
  });

  it('refuses a session out of order, naming the step that is short', () => {
    const c = run(ir);
    expect(c.session(0, 'dosing')).toEqual([
      { type: 'session.refused', session: 'dosing', code: 'order', reason: 'dosing cannot start now: the course is at screening (held 0 of 1)', span: sp(80), at: 0 },
    ]);
    c.session(0, 'screening');
    c.session(1, 'dosing');
    expect(c.session(3, 'integration')).toEqual([
      expect.objectContaining({ code: 'order', reason: 'integration cannot start now: the course is at dosing (held 1 of 3..4)' }),
    ]);
  });

  it('refuses a session that would break `limit dosing 2 per 7 days`, saying when it may start', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing');
    c.session(3, 'dosing');
    expect(c.session(5, 'dosing')).toEqual([
      {
        type: 'session.refused',
        session: 'dosing',
        code: 'limit',
        reason: 'limit dosing 2 per 7 days: 2 already in the last 7 days',
        span: sp(83),
        notBefore: 8 * DAY,
        at: 5 * DAY,
      },
    ]);
    expect(c.actor.getSnapshot().context.sessions).toHaveLength(3);
    // The limit and the spacing (2..4 days) conflict: the earliest allowed day is 5 days after the last.
    expect(c.session(8, 'dosing')).toEqual([
      expect.objectContaining({ type: 'course.deviation', kind: 'spacing' }),
      expect.objectContaining({ type: 'session.start', repeat: 3 }),
    ]);
  });

  it('refuses a session too soon after the last of its step (spacing), and reports a late one as a deviation', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing');
    expect(c.session(2, 'dosing')).toEqual([
      expect.objectContaining({ code: 'spacing', reason: 'dosing needs at least 2 days between sessions; the last was 1 day ago', notBefore: 3 * DAY, span: sp(81) }),
    ]);
    expect(c.session(9, 'dosing')).toEqual([
      { type: 'course.deviation', kind: 'spacing', session: 'dosing', reason: '8 days since the last dosing session, more than the 4 days allowed', span: sp(81), at: 9 * DAY },
      expect.objectContaining({ type: 'session.start', session: 'dosing', repeat: 2 }),
    ]);
  });

  it('a deferred session counts for neither repeat nor limit', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing', 'deferred');
    c.session(1.5, 'dosing', 'deferred');
    expect(c.session(2, 'dosing')).toEqual([expect.objectContaining({ type: 'session.start', repeat: 1 })]);
    expect(c.session(4, 'dosing')).toEqual([expect.objectContaining({ type: 'session.start', repeat: 2 })]);
  });

  it('an escalated session ends the course', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing', 'escalated');
    expect(c.actor.getSnapshot().output).toMatchObject({ outcome: 'escalated', reason: 'dosing session 2 was escalated', at: DAY });
  });

  it('course.end before every minimum is held ends the course, naming the short step', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing');
    c.at(2, { type: 'course.end' });
    expect(c.actor.getSnapshot().output).toMatchObject({ outcome: 'ended', reason: 'ended before dosing was held 3 times (held 1)', span: sp(81) });
  });

  it('an excluded participant is never dosed: the course ends at once naming the exclusion', () => {
    for (const [profile, reason, span] of [
      [{ age: 40, flags: ['pregnancy'] }, 'participant excluded: pregnancy', sp(5, 33)],
      [{ age: 80 }, 'participant excluded: age 80 is outside 18..75', sp(4)],
      [{ age: 40, baseline: { sbp: 170 } }, 'participant excluded by a population condition', sp(6)],
    ] as const) {
      const c = run(ir, profile);
      expect(c.actor.getSnapshot().status).toBe('done');
      expect(c.actor.getSnapshot().output).toEqual({ outcome: 'excluded', reason, span, at: 0, sessions: [] });
      expect(c.log).toEqual([]);
    }
    // Eligible: a caution flag does not exclude.
    expect(run(ir, { age: 40, flags: ['uncontrolled_hypertension'] }).actor.getSnapshot().status).toBe('active');
  });

  it('rejects malformed course events with a typed refusal and changes nothing', () => {
    const c = run(ir);
    const before = c.actor.getSnapshot().context;
    expect(c.at(0, { type: 'session.request', session: 'nope' })).toEqual([
      { type: 'session.refused', code: 'malformed', reason: '"nope" is not a session of the protocol (sessions: screening, dosing, integration)', at: 0 },
    ]);
    expect(c.at(0, { type: 'session.done', outcome: 'fine' } as never)).toEqual([expect.objectContaining({ code: 'malformed' })]);
    expect(c.actor.getSnapshot().context).toBe(before);
    expect(c.at(0, { type: 'session.done', outcome: 'discharged' })).toEqual([expect.objectContaining({ code: 'no-session-running' })]);
    c.at(0, { type: 'session.request' });
    expect(c.at(0, { type: 'session.request' })).toEqual([expect.objectContaining({ code: 'session-running' })]);
    expect(c.actor.getSnapshot().hasTag('course:session')).toBe(true);
  });

  it('persists and restores', () => {
    const c = run(ir);
    c.session(0, 'screening');
    c.session(1, 'dosing');
    const snap = JSON.parse(JSON.stringify(c.actor.getPersistedSnapshot())) as never;
    const clock = new SimulatedClock();
    clock.set(2 * DAY * 60_000);
    const restored = createActor(createCourseMachine(ir), { clock, snapshot: snap }).start();
    const log: CourseEmitted[] = [];
    restored.on('*', (e) => log.push(e));
    restored.send({ type: 'session.request' });
    expect(log).toEqual([expect.objectContaining({ code: 'spacing', notBefore: 3 * DAY })]);
  });

  it('needs a course', () => {
    expect(() => createCourseMachine(dosingIR())).toThrow(/has no course/);
  });
});
