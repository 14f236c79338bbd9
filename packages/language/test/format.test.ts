/**
 * The canonical formatter: golden layout of the spec examples, line wrapping,
 * examples/*.kap already canonical, comments in every position, refusal of
 * broken files, and fast-check properties (print then parse gives the tree
 * back; formatting is idempotent and ignores whitespace; no comment is lost or
 * duplicated; no line passes MAX_WIDTH where the wrapping rule could have
 * broken it). Seeds: see seed.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type * as A from '../src/ast.js';
import { MAX_WIDTH } from '../src/format.js';
import { format, lex, parse, printProtocol, type Protocol } from '../src/index.js';
import {
  perturbedProtocolText,
  perturbWhitespace,
  protocol,
  randomTape,
  stripGroups,
  stripSpans,
  tapeRng,
} from './arbitraries.js';
import { propertySeed } from './seed.js';

const NUM_RUNS = 200;
/** Property tests take 1–3 s alone; leave room for a loaded machine running every test file at once. */
const PROPERTY_TIMEOUT = 30_000;
const specDir = fileURLToPath(new URL('./fixtures/spec/', import.meta.url));
const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const goldenDir = fileURLToPath(new URL('./fixtures/format/', import.meta.url));

/** Formats text that must be free of syntax errors. */
function fmt(text: string): string {
  const r = format(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  expect(r.text).toBeDefined();
  return r.text!;
}

/**
 * Where the wrapping rule may break a line of formatted `text`: before every
 * `implies`/`or`/`and` reached from a clause's condition through `for`,
 * `during`, parentheses, `not` and those operators themselves (also the
 * `implies` of a leads-to assert), before a gate's `else`, before the second
 * and later actions of a rule, and inside an `events { … }` line.
 */
function breakPoints(text: string): number[] {
  const r = parse(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const points: number[] = [];
  const word = (w: string, from: number, to: number): void => {
    const m = new RegExp(`\\b${w}\\b`).exec(text.slice(from, to));
    expect(m, `${w} in ${JSON.stringify(text.slice(from, to))}`).not.toBeNull();
    points.push(from + m!.index);
  };
  const condition = (e: A.Expr): void => {
    switch (e.kind) {
      case 'For':
      case 'During':
      case 'Group':
        return condition(e.expr);
      case 'Not':
        return condition(e.operand);
      case 'Binary':
        if (e.op !== 'and' && e.op !== 'or' && e.op !== 'implies') return;
        word(e.op, e.left.span.end, e.right.span.start);
        condition(e.left);
        condition(e.right);
        return;
      default:
        return;
    }
  };
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== 'object') return;
    const o = v as { kind?: string };
    const n = v as A.Protocol['items'][number] | A.SessionItem | A.StageItem | A.PopulationItem;
    switch (n.kind) {
      case 'ExcludeWhen':
      case 'Discharge':
        return condition(n.condition);
      case 'Gate':
        condition(n.condition);
        return word('else', n.condition.span.end, n.span.end);
      case 'Rule':
        condition(n.when);
        if (n.resume) condition(n.resume);
        return n.actions.slice(1).forEach((a) => points.push(a.span.start));
      case 'Assert': {
        const p = n.property;
        if (p.kind !== 'LeadsTo') return condition(p.expr);
        condition(p.cause);
        condition(p.effect);
        return word('implies', p.cause.span.end, p.effect.span.start);
      }
      case 'Events':
        return n.events.forEach((e) => points.push(e.span.start));
    }
    if (typeof o.kind === 'string') Object.values(o).forEach(visit);
  };
  visit(r.protocol);
  return points.sort((a, b) => a - b);
}

/** Lines of comment-free formatted `text` longer than MAX_WIDTH that hold an unused break point after some content. */
function unwrappedLines(text: string): string[] {
  const points = breakPoints(text);
  const bad: string[] = [];
  let start = 0;
  for (const l of text.split('\n')) {
    const end = start + l.length;
    if (l.length > MAX_WIDTH && points.some((p) => p > start && p < end && text.slice(start, p).trim() !== '')) bad.push(l);
    start = end + 1;
  }
  return bad;
}

