import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze, LineIndex, parse, type Diagnostic, type Rule, type Session } from '../src/index.js';
import { KapParser } from '../src/parser.js';
import { allTokens } from '../src/lexer.js';
import { Lexer } from 'chevrotain';

const spec = (name: string): string =>
  readFileSync(new URL(`./fixtures/spec/${name}`, import.meta.url), 'utf8');

function lineOf(text: string, d: Diagnostic): number {
  return new LineIndex(text).position(d.span.start).line;
}

describe('parse: the grammar', () => {
  it('passes chevrotain\'s grammar validations (skipped at run time for start-up speed)', () => {
    expect(() => new KapParser({ validate: true })).not.toThrow();
  });

  it('passes chevrotain\'s lexer validations (skipped at run time for start-up speed)', () => {
    const lexer = new Lexer(allTokens, { positionTracking: 'onlyOffset', ensureOptimizations: false });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });
});

describe('parse: the LANGUAGE.md examples', () => {
  it.each(['individual-iv.kap', 'group-im.kap'])('%s parses without diagnostics', (name) => {
    const result = parse(spec(name));
    expect(result.diagnostics).toEqual([]);
    expect(result.protocol?.items.length).toBeGreaterThan(3);
  });

  it('reads a rule with a `during` scope, actions and a sustained resume condition', () => {
    const { protocol } = parse(spec('individual-iv.kap'));
    const dosing = protocol?.items.find((i): i is Session => i.kind === 'Session' && i.name.text === 'dosing');
    const rule = dosing?.items.find((i): i is Rule => i.kind === 'Rule' && i.name.text === 'hypertension');
    expect(rule?.when.kind).toBe('During');
    expect(rule?.when.kind === 'During' && rule.when.expr.kind === 'Binary' && rule.when.expr.op).toBe('or');
    expect(rule?.actions.map((a) => a.kind)).toEqual(['Pause', 'Notify']);
    expect(rule?.resume?.kind).toBe('For');
  });

  it('reads the three assert forms', () => {
    const { protocol } = parse(spec('individual-iv.kap'));
    const dosing = protocol?.items.find((i): i is Session => i.kind === 'Session' && i.name.text === 'dosing');
    const kinds = dosing?.items.flatMap((i) => (i.kind === 'Assert' ? [i.property.kind] : []));
    expect(kinds).toEqual(['Always', 'LeadsTo', 'Eventually']);
  });

  it('keeps numbers as written and units as tokens', () => {
    const { protocol } = parse('protocol "p" { session s1 { stage a duration 0.50 h { } } }');
    const stage = (protocol?.items[0] as Session).items[0];
    expect(stage?.kind === 'Stage' && stage.duration?.exact).toMatchObject({ value: 0.5, text: '0.50', unit: { text: 'h' } });
  });

  it('reads `mg/kg`, `/min` and `%` as units, and `min(a, b)` as a call', () => {
    const src = `protocol "p" {
  measures { rr /min 0..60  spo2 % 50..100 }
  session s1 {
    stage a duration 10 min { administer ketamine 0.5 mg/kg iv over 40 min }
    discharge when min(spo2, 95 %) >= 92 % and rr < 30 /min
  }
}`;
    const result = parse(src);
    expect(result.diagnostics).toEqual([]);
  });
});

describe('parse: errors for people', () => {
  it('says what was expected in words a clinician uses', () => {
    const src = 'protocol "p" {\n  session s1 {\n    stage a duration 10 min { monitor sbp every }\n  }\n}\n';
    const { diagnostics } = parse(src);
    expect(diagnostics.map((d) => d.message)).toEqual(['Expected a duration such as `15 min` after `every`, but found `}`.']);
    expect(diagnostics[0]?.code).toBe('KAP1003');
  });

  it('suggests the keyword a misspelt word was meant to be', () => {
    const src = 'protocol "p" {\n  session s1 {\n    stage a duration 10 min { monitr sbp every 5 min }\n  }\n}\n';
    const { diagnostics } = parse(src);
    expect(diagnostics[0]?.hint).toBe('Did you mean `monitor`?');
  });

  it('reports three independent mistakes in three rules, each on its own line', () => {
    const src = `protocol "p" {
  measures { sbp mmHg 50..260 }
  events { panic }
  session s1 {
    stage a duration 10 min { monitor sbp every 5 min }
    discharge when sbp <= 160
    rule one { when sbp >> 180 then escalate emergency }
    rule two { when panic then attend therapist within 2 for }
    rule three { when sbp > 180 then notify }
  }
}
`;
    const { diagnostics } = parse(src);
    expect(diagnostics.map((d) => lineOf(src, d))).toEqual([7, 8, 9]);
  });

  it('never shows chevrotain wording', () => {
    const inputs = ['protocol', 'protocol "x" { roles { a b } }', 'protocol "x" { session { } }', '}', 'protocol "x" { session s1 { rule r { when then } } }'];
    for (const src of inputs) {
      for (const d of analyze(src).diagnostics) {
        expect(d.message).not.toMatch(/Expecting|token of type|-->|<--/);
      }
    }
  });

  it('reports an unclosed block where it opens, judged by indentation', () => {
    const src = 'protocol "p" {\n  session s1 {\n    stage a duration 10 min {\n      monitor sbp every 5 min\n  }\n}\n';
    const unclosed = parse(src).diagnostics.filter((d) => d.code === 'KAP1006');
    expect(unclosed.map((d) => lineOf(src, d))).toEqual([3]);
  });

  it('does not repeat an unexpected character as a parse error', () => {
    const src = 'protocol "p" {\n  session s1 {\n    stage a duration 10 min { }\n    discharge when sbp <= 160 & elapsed >= 1 h\n  }\n}\n';
    expect(parse(src).diagnostics.map((d) => d.code)).toEqual(['KAP1001']);
  });
});

describe('parse: resource limits', () => {
  it('refuses a file over the size limit with one diagnostic', () => {
    const { diagnostics, protocol } = parse('x'.repeat(50), { limits: { maxSourceLength: 10 } });
    expect(protocol).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['KAP1010']);
  });

  it('stops at deeply nested parentheses instead of overflowing the stack', () => {
    const deep = `protocol "p" { session s1 { stage a { } discharge when ${'('.repeat(100_000)}sbp${')'.repeat(100_000)} } }`;
    expect(parse(deep).diagnostics.map((d) => d.code)).toEqual(['KAP1011']);
  });

  it('stops at a very long operator chain instead of overflowing the stack', () => {
    const chain = Array.from({ length: 20_000 }, () => 'sbp > 1').join(' and ');
    const { diagnostics } = analyze(`protocol "p" { session s1 { stage a { } discharge when ${chain} } }`);
    expect(diagnostics.filter((d) => d.code === 'KAP1011')).toHaveLength(1);
  });

  it('stops at a very long run of `not`', () => {
    const { diagnostics } = analyze(`protocol "p" { session s1 { stage a { } discharge when ${'not '.repeat(50_000)} elapsed > 1 h } }`);
    expect(diagnostics.filter((d) => d.code === 'KAP1011')).toHaveLength(1);
  });
});
