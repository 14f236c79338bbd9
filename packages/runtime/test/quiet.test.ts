/**
 * `quietReading`: the engine applies a reading without a full step when it
 * can tell that nothing but the observation changes. Whatever the inputs,
 * trying it first (and taking the full step when it declines) must leave
 * the context and the emitted events exactly as the full step alone does.
 * The simulator's stepper test checks the same end to end, against the
 * XState actor, on every example.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareValues, compileExpr, type EvalEnv } from '../src/eval.js';
import { createSessionEngine, loadIR, type Expr, type IR, type ProtocolEmitted, type ProtocolInEvent, type QuietRange, type SessionContext } from '../src/index.js';
import { dosingIR } from './fixtures.js';
import { groupIR, people } from './fixtures-group.js';

const SEED = 20261127;
const exampleIR = (): IR => loadIR(JSON.parse(readFileSync(new URL('./fixtures/individual-iv.ir.json', import.meta.url), 'utf8')));

const participant = { id: 'p1', age: 40, weightKg: 70, flags: [], baseline: { sbp: 128, dbp: 80, hr: 72, spo2: 97 } };

// Mostly unremarkable readings (the same side of every threshold: quiet), sometimes ones that cross one.
const values = (sbp: [number, number], dbp: [number, number], spo2: [number, number], cadss: [number, number]) =>
  fc.record(
    {
      sbp: fc.integer({ min: sbp[0], max: sbp[1] }),
      dbp: fc.integer({ min: dbp[0], max: dbp[1] }),
      hr: fc.integer({ min: 60, max: 100 }),
      spo2: fc.integer({ min: spo2[0], max: spo2[1] }),
      cadss: fc.integer({ min: cadss[0], max: cadss[1] }),
    },
    { requiredKeys: [] },
  );
const reading = fc.oneof(
  { weight: 10, arbitrary: values([118, 135], [70, 85], [94, 100], [0, 4]) },
  { weight: 1, arbitrary: values([100, 210], [60, 115], [85, 100], [0, 50]) },
  // Readings `check` rejects: out of range, not finite, not a number.
  { weight: 1, arbitrary: fc.record({ spo2: fc.constantFrom<unknown>(101, 49, Number.NaN, Infinity, '97', null) }).map((v) => v as Record<string, number>) },
  { weight: 1, arbitrary: fc.constant({}) },
);
const input = fc.oneof(
  { weight: 8, arbitrary: reading.map((values): ProtocolInEvent => ({ type: 'measure', values })) },
  { weight: 1, arbitrary: fc.constantFrom('panic', 'nausea', 'vomiting').map((name): ProtocolInEvent => ({ type: 'event', name })) },
  { weight: 1, arbitrary: fc.constantFrom<ProtocolInEvent>({ type: 'staff.leave', role: 'therapist' }, { type: 'staff.arrive', role: 'therapist' }) },
);
// Minutes between inputs: often none (several at one instant), mostly one, sometimes a long gap past deadlines.
const gap = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 2, max: 40 }) });

/**
 * Runs `inputs` on one engine, full steps only or quiet readings first; returns each step's context
 * and output. With `copyAt`, the context is replaced by `copy(context)` before input `copyAt`.
 */