function tree(text: string): Protocol {
  const r = parse(text);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return stripSpans(r.protocol!);
}

/** Comment texts (a `//` comment's trailing blanks are not its text: the formatter drops them). */
function commentTexts(text: string): string[] {
  return lex(text)
    .comments.map((c) => (c.block ? c.text : c.text.trimEnd()))
    .sort();
}

/** Formatting keeps the tree, keeps every comment, and is a no-op the second time. */
function formatHolds(text: string): string {
  const once = fmt(text);
  expect(tree(once)).toEqual(tree(text));
  expect(commentTexts(once)).toEqual(commentTexts(text));
  expect(fmt(once)).toBe(once);
  return once;
}

describe('format: spec examples (golden)', () => {
  const files = readdirSync(specDir).filter((f) => f.endsWith('.kap'));
  it.each(files)('%s', async (file) => {
    const text = readFileSync(specDir + file, 'utf8');
    const out = formatHolds(text);
    await expect(out).toMatchFileSnapshot(goldenDir + file.replace(/\.kap$/, '.expected.kap'));
    expect(format(out).changed).toBe(false);
  });
});

describe('format: layout', () => {
  it('canonical spacing, blank lines between multi-line items, one-line items clustered', () => {
    const src = `protocol   "T" { version "1"
setting group 4..12 events {a b,c}
  measures { sbp mmHg 50..260  spo2 % 50..100 }
session s1 { stage a duration at least 30 min at most 90 min { monitor sbp every 5 min }
discharge when elapsed>=10 min   assert x always(a)
rule r { when nausea then give ondansetron 4 mg  resume when not(a   or b)for 2 min }
stage e {} } }`;
    expect(formatHolds(src)).toBe(`protocol "T" {
  version "1"
  setting group 4..12
  events { a, b, c }

  measures {
    sbp  mmHg 50..260
    spo2 %    50..100
  }

  session s1 {
    stage a duration at least 30 min at most 90 min {
      monitor sbp every 5 min
    }

    discharge when elapsed >= 10 min
    assert x always (a)

    rule r {
      when nausea
      then give ondansetron 4 mg
      resume when not (a or b) for 2 min
    }

    stage e {}
  }
}
`);
  });

  it('keeps numbers as written and re-escapes strings', () => {
    const src = 'protocol "a \\"q\\" \\\\ \\z" { version "x\\\\" roles { t 007..2.0 } }';
    const out = formatHolds(src.replace('2.0', '2'));
    expect(out).toContain('protocol "a \\"q\\" \\\\ z" {');
    expect(out).toContain('version "x\\\\"');
    expect(out).toContain('t 007..2');
    expect(parse(out).protocol!.title.value).toBe('a "q" \\ z');
  });

  it('adds parentheses only where precedence needs them, and keeps the author’s', () => {
    const out = formatHolds(`protocol "p" { session s1 { discharge when ((a)) and -(1 - 2) * 3 > 4 or not b for 1 min
      assert q (a implies b) implies (c) within 5 min } }`);
    expect(out).toContain('discharge when ((a)) and -(1 - 2) * 3 > 4 or not b for 1 min');
    expect(out).toContain('assert q (a implies b) implies (c) within 5 min');
    // A tree with no Group nodes still prints so that it parses back.
    const bare = stripGroups(
      parse(`protocol "p" { session s1 {
      discharge when (a or b) and not (c and d) and x - (y - z) > 1 and -(-(q)) < (1 < 2)
      rule r { when count((a during x), y) > 1 then notify t } } }`).protocol!,
    );
    const printed = printProtocol(bare);
    expect(printed).toContain('discharge when (a or b) and not (c and d) and x - (y - z) > 1 and --q < (1 < 2)');
    expect(printed).toContain('when count((a during x), y) > 1');
    expect(stripGroups(tree(printed))).toEqual(stripSpans(bare));
  });
});

