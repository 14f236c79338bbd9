import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventClock } from '../src/index.js';
import { propertySeed } from './seed.js';

describe('EventClock', () => {
  it('knows when its next timer is due; setting the clock there fires it, and nothing later', () => {
    const c = new EventClock();
    const fired: string[] = [];
    c.setTimeout(() => fired.push('b'), 2000);
    const a = c.setTimeout(() => fired.push('a'), 1000);
    c.setTimeout(() => fired.push('c'), 3000);
    expect(c.nextDue()).toBe(1000);
    c.clearTimeout(a);
    expect(c.nextDue()).toBe(2000);
    c.set(c.nextDue()!);
    expect(fired).toEqual(['b']);
    expect(c.nextDue()).toBe(3000);
    c.set(3000);
    expect(fired).toEqual(['b', 'c']);
    expect(c.nextDue()).toBeNull();
  });

  it('property: for any start and timeout, set(nextDue()) fires the timer and nothing earlier does', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e9, noNaN: true }), fc.double({ min: 0, max: 1e8, noNaN: true }), (start, timeout) => {
        const c = new EventClock();
        c.set(start);
        let fired = 0;
        c.setTimeout(() => fired++, timeout);
        const due = c.nextDue()!;
        expect(due - start >= timeout).toBe(true);
        // The previous double is too early (unless the timer is due at once).
        const before = due - Math.max(Number.MIN_VALUE, Math.abs(due) * Number.EPSILON);
        if (before > start && before - start < timeout) {
          c.set(before);
          expect(fired).toBe(0);
        }
        c.set(due);
        expect(fired).toBe(1);
        expect(c.nextDue()).toBeNull();
      }),
      { seed: propertySeed('EventClock due'), numRuns: 500 },
    );
  });
});