function run(
  ir: IR,
  inputs: readonly (readonly [number, ProtocolInEvent])[],
  quietFirst: boolean | 'range' | 'held',
  copyAt = -1,
  copy: (c: SessionContext) => SessionContext = structuredClone,
): { steps: string[]; quiet: number; ranged: number } {
  const engine = createSessionEngine(ir, { session: 'dosing', participant });
  let c = engine.init(0) as SessionContext;
  const steps: string[] = [];
  let quiet = 0;
  let ranged = 0;
  let t = 0;
  const out: ProtocolEmitted[] = [];
  // 'range' and 'held': a single reading is offered to `quietRange` first ('held' applies only the
  // last of a row of accepted readings, just before the next full step, as the simulator does).
  let range: QuietRange | null = null;
  let rangeOf: string | undefined;
  let held: { range: QuietRange; measure: string; value: number; t: number } | null = null;
  const flush = () => {
    if (held !== null) held.range.apply(held.value, held.t);
    held = null;
  };
  // The context as it stands, the reading held back included (applied to a copy, as `apply` does).
  const view = (): SessionContext => {
    if (held === null) return c;
    const x = structuredClone(c);
    if (held.t > x.t) x.t = held.t;
    x.last[held.measure] = { value: held.value, at: x.t };
    return x;
  };
  const offer = (e: ProtocolInEvent): boolean => {
    if ((quietFirst !== 'range' && quietFirst !== 'held') || e.type !== 'measure') return false;
    const names = Object.keys(e.values);
    if (names.length !== 1) return false;
    const name = names[0]!;
    if (name !== rangeOf) {
      flush();
      range = engine.quietRange(c, name);
      rangeOf = name;
    }
    if (range === null || !range.accepts(e.values[name]!, t)) return false;
    if (quietFirst === 'range') range.apply(e.values[name]!, t);
    else held = { range, measure: name, value: e.values[name]!, t };
    return true;
  };
  engine.start(c, out);
  for (const [i, [dt, e]] of inputs.entries()) {
    t += dt;
    if (i === copyAt) c = copy(c);
    if (engine.outcome(c) !== null) break;
    if (offer(e)) ranged++;
    // Tried before `check`: a reading `check` rejects is never quiet.
    else if (quietFirst !== false && e.type === 'measure' && (flush(), engine.quietReading(c, e.values, t))) quiet++;
    else {
      flush();
      rangeOf = undefined;
      if (!engine.check(c, e).ok) continue;
      engine.advanceTo(c, t, out);
      engine.apply(c, e, out);
    }
    steps.push(JSON.stringify([view(), out]));
  }
  flush();
  steps.push(JSON.stringify([c, out]));
  return { steps, quiet, ranged };
}