describe('format: line wrapping', () => {
  const longWhen =
    'caution hypertension_history and sbp > 160 and dbp > 100 or caution age_50_or_over and sbp > 170 and dbp > 105';
  const src = `protocol "p" { events { ${Array.from({ length: 12 }, (_, i) => `event_number_${i}`).join(', ')} }
  population { exclude when baseline sbp >= 160 or baseline dbp >= 100 }
  session s1 { stage predose {
    gate sbp <= 160 and dbp <= 100 else defer "pre-dose blood pressure above 160/100, measured twice"
    gate sbp <= 160 and dbp <= 100 else defer "ok" }
  discharge when elapsed >= 2 h and sbp <= max(baseline sbp + 10 mmHg, 140 mmHg) and dbp <= max(baseline dbp + 10 mmHg, 90 mmHg) and cadss < 5
  rule short { when sbp > 180 or dbp > 110 then notify medical_provider }
  rule long { when ${longWhen} then notify medical_provider }
  rule nested { when (${longWhen} or hr > 120) during infusion, recovery
    then notify medical_provider, attend therapist within 2 min for 15 min, end session "not ready for discharge: review"
    resume when not (sbp <= 160 and dbp <= 100 and hr <= 100 and spo2 >= 95 and observed sbp <= 160 and observed dbp <= 100) for 10 min }
  assert responsive (sbp > 180 for 10 min during infusion) or (dbp > 110 for 5 min) implies (infusion paused or not infusion) within 5 min
  } }`;

  it('breaks a condition that would pass MAX_WIDTH at its loosest operators, keeps a short one whole', () => {
    expect(formatHolds(src)).toBe(`protocol "p" {
  events {
    event_number_0,
    event_number_1,
    event_number_2,
    event_number_3,
    event_number_4,
    event_number_5,
    event_number_6,
    event_number_7,
    event_number_8,
    event_number_9,
    event_number_10,
    event_number_11
  }

  population {
    exclude when baseline sbp >= 160 or baseline dbp >= 100
  }

  session s1 {
    stage predose {
      gate sbp <= 160 and dbp <= 100
        else defer "pre-dose blood pressure above 160/100, measured twice"
      gate sbp <= 160 and dbp <= 100 else defer "ok"
    }

    discharge when elapsed >= 2 h
      and sbp <= max(baseline sbp + 10 mmHg, 140 mmHg)
      and dbp <= max(baseline dbp + 10 mmHg, 90 mmHg)
      and cadss < 5

    rule short {
      when sbp > 180 or dbp > 110
      then notify medical_provider
    }

    rule long {
      when caution hypertension_history and sbp > 160 and dbp > 100
        or caution age_50_or_over and sbp > 170 and dbp > 105
      then notify medical_provider
    }

    rule nested {
      when (caution hypertension_history and sbp > 160 and dbp > 100
        or caution age_50_or_over and sbp > 170 and dbp > 105
        or hr > 120) during infusion, recovery
      then notify medical_provider,
        attend therapist within 2 min for 15 min,
        end session "not ready for discharge: review"
      resume when not (sbp <= 160
        and dbp <= 100
        and hr <= 100
        and spo2 >= 95
        and observed sbp <= 160
        and observed dbp <= 100) for 10 min
    }

    assert responsive (sbp > 180 for 10 min during infusion) or (dbp > 110 for 5 min)
      implies (infusion paused or not infusion) within 5 min
  }
}
`);
  });

  it('breaks an operand that is still too long at the next operator, two columns deeper', () => {
    const a = 'caution hypertension_history and caution age_50_or_over and sbp > 160 and dbp > 100 and hr > 100';
    const out = formatHolds(`protocol "p" { session s1 { rule r { when ${a} or spo2 < 90 or ${a} then notify t } } }`);
    expect(out).toContain(`    rule r {
      when caution hypertension_history
          and caution age_50_or_over
          and sbp > 160
          and dbp > 100
          and hr > 100
        or spo2 < 90
        or caution hypertension_history
          and caution age_50_or_over
          and sbp > 160
          and dbp > 100
          and hr > 100
      then notify t
    }`);
  });

  it('wraps by the tree alone: the author’s line breaks and a trailing comment change nothing', () => {
    const wrapped = formatHolds(src);
    expect(fmt(wrapped.replace(/\n\s+(and|or|implies|else) /g, ' $1 '))).toBe(wrapped);
    const commented = fmt(wrapped.replace('and cadss < 5', 'and cadss < 5 // fresh readings'));
    expect(commented).toContain('      and cadss < 5 // fresh readings\n');
    expect(fmt(commented)).toBe(commented);
  });
});

