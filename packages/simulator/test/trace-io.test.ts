import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, irHash, parseTrace, serializeTrace, simulate, traceLines, type Trace } from '../src/index.js';
import { exampleIR, noisyScenario } from './helpers.js';
import { propertySeed } from './seed.js';

const iv = exampleIR('individual-iv');
const trace = simulate(iv, { session: 'dosing', scenario: noisyScenario(), seed: 7 });
const text = serializeTrace(trace);

const errorOf = (t: string) => {
  const r = parseTrace(t);
  if (!('error' in r)) throw new Error('expected an error');
  return r.error;
};
const lines = text.split('\n');
const withLine = (n: number, line: string) => [...lines.slice(0, n - 1), line, ...lines.slice(n)].join('\n');

describe('serializeTrace', () => {
  it('is JSON Lines: header first, one record per line, newline-terminated', () => {
    expect(text.endsWith('\n')).toBe(true);
    expect(lines.length - 1).toBe(trace.records.length + 1);
    expect(lines[0]!.startsWith('{"kapspecTrace":1,')).toBe(true);
    expect([...traceLines(trace)].join('\n') + '\n').toBe(text);
  });

  it('has a stable key order: t, type, participant first, then sorted', () => {
    const line = serializeTrace({ header: trace.header, records: [{ values: { sbp: 1, dbp: 2 }, participant: 'a', type: 'observe', t: 3 } as never] }).split('\n')[1];
    expect(line).toBe('{"t":3,"type":"observe","participant":"a","values":{"dbp":2,"sbp":1}}');
  });

  it('round-trips: parse(serialize(trace)) is the trace, and serializes to the same bytes', () => {
    const r = parseTrace(text);
    if (!('trace' in r)) throw new Error(r.error.message);
    expect(r.trace).toEqual(JSON.parse(JSON.stringify(trace)));
    expect(serializeTrace(r.trace)).toBe(text);
  });

  it('keeps non-finite readings as tagged numbers and reads them back', () => {
    const t: Trace = { header: trace.header, records: [{ t: 1, type: 'observe', values: { hr: Number.NaN, sbp: Number.POSITIVE_INFINITY, dbp: Number.NEGATIVE_INFINITY } }] };
    const s = serializeTrace(t);
    expect(s.split('\n')[1]).toBe('{"t":1,"type":"observe","values":{"dbp":{"$number":"-Infinity"},"hr":{"$number":"NaN"},"sbp":{"$number":"Infinity"}}}');
    const r = parseTrace(s);
    if (!('trace' in r)) throw new Error(r.error.message);
    expect(r.trace.records[0]).toEqual(t.records[0]);
  });

  it('property: any record values round-trip byte-for-byte', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ t: fc.double({ min: 0, max: 1e4, noNaN: true }), values: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.double()) }), { maxLength: 8 }),
        (recs) => {
          const sorted = [...recs].sort((a, b) => a.t - b.t);
          const t: Trace = { header: trace.header, records: sorted.map((r) => ({ t: r.t, type: 'observe', values: r.values })) };
          const s = serializeTrace(t);
          const back = parseTrace(s);
          if (!('trace' in back)) throw new Error(back.error.message);
          expect(serializeTrace(back.trace)).toBe(s);
        },
      ),
      { seed: propertySeed('trace round trip'), numRuns: 200 },
    );
  });
});

describe('parseTrace errors name the line and the field', () => {
  it('an empty text', () => {
    expect(errorOf('')).toEqual({ line: 1, message: expect.stringContaining('empty') });
  });
  it('a header of another version', () => {
    const e = errorOf(withLine(1, lines[0]!.replace('"kapspecTrace":1', '"kapspecTrace":2')));
    expect(e).toEqual({ line: 1, message: 'line 1, field "kapspecTrace": unsupported trace version 2: this kapspec reads version 1' });
  });
  it('a first line that is not a header', () => {
    expect(errorOf(lines.slice(1).join('\n')).message).toMatch(/^line 1, field "kapspecTrace": the first line must be the trace header/);
  });
  it('invalid JSON', () => {
    expect(errorOf(withLine(3, '{"t":1,')).message).toMatch(/^line 3: not valid JSON/);
  });
  it('an unknown record type', () => {
    expect(errorOf(withLine(4, '{"t":0,"type":"teleport"}'))).toEqual({ line: 4, message: expect.stringMatching(/^line 4, field "type": expected one of "truth", .*got "teleport"$/) });
  });
  it('a missing or mistyped field', () => {
    expect(errorOf(withLine(2, '{"t":0,"type":"observe","values":{"sbp":"high"}}')).message).toBe('line 2, field "values.sbp": expected a number, got "high"');
    expect(errorOf(withLine(2, '{"t":0,"type":"request","stage":"predose"}')).message).toBe('line 2, field "measures": expected an array of strings, got nothing');
    expect(errorOf(withLine(2, '{"type":"end","reason":"horizon"}')).message).toBe('line 2, field "t": expected a finite number, got nothing');
    expect(errorOf(withLine(2, '{"t":0,"type":"emit","event":{"at":0}}')).message).toBe('line 2, field "event.type": expected a string, got nothing');
    expect(errorOf(withLine(1, lines[0]!.replace(/"irHash":"[0-9a-f]+"/, '"irHash":"abc"'))).message).toBe('line 1, field "irHash": expected 64 lowercase hex digits (SHA-256), got "abc"');
  });
  it('records out of time order', () => {
    const e = errorOf(`${lines[0]}\n{"t":5,"type":"end","reason":"horizon"}\n{"t":4,"type":"end","reason":"horizon"}\n`);
    expect(e).toEqual({ line: 3, message: 'line 3, field "t": 4 is before the previous record\'s time 5: records must be in time order' });
  });
  it('an empty line in the middle', () => {
    expect(errorOf(withLine(3, '')).line).toBe(3);
  });
});

describe('irHash', () => {
  it('is the SHA-256 of the canonical JSON: independent of key order, sensitive to content', () => {
    const copy = JSON.parse(JSON.stringify(iv));
    const reordered = Object.fromEntries(Object.entries(copy).reverse());
    expect(irHash(reordered)).toBe(irHash(iv));
    expect(irHash(copy)).toMatch(/^[0-9a-f]{64}$/);
    const changed = JSON.parse(JSON.stringify(iv));
    changed.protocol.version = '1.1';
    expect(irHash(changed)).not.toBe(irHash(iv));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });
});
