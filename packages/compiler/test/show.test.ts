/**
 * The runtime's IR printer (`showExpr`, `showProperty`: verdicts,
 * counterexamples, diagram labels) against the real front end: printed text
 * parsed and lowered again is the same IR, spans aside. This lives in the
 * compiler's tests because it is the one package that sees both the parser
 * and the IR.
 */
import { analyze, hasErrors } from '@kapspec/language';
import { showExpr, showProperty, type BinaryOp, type CallFn, type Expr, type Property } from '@kapspec/runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lower } from '../src/index.js';
import { propertySeed } from './seed.js';

/** Every name a generated expression may mention is declared here, each kind with its own names. */
const PROTOCOL = (assert: string): string => `protocol "Printer round trip" {
  population {
    caution hypertension_history, age_50_or_over
  }
  roles {
    therapist 1
    medical_provider 1
  }
  measures {
    sbp mmHg 50..260
    hr bpm 20..220
  }
  events { nausea, panic }
  drugs {
    ketamine max 0.5 mg/kg
  }
  session dosing {
    stage predose duration 15 min {
      measure sbp, hr at start
    }
    stage infusion duration 40 min {
      administer ketamine 0.5 mg/kg iv over 40 min
      monitor sbp, hr every 10 min
    }
    discharge when elapsed >= 2 h
    assert printed ${assert}
  }
}
`;

/**
 * The property the front end reads from `text` (an assert's body), lowered;
 * or the syntax errors. Type errors are ignored: the printer must print any
 * tree, and the lowering only needs names resolved.
 */
function reparse(text: string): Property | string {
  const source = PROTOCOL(text);
  const a = analyze(source);
  const syntax = a.diagnostics.filter((d) => d.code.startsWith('KAP1') || d.code === 'KAP3011');
  if (!a.protocol || !a.symbols || hasErrors(syntax)) return syntax.map((d) => `${d.code} ${d.message}`).join('; ') || 'no tree';
  const { ir } = lower(a.protocol, a.symbols, source);
  return stripSpans(ir.sessions[0]!.asserts[0]!.property);
}

function stripSpans<T>(x: T): T {
  if (Array.isArray(x)) return x.map(stripSpans) as T;
  if (x && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) if (k !== 'span') out[k] = stripSpans(v);
    return out as T;
  }
  return x;
}

/** An expression as the front end reads `text` (in `always …`). */
function exprOf(text: string): Expr | string {
  const p = reparse(`always ${text}`);
  return typeof p === 'string' ? p : p.kind === 'always' ? p.expr : `not an always: ${p.kind}`;
}

// ── Generated IR ─────────────────────────────────────────────────────────

const OPS: readonly BinaryOp[] = ['implies', 'or', 'and', '<', '<=', '>', '>=', '==', '!=', '+', '-', '*', '/'];
const STAGES = ['predose', 'infusion'] as const;
/** Minutes that `showMinutes` prints exactly (`120` as `2 h`). */
const MINUTES = [0.5, 1, 5, 10, 30, 120] as const;

/** Atoms; role and drug names only occur as call arguments (below). */
const leaf: fc.Arbitrary<Expr> = fc.oneof(
  fc.constantFrom<Expr>(
    { kind: 'measure', name: 'sbp' },
    { kind: 'measure', name: 'hr' },
    { kind: 'event', name: 'panic' },
    { kind: 'outcome', name: 'discharged' },
    { kind: 'inStage', stage: 'infusion' },
    { kind: 'paused', stage: 'infusion' },
    { kind: 'observed', measure: 'sbp' },
    { kind: 'baseline', measure: 'hr' },
    { kind: 'caution', flag: 'hypertension_history' },
    { kind: 'elapsed' },
  ),
  fc
    .record({
      value: fc.constantFrom(0, 1, 2, 5, 40, 180, 0.5, 2.25),
      unit: fc.option(fc.constantFrom('min', 'mmHg', 'bpm', '%', 'score', 'mg', 'mg/kg'), { nil: undefined }),
    })
    .map(({ value, unit }): Expr => (unit ? { kind: 'number', value, unit } : { kind: 'number', value })),
);

const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ op: fc.constantFrom(...OPS), left: tie('expr'), right: tie('expr') }).map((b): Expr => ({ kind: 'binary', ...b })),
    tie('expr').map((operand): Expr => ({ kind: 'not', operand })),
    tie('expr').map((operand): Expr => ({ kind: 'neg', operand })),
    fc.record({ expr: tie('expr'), minutes: fc.constantFrom(...MINUTES) }).map((f): Expr => ({ kind: 'for', ...f })),
    fc
      .record({ expr: tie('expr'), stages: fc.array(fc.constantFrom(...STAGES), { minLength: 1, maxLength: 2 }) })
      .map((d): Expr => ({ kind: 'during', ...d })),
    // `present`, `free`, `dose` and `count` take a bare name (the checker resolves it by the function).
    fc.constantFrom<Expr>(
      { kind: 'call', fn: 'present', args: [{ kind: 'role', name: 'therapist' }] },
      { kind: 'call', fn: 'free', args: [{ kind: 'role', name: 'medical_provider' }] },
      { kind: 'call', fn: 'dose', args: [{ kind: 'drug', name: 'ketamine' }] },
      { kind: 'call', fn: 'count', args: [{ kind: 'event', name: 'nausea' }] },
    ),
    fc
      .record({ fn: fc.constantFrom<CallFn>('max', 'min'), args: fc.array(tie('expr'), { maxLength: 3 }) })
      .map((c): Expr => ({ kind: 'call', ...c })),
  ),
}));