describe('format: the examples', () => {
  const files = (readdirSync(examplesDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.kap')).sort();
  it('has examples', () => expect(files.length).toBeGreaterThan(0));
  it.each(files)('examples/%s is already canonical', (file) => {
    const text = readFileSync(examplesDir + file, 'utf8');
    const r = format(text);
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(r.changed).toBe(false);
    expect(text.split('\n').filter((l) => l.length > MAX_WIDTH)).toEqual([]);
  });
});

describe('format: comments', () => {
  const cases: [string, string, string][] = [
    [
      'leading comments, own line',
      'protocol "p" {\n// about roles\n\n   /* block */ roles { t 1 } }',
      'protocol "p" {\n  // about roles\n  /* block */\n  roles {\n    t 1\n  }\n}\n',
    ],
    [
      'trailing comments stay on their line',
      'protocol "p" { // title\n roles { // who\n t 1 /* one */ // really\n } // end roles\n version "1" }',
      'protocol "p" { // title\n  roles { // who\n    t 1 /* one */ // really\n  } // end roles\n\n  version "1"\n}\n',
    ],
    [
      'comments before a closing brace stay inside the block',
      'protocol "p" { session s1 { stage a { monitor x continuously\n // last\n } /* after stage */\n // end of session\n } }',
      'protocol "p" {\n  session s1 {\n    stage a {\n      monitor x continuously\n      // last\n    } /* after stage */\n    // end of session\n  }\n}\n',
    ],
    [
      'comments in empty blocks',
      'protocol "p" { population { /* none */ } events { // none\n } }',
      'protocol "p" {\n  population { /* none */\n  }\n\n  events { // none\n  }\n}\n',
    ],
    [
      'a comment inside an expression moves to its own line before its item (it is about that item, not the next)',
      'protocol "p" { session s1 { discharge when a > 1 // first\n and b < 2 /* two */ or c\n assert x always a } }',
      'protocol "p" {\n  session s1 {\n    // first\n    /* two */\n    discharge when a > 1 and b < 2 or c\n    assert x always a\n  }\n}\n',
    ],
    [
      'comments inside a rule',
      'protocol "p" { session s1 { rule r { // why\n when /* cond */ a for 2 min // sustained\n then notify t, /* and */ escalate e\n resume when b // ok\n } } }',
      'protocol "p" {\n  session s1 {\n    rule r { // why\n      /* cond */\n      when a for 2 min // sustained\n      /* and */\n      then notify t, escalate e\n      resume when b // ok\n    }\n  }\n}\n',
    ],
    [
      'an events block with comments goes one per line',
      'protocol "p" { events { a, // first\n b /* second */ c } }',
      'protocol "p" {\n  events {\n    a, // first\n    b, /* second */\n    c\n  }\n}\n',
    ],
    [
      'comments before and after the protocol',
      '// header\n/* licence\n   text */\nprotocol "p" { version "1" } // done\n// tail\n',
      '// header\n/* licence\n   text */\n\nprotocol "p" {\n  version "1"\n} // done\n// tail\n',
    ],
    [
      'comments in a block header',
      'protocol "p" { session /* a */ s1 { stage x /* b */ duration 5 min /* c */ { } } }',
      'protocol "p" {\n  session s1 {\n    /* a */\n    stage x duration 5 min {\n      /* b */\n      /* c */\n    }\n  }\n}\n',
    ],
  ];
  it.each(cases)('%s', (_name, src, expected) => {
    expect(formatHolds(src)).toBe(expected);
  });
});

describe('format: refuses broken files', () => {
  it.each([
    ['a syntax error', 'protocol "p" { roles { t } }'],
    ['an unclosed block', 'protocol "p" { roles { t 1 }'],
    ['an unexpected character', 'protocol "p" { version "1" @ }'],
    ['an unterminated comment', 'protocol "p" { } /* open'],
    ['a reserved word as a name', 'protocol "p" { session min { } }'],
  ])('%s', (_name, src) => {
    const r = format(src);
    expect(r.text).toBeUndefined();
    expect(r.changed).toBe(false);
    expect(r.diagnostics.some((d) => d.severity === 'error')).toBe(true);
  });

  it('reports no change for formatted text', () => {
    const r = format('protocol "p" {\n  version "1"\n}\n');
    expect(r).toEqual({ text: 'protocol "p" {\n  version "1"\n}\n', changed: false, diagnostics: [] });
  });
});

describe('format: the generator', () => {
  it('covers every construct of the AST', () => {
    const kinds = new Set<string>();
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) return v.forEach(visit);
      if (v === null || typeof v !== 'object') return;
      const o = v as Record<string, unknown>;
      if (typeof o['kind'] === 'string') kinds.add(o['kind']);
      for (const k of ['op', 'route', 'verb', 'mode']) if (typeof o[k] === 'string') kinds.add(`${k}:${String(o[k])}`);
      for (const k of ['exact', 'atLeast', 'atMost', 'per', 'qualified', 'max', 'repeat', 'spacing', 'within', 'duration', 'resume'])
        if (o[k] !== undefined) kinds.add(`has:${k}`);
      Object.values(o).forEach(visit);
    };
    fc.sample(protocol, { seed: 1, numRuns: 200 }).forEach(visit);
    const expected = [
      ...['Version', 'Setting', 'Population', 'Roles', 'Measures', 'Events', 'Drugs', 'Course', 'Session'],
      ...['Age', 'Exclude', 'ExcludeWhen', 'Caution', 'Role', 'Measure', 'Drug', 'CourseStep', 'CourseLimit'],
      ...['Staffing', 'StaffLine', 'Stage', 'Discharge', 'Rule', 'Assert', 'Monitor', 'Administer', 'Gate'],
      ...['every', 'at', 'start', 'continuously', 'over', 'once'],
      ...['Pause', 'Stop', 'EndSession', 'Defer', 'Escalate', 'Notify', 'Attend', 'Give', 'Reduce'],
      ...['Always', 'Never', 'Eventually', 'LeadsTo'],
      ...['Quantity', 'Ref', 'Paused', 'Observed', 'Baseline', 'InStage', 'Elapsed', 'Call', 'Not', 'Neg', 'Binary', 'Group', 'For', 'During'],
      ...['and', 'or', 'implies', '<', '<=', '>', '>=', '==', '!=', '+', '-', '*', '/'].map((op) => `op:${op}`),
      ...['iv', 'im', 'sublingual', 'intranasal', 'oral'].map((r) => `route:${r}`),
      'verb:monitor', 'verb:measure', 'mode:individual', 'mode:group',
      ...['exact', 'atLeast', 'atMost', 'per', 'qualified', 'max', 'repeat', 'spacing', 'within', 'duration', 'resume'].map((k) => `has:${k}`),
    ];
    expect(expected.filter((k) => !kinds.has(k))).toEqual([]);
  });
});