describe('quietReading', () => {
  for (const [name, ir] of [
    ['hand-lowered dosing session', dosingIR()],
    ['individual-iv example', exampleIR()],
  ] as const) {
    it(`${name}: trying it first changes nothing (property, seed ${SEED})`, () => {
      let quiet = 0;
      fc.assert(
        fc.property(fc.array(fc.tuple(gap, input), { minLength: 1, maxLength: 120 }), (inputs) => {
          const full = run(ir, inputs, false);
          const fast = run(ir, inputs, true);
          expect(fast.steps).toEqual(full.steps);
          quiet += fast.quiet;
        }),
        { seed: SEED, numRuns: 200 },
      );
      // The shortcut was taken, or this test would prove nothing.
      console.log(`quiet readings: ${quiet}`);
      expect(quiet).toBeGreaterThan(100);
    });

    it(`${name}: quietRange, applied at once or only the last of a row, changes nothing (property, seed ${SEED})`, () => {
      // Rows of one measure read every minute (a pulse oximeter), now and then something else.
      const oximeter = fc.oneof(
        { weight: 24, arbitrary: fc.integer({ min: 93, max: 100 }).map((spo2): ProtocolInEvent => ({ type: 'measure', values: { spo2 } })) },
        { weight: 2, arbitrary: fc.integer({ min: 85, max: 92 }).map((spo2): ProtocolInEvent => ({ type: 'measure', values: { spo2 } })) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(101, 49, Number.NaN, '97').map((spo2) => ({ type: 'measure', values: { spo2 } }) as ProtocolInEvent) },
        { weight: 2, arbitrary: input },
      );
      // Each run starts with every measure read (the pre-dose gate decided): rows can then be quiet.
      const first: readonly [number, ProtocolInEvent] = [0, { type: 'measure', values: { sbp: 122, dbp: 78, hr: 70, spo2: 97, cadss: 1 } }];
      let taken = 0;
      fc.assert(
        fc.property(fc.array(fc.tuple(gap, oximeter), { minLength: 1, maxLength: 150 }).map((rest) => [first, ...rest]), (inputs) => {
          const full = run(ir, inputs, false);
          for (const mode of ['range', 'held'] as const) {
            const fast = run(ir, inputs, mode);
            expect(fast.steps).toEqual(full.steps);
            taken += fast.ranged;
          }
        }),
        { seed: SEED, numRuns: 150 },
      );
      console.log(`readings taken quietly: ${taken}`);
      expect(taken).toBeGreaterThan(1000);
    });
  }

  // Variants of the example (the fixtures as written compare readings by <, > and <= only):
  // `complemented` writes each comparison of a reading as `not` of its complement (`spo2 < 90` as
  // `not (spo2 >= 90)`: the same condition), `mirrored` with the reading on the right (`90 > spo2`);
  // `equalities` makes each an equality (another protocol).
  const variant = (rewrite: (o: Record<string, unknown>) => Record<string, unknown>): IR => {
    const map = (x: unknown): unknown => {
      if (Array.isArray(x)) return x.map(map);
      if (x === null || typeof x !== 'object') return x;
      const o = Object.fromEntries(Object.entries(x).map(([k, v]) => [k, map(v)]));
      const reading = (e: unknown) => (e as { kind?: string } | null)?.kind === 'measure';
      return o['kind'] === 'binary' && (reading(o['left']) || reading(o['right'])) ? rewrite(o) : o;
    };
    return loadIR(map(JSON.parse(readFileSync(new URL('./fixtures/individual-iv.ir.json', import.meta.url), 'utf8'))));
  };
  const COMPLEMENT: Readonly<Record<string, string>> = { '<': '>=', '>': '<=', '<=': '>', '>=': '<' };
  const complemented = variant((o) => (COMPLEMENT[o['op'] as string] ? { kind: 'not', operand: { ...o, op: COMPLEMENT[o['op'] as string] }, span: o['span'] } : o));
  const MIRROR: Readonly<Record<string, string>> = { '<': '>', '>': '<', '<=': '>=', '>=': '<=', '==': '==', '!=': '!=' };
  const mirrored = variant((o) => (MIRROR[o['op'] as string] ? { ...o, op: MIRROR[o['op'] as string], left: o['right'], right: o['left'] } : o));
  const EQUALITY: Readonly<Record<string, string>> = { '<': '!=', '>': '==', '<=': '!=', '>=': '==' };
  const equalities = variant((o) => (EQUALITY[o['op'] as string] ? { ...o, op: EQUALITY[o['op'] as string] } : o));
  for (const [name, ir, exact] of [
    ['hand-lowered dosing session', dosingIR(), true],
    ['individual-iv example', exampleIR(), true],
    ['individual-iv, comparisons written as not of their complement', complemented, true],
    ['individual-iv, comparisons written with the reading on the right', mirrored, true],
    // An equality's range is one side of the value compared with (quietReading takes both): a part of what it takes.
    ['individual-iv, comparisons made equalities', equalities, false],
  ] as const) {
    it(`${name}: quietRange accepts ${exact ? 'exactly' : 'only'} the single readings quietReading takes, threshold values included (property, seed ${SEED})`, () => {
      // Candidate readings: every number the session's conditions mention (thresholds, offsets), a
      // half below and above, and each measure's declared bounds.
      const numbers = new Set<number>();
      const collect = (x: unknown): void => {
        if (Array.isArray(x)) x.forEach(collect);
        else if (x !== null && typeof x === 'object') {
          const o = x as Record<string, unknown>;
          if (o['kind'] === 'number' && typeof o['value'] === 'number') numbers.add(o['value']);
          Object.values(o).forEach(collect);
        }
      };
      collect(ir.sessions);
      const candidates = (min: number, max: number) => [...numbers, min, max].flatMap((k) => [k - 0.5, k, k + 0.5]);
      const first: readonly [number, ProtocolInEvent] = [0, { type: 'measure', values: { sbp: 122, dbp: 78, hr: 70, spo2: 97, cadss: 1 } }];
      let compared = 0;
      fc.assert(
        fc.property(fc.array(fc.tuple(gap, input), { maxLength: 60 }), (rest) => {
          const engine = createSessionEngine(ir, { session: 'dosing', participant });
          const c = engine.init(0) as SessionContext;
          const out: ProtocolEmitted[] = [];
          engine.start(c, out);
          let t = 0;
          for (const [dt, e] of [first, ...rest]) {
            t += dt;
            if (engine.outcome(c) !== null || !engine.check(c, e).ok) continue;
            engine.advanceTo(c, t, out);
            engine.apply(c, e, out);
            // After every step: each measure's range against quietReading, reading by reading.
            for (const m of ir.measures) {
              const range = engine.quietRange(c, m.name);
              if (range === null) continue;
              for (const x of candidates(m.min, m.max)) {
                const lastBefore = c.last[m.name]!;
                const tBefore = c.t;
                const quiet = engine.quietReading(c, { [m.name]: x }, c.t);
                c.last[m.name] = lastBefore;
                c.t = tBefore;
                const accepts = range.accepts(x, c.t);
                if (exact || accepts) expect(accepts, `${m.name} = ${x} after ${lastBefore.value}`).toBe(quiet);
                compared++;
              }
            }
          }
          // Once a full step has run, a range accepts nothing.
          const range = engine.quietRange(c, 'spo2');
          engine.advanceTo(c, c.t, out);
          if (range !== null) expect(range.accepts(c.last['spo2']!.value, c.t)).toBe(false);
        }),
        { seed: SEED, numRuns: 100 },
      );
      expect(compared).toBeGreaterThan(10_000);
    });
  }

  it('declines when a deadline is due by the reading, when a measure was never read, and for a group session', () => {
    const ir = dosingIR();
    const engine = createSessionEngine(ir, { session: 'dosing', participant });
    const c = engine.init(0) as SessionContext;
    const out: ProtocolEmitted[] = [];
    engine.start(c, out);
    expect(engine.quietReading(c, { spo2: 97 }, 0)).toBe(false); // never read
    engine.apply(c, { type: 'measure', values: { sbp: 120, dbp: 80, hr: 70, spo2: 97 } }, out);
    const due = engine.nextDeadline(c)!;
    expect(engine.quietReading(c, { spo2: 98 }, due - 1)).toBe(true);
    const before = JSON.stringify(c);
    expect(engine.quietReading(c, { spo2: 98 }, due)).toBe(false);
    expect(JSON.stringify(c)).toBe(before);

    const group = createSessionEngine(groupIR(), { session: 'circle', participants: people(4) });
    const g = group.init(0);
    group.start(g, []);
    expect(group.quietReading(g, { spo2: 97 }, 1)).toBe(false);
  });
});