const within = fc.constantFrom(...MINUTES);
const property: fc.Arbitrary<Property> = fc.oneof(
  expr.map((e): Property => ({ kind: 'always', expr: e })),
  expr.map((e): Property => ({ kind: 'never', expr: e })),
  fc.record({ expr, within }).map((p): Property => ({ kind: 'eventually', ...p })),
  fc.record({ cause: expr, effect: expr, within }).map((p): Property => ({ kind: 'leadsTo', ...p })),
);

describe('showExpr / showProperty: printed, parsed and lowered again', () => {
  it('an expression reads back as the same tree', () => {
    const seed = propertySeed('showExpr round trip');
    fc.assert(
      fc.property(expr, (e) => {
        expect(exprOf(showExpr(e))).toEqual(e);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('a property reads back as the same property', () => {
    const seed = propertySeed('showProperty round trip');
    fc.assert(
      fc.property(property, (p) => {
        expect(reparse(showProperty(p))).toEqual(p);
      }),
      { seed, numRuns: 500 },
    );
  });
});

describe('showExpr / showProperty: examples', () => {
  /** Prints the lowered form of `text` (an expression). */
  const reprint = (text: string): string => {
    const e = exprOf(text);
    if (typeof e === 'string') throw new Error(e);
    return showExpr(e);
  };
  const reprintProperty = (text: string): string => {
    const p = reparse(text);
    if (typeof p === 'string') throw new Error(p);
    return showProperty(p);
  };

  it('keeps the parentheses of an `implies … within` effect (the review case)', () => {
    expect(reprintProperty('(sbp > 180 during infusion) implies (infusion paused or not infusion) within 5 min')).toBe(
      '(sbp > 180 during infusion) implies (infusion paused or not infusion) within 5 min',
    );
    expect(reprintProperty('(sbp > 180 for 10 min during infusion) implies (infusion paused) within 5 min')).toBe(
      '(sbp > 180 for 10 min during infusion) implies infusion paused within 5 min',
    );
    expect(reprintProperty('(sbp > 180) implies (hr < 100) within 5 min')).toBe('sbp > 180 implies hr < 100 within 5 min');
    expect(reprintProperty('(panic implies nausea) implies nausea within 5 min')).toBe('(panic implies nausea) implies nausea within 5 min');
    expect(reprintProperty('eventually (discharged or ended) within 4 h')).toBe('eventually (discharged or ended) within 4 h');
    expect(reprintProperty('always (infusion implies present(medical_provider) >= 1)')).toBe(
      'always infusion implies present(medical_provider) >= 1',
    );
  });

  it('`implies` groups to the right', () => {
    expect(reprint('panic implies nausea implies infusion')).toBe('panic implies nausea implies infusion');
    expect(reprint('(panic implies nausea) implies infusion')).toBe('(panic implies nausea) implies infusion');
  });

  it('`or`, `and` and `not` by precedence', () => {
    expect(reprint('panic or nausea and infusion')).toBe('panic or nausea and infusion');
    expect(reprint('(panic or nausea) and infusion')).toBe('(panic or nausea) and infusion');
    expect(reprint('panic and (nausea and infusion)')).toBe('panic and (nausea and infusion)');
    expect(reprint('(panic and nausea) and infusion')).toBe('panic and nausea and infusion');
    expect(reprint('not (panic or nausea)')).toBe('not (panic or nausea)');
    expect(reprint('not not sbp > 180')).toBe('not not sbp > 180');
    expect(reprint('(not panic) > 1')).toBe('(not panic) > 1');
  });

  it('`for` and `during` qualify the whole condition before them', () => {
    expect(reprint('sbp > 180 or hr > 120 during infusion')).toBe('sbp > 180 or hr > 120 during infusion');
    expect(reprint('sbp > 180 or (hr > 120 during infusion)')).toBe('sbp > 180 or (hr > 120 during infusion)');
    expect(reprint('sbp > 180 for 10 min during infusion')).toBe('sbp > 180 for 10 min during infusion');
    expect(reprint('(hr < 90 for 1 min) or panic')).toBe('(hr < 90 for 1 min) or panic');
    expect(reprint('not (panic for 5 min)')).toBe('not (panic for 5 min)');
    expect(reprint('max((sbp during infusion), hr)')).toBe('max((sbp during infusion), hr)');
    expect(reprint('max(hr, sbp during infusion, predose)')).toBe('max(hr, sbp during infusion, predose)');
  });

  it('comparisons do not chain', () => {
    expect(reprint('(sbp < hr) < 5')).toBe('(sbp < hr) < 5');
    expect(reprint('5 < (sbp < hr)')).toBe('5 < (sbp < hr)');
    expect(reprint('sbp + 10 mmHg <= max(baseline sbp + 10 mmHg, 140 mmHg)')).toBe(
      'sbp + 10 mmHg <= max(baseline sbp + 10 mmHg, 140 mmHg)',
    );
  });

  it('arithmetic, with unary minus binding tighter than `*`', () => {
    expect(reprint('sbp - (hr - 5)')).toBe('sbp - (hr - 5)');
    expect(reprint('(sbp - hr) - 5')).toBe('sbp - hr - 5');
    expect(reprint('(sbp + hr) * 2')).toBe('(sbp + hr) * 2');
    expect(reprint('sbp / (hr * 2)')).toBe('sbp / (hr * 2)');
    expect(reprint('-5 mmHg * 2')).toBe('-5 mmHg * 2');
    expect(reprint('-(5 mmHg * 2)')).toBe('-(5 mmHg * 2)');
    expect(reprint('- -sbp')).toBe('--sbp');
    expect(reprint('sbp - -hr')).toBe('sbp - -hr');
  });
});