describe('format: properties', () => {
  it('(a) printing a generated tree parses back to the same tree', () => {
    fc.assert(
      fc.property(protocol, (p) => {
        const printed = printProtocol(p);
        const r = parse(printed);
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(stripSpans(r.protocol)).toEqual(stripSpans(p));
      }),
      { seed: propertySeed('format (a) print/parse round trip'), numRuns: NUM_RUNS },
    );
  }, PROPERTY_TIMEOUT);

  it('(a′) without any parentheses in the tree, the printer adds the ones precedence needs', () => {
    fc.assert(
      fc.property(protocol, (p) => {
        const bare = stripGroups(p);
        const r = parse(printProtocol(bare));
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(stripGroups(stripSpans(r.protocol))).toEqual(stripSpans(bare));
      }),
      { seed: propertySeed('format (a′) minimal parentheses'), numRuns: NUM_RUNS / 2 },
    );
  }, PROPERTY_TIMEOUT);

  it('(b, c) format is idempotent and ignores whitespace', () => {
    fc.assert(
      fc.property(perturbedProtocolText(), ({ original, perturbed }) => {
        const a = fmt(original);
        expect(a).toBe(original);
        const b = fmt(perturbed);
        expect(b).toBe(a);
        expect(format(b).changed).toBe(false);
      }),
      { seed: propertySeed('format (b, c) idempotent, whitespace-blind'), numRuns: NUM_RUNS },
    );
  }, PROPERTY_TIMEOUT);

  it('(b, d) with inserted comments: idempotent, tree kept, every comment kept exactly once', () => {
    fc.assert(
      fc.property(perturbedProtocolText({ comments: true }), ({ original, perturbed }) => {
        // The perturbation itself changes no token.
        expect(lex(perturbed).tokens.map((t) => t.image)).toEqual(lex(original).tokens.map((t) => t.image));
        formatHolds(perturbed);
      }),
      { seed: propertySeed('format (b, d) comments kept'), numRuns: NUM_RUNS },
    );
  }, PROPERTY_TIMEOUT);

  it('(e) no line passes MAX_WIDTH unless the wrapping rule has no break point left on it', () => {
    // The exception, precisely: such a line holds one operand that cannot be
    // broken (its `and`/`or`/`implies`, if any, sit inside a call's arguments
    // or under a comparison or arithmetic operator), possibly with its leading
    // operator or keyword, `(`, `not` and trailing `)`, `for …`, `during …`,
    // `within …`; or a single action; or a gate's `else …`; or a line the rule
    // does not wrap (declarations, name lists, headers: short in generated
    // protocols). Comments do not count.
    let wrapped = 0;
    fc.assert(
      fc.property(protocol, (p) => {
        const text = printProtocol(p);
        expect(unwrappedLines(text)).toEqual([]);
        wrapped += text.split('\n').filter((l) => /^\s+(and|or|implies|else) /.test(l)).length;
      }),
      { seed: propertySeed('format (e) line width'), numRuns: NUM_RUNS },
    );
    // The generator does produce conditions long enough to be wrapped.
    expect(wrapped).toBeGreaterThan(0);
  }, PROPERTY_TIMEOUT);

  it('(b, d) on perturbed spec examples', () => {
    const texts = readdirSync(specDir).map((f) => readFileSync(specDir + f, 'utf8'));
    fc.assert(
      fc.property(fc.constantFrom(...texts), randomTape, fc.boolean(), (text, tape, comments) => {
        const perturbed = perturbWhitespace(text, tapeRng(tape), { comments });
        const out = formatHolds(perturbed);
        if (!comments) expect(out).toBe(fmt(text));
      }),
      { seed: propertySeed('format (b, d) spec examples'), numRuns: 25 },
    );
  }, PROPERTY_TIMEOUT);
});