describe('the engine memo', () => {
  // What the engine remembers between steps (which conditions are up to date) lives on the context
  // object, out of sight: the context's keys and JSON are what they were, and no copy carries it.
  it('is invisible in the context: keys, JSON, spread and structuredClone', () => {
    const ir = exampleIR();
    const engine = createSessionEngine(ir, { session: 'dosing', participant });
    const c = engine.init(0) as SessionContext;
    const keys = Object.keys(c);
    const out: ProtocolEmitted[] = [];
    engine.start(c, out);
    engine.apply(c, { type: 'measure', values: { sbp: 120, dbp: 80, hr: 70, spo2: 97 } }, out);
    expect(engine.quietReading(c, { spo2: 98 }, 1)).toBe(true); // the memo is there and in use
    expect(Object.keys(c)).toEqual(keys);
    expect(Object.getOwnPropertySymbols(c)).toHaveLength(1);
    for (const copy of [{ ...c }, structuredClone(c), JSON.parse(JSON.stringify(c)) as SessionContext]) {
      expect(Object.getOwnPropertySymbols(copy)).toHaveLength(0);
      expect(JSON.stringify(copy)).toBe(JSON.stringify(c));
      // A copy has no memo: it declines the shortcut until a full step has evaluated every condition.
      expect(engine.quietReading(copy, { spo2: 98 }, 1)).toBe(false);
    }
  });

  it(`a copy of the context, stepped on, gives what the original would have (property, seed ${SEED})`, () => {
    const ir = exampleIR();
    fc.assert(
      fc.property(fc.array(fc.tuple(gap, input), { minLength: 1, maxLength: 80 }), fc.nat(), fc.boolean(), (inputs, at, json) => {
        const copyAt = at % inputs.length;
        const copy = json ? (c: SessionContext) => JSON.parse(JSON.stringify(c)) as SessionContext : structuredClone;
        expect(run(ir, inputs, true, copyAt, copy).steps).toEqual(run(ir, inputs, true).steps);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});

describe('compareValues', () => {
  // The quiet-reading test compares readings with `compareValues`; the engine evaluates the compiled
  // expression (with its inline fast path for `measure op number`). They must agree on every input.
  const ops = ['<', '<=', '>', '>=', '==', '!='] as const;
  const value = fc.oneof(fc.constant(null), fc.double({ noNaN: true }), fc.integer({ min: -5, max: 5 }));
  it(`equals the compiled comparison, with a measure or a number on the right (property, seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...ops), value, value, fc.integer({ min: -5, max: 5 }), (op, l, r, k) => {
        const env = { measure: (n: string) => (n === 'l' ? l : r) } as unknown as EvalEnv;
        const measure = (name: string): Expr => ({ kind: 'measure', name }) as Expr;
        const withMeasure = compileExpr({ kind: 'binary', op, left: measure('l'), right: measure('r') } as Expr);
        expect(withMeasure(env)).toBe(compareValues(op, l, r));
        const withNumber = compileExpr({ kind: 'binary', op, left: measure('l'), right: { kind: 'number', value: k } } as Expr);
        expect(withNumber(env)).toBe(compareValues(op, l, k));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
