/**
 * The front end never throws on user input and every diagnostic points inside
 * the input: checked on arbitrary strings, on token soup, and on random
 * mutations of real protocols.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, lex, type Diagnostic } from '../src/index.js';
import { propertySeed } from './seed.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const corpus: string[] = [
  ...readdirSync(`${root}packages/language/test/fixtures/spec`).map((f) => `${root}packages/language/test/fixtures/spec/${f}`),
  ...safeList(`${root}examples`).map((f) => `${root}examples/${f}`),
]
  .filter((f) => f.endsWith('.kap'))
  .map((f) => readFileSync(f, 'utf8'));

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function spansInside(text: string, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) {
    expect(d.span.start, d.message).toBeGreaterThanOrEqual(0);
    expect(d.span.end, d.message).toBeGreaterThanOrEqual(d.span.start);
    expect(d.span.end, d.message).toBeLessThanOrEqual(text.length);
    for (const r of d.related ?? []) {
      expect(r.span.start).toBeGreaterThanOrEqual(0);
      expect(r.span.end).toBeLessThanOrEqual(text.length);
    }
  }
}

function frontEndHolds(text: string): void {
  const lexed = lex(text);
  spansInside(text, lexed.diagnostics);
  const result = analyze(text);
  spansInside(text, result.diagnostics);
  for (const d of result.diagnostics) expect(d.message).not.toMatch(/Expecting|token of type/);
}

const WORDS = [
  'protocol', '"t"', '{', '}', '(', ')', ',', '..', 'session', 's1', 'stage', 'a', 'duration', 'at', 'least', 'most',
  '15', '0.5', 'min', 'h', 'mg/kg', 'mmHg', 'bpm', '%', '/min', 'rule', 'when', 'then', 'resume', 'for', 'during',
  'sbp', 'panic', '>', '<=', '==', '+', '-', '*', '/', 'and', 'or', 'not', 'implies', 'assert', 'always', 'within',
  'monitor', 'every', 'continuously', 'administer', 'iv', 'over', 'once', 'gate', 'else', 'defer', 'pause', 'stop',
  'notify', 'attend', 'give', 'measures', 'events', 'roles', 'per', 'participants', 'staffing', 'discharge',
  'observed', 'baseline', 'present', 'max', 'paused', '\n', '//c\n', '/*', '*/', '"', '@',
];

const mutation = (texts: string[]) =>
  fc
    .record({
      base: fc.constantFrom(...texts),
      at: fc.nat(),
      len: fc.nat({ max: 40 }),
      insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...WORDS)),
      op: fc.constantFrom('delete', 'insert', 'replace', 'duplicate', 'truncate'),
    })
    .map(({ base, at, len, insert, op }) => {
      const i = at % (base.length + 1);
      switch (op) {
        case 'delete':
          return base.slice(0, i) + base.slice(i + len);
        case 'insert':
          return base.slice(0, i) + insert + base.slice(i);
        case 'replace':
          return base.slice(0, i) + insert + base.slice(i + len);
        case 'duplicate':
          return base.slice(0, i + len) + base.slice(i, i + len) + base.slice(i + len);
        default:
          return base.slice(0, i);
      }
    });

describe('front end never throws', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), frontEndHolds), {
      seed: propertySeed('arbitrary strings'),
      numRuns: 500,
    });
  }, 120_000);

  // Most binary strings stop at the "not text" check; these reach the parser.
  it('on arbitrary strings without control characters', () => {
    const text = fc.string({ unit: 'binary', maxLength: 300 }).map((s) => s.replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f\ufffd]/g, ''));
    fc.assert(fc.property(text, frontEndHolds), { seed: propertySeed('arbitrary text'), numRuns: 500 });
  }, 120_000);

  it('on token soup', () => {
    const soup = fc.array(fc.constantFrom(...WORDS), { maxLength: 80 }).map((ws) => ws.join(' '));
    fc.assert(fc.property(soup, frontEndHolds), { seed: propertySeed('token soup'), numRuns: 500 });
  }, 120_000);

  it('on random mutations of real protocols', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2);
    const stacked = mutation(corpus).chain((once) => mutation([once]));
    fc.assert(fc.property(fc.oneof(mutation(corpus), stacked), frontEndHolds), {
      seed: propertySeed('mutated protocols'),
      numRuns: 400,
    });
  }, 120_000);
});
