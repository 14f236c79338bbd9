/**
 * The semantic checker. Each case is a small protocol; the part a diagnostic
 * must point at is marked «like this» in the source (the markers are removed
 * before checking).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  analyze,
  check,
  LineIndex,
  parse,
  type Diagnostic,
  type DiagnosticCode,
  type Expr,
  type Span,
} from '../src/index.js';

// ── helpers ──────────────────────────────────────────────────────────────

/** Removes «» markers; returns the text and the spans they enclosed, in order. */
function marked(source: string): { text: string; spans: Span[] } {
  let text = '';
  const spans: Span[] = [];
  const open: number[] = [];
  for (const ch of source) {
    if (ch === '«') open.push(text.length);
    else if (ch === '»') spans.push({ start: open.pop() as number, end: text.length });
    else text += ch;
  }
  return { text, spans: spans.sort((a, b) => a.start - b.start) };
}

function diagnosticsOf(source: string): { text: string; spans: Span[]; diagnostics: readonly Diagnostic[] } {
  const { text, spans } = marked(source);
  return { text, spans, diagnostics: analyze(text).diagnostics };
}

/** Expects exactly one diagnostic with `code`, whose message contains `message`, at the (first) marked span. */
function expectOne(source: string, code: DiagnosticCode, message: string, hint?: string): Diagnostic {
  const { text, spans, diagnostics } = diagnosticsOf(source);
  const found = diagnostics.filter((d) => d.code === code);
  expect(found, `${code} in:\n${text}\nall: ${JSON.stringify(diagnostics, null, 1)}`).toHaveLength(1);
  const d = found[0] as Diagnostic;
  expect(d.message).toContain(message);
  if (hint !== undefined) expect(d.hint).toContain(hint);
  const span = spans[0];
  if (span) expect(text.slice(d.span.start, d.span.end)).toBe(text.slice(span.start, span.end));
  return d;
}

function codes(source: string): string[] {
  return diagnosticsOf(source).diagnostics.map((d) => d.code);
}

function errorsOf(source: string): Diagnostic[] {
  return diagnosticsOf(source).diagnostics.filter((d) => d.severity === 'error');
}

/** A clean protocol; `body` goes inside session `dosing`, `header` before it. */
function proto(body = '', header = '', extraSessions = ''): string {
  return `protocol "T" {
  ${header}
  roles { therapist 1..2  medical_provider 1 qualified "ACLS" }
  measures { sbp mmHg 50..260  hr bpm 20..220  spo2 % 50..100  cadss score 0..92 }
  events { panic, nausea }
  session dosing {
    staffing { therapist >= 1  medical_provider >= 1 during infusion }
    stage predose duration 15 min { measure sbp, hr at start }
    stage infusion duration 40 min {
      administer ketamine 0.5 mg/kg iv over 40 min
      monitor sbp, hr every 5 min
      monitor spo2 continuously
      monitor cadss at 40 min
    }
    stage recovery duration at least 30 min { monitor sbp every 15 min }
    discharge when elapsed >= 90 min and sbp <= 160
    rule panic { when panic then attend therapist within 2 min for 15 min }
    rule nausea { when nausea then notify therapist }
    ${body}
  }
  ${extraSessions}
}`;
}

const fixture = (name: string) =>
  readFileSync(fileURLToPath(new URL(`./fixtures/spec/${name}`, import.meta.url)), 'utf8');

// ── clean protocols ─────────────────────────────────────────────────────

describe('clean protocols', () => {
  it('the test template checks clean', () => {
    expect(diagnosticsOf(proto()).diagnostics).toEqual([]);
  });

  it('LANGUAGE.md §2–§3 example: no errors; only its two unhandled events warn', () => {
    const text = fixture('individual-iv.kap');
    const ds = analyze(text).diagnostics;
    expect(ds.filter((d) => d.severity === 'error')).toEqual([]);
    // `vomiting` and `chest_pain` are declared but no rule handles them: the
    // built-in "every declared event has a handling rule" property would fail.
    expect(ds.map((d) => `${d.code} ${text.slice(d.span.start, d.span.end)}`)).toEqual([
      'KAP3007 vomiting',
      'KAP3007 chest_pain',
    ]);
  });

  it('LANGUAGE.md §8 group example: no errors; only its two unhandled events warn', () => {
    const text = fixture('group-im.kap');
    const ds = analyze(text).diagnostics;
    expect(ds.filter((d) => d.severity === 'error')).toEqual([]);
    expect(ds.map((d) => `${d.code} ${text.slice(d.span.start, d.span.end)}`)).toEqual([
      'KAP3007 nausea',
      'KAP3007 request_stop',
    ]);
  });

  it('accepts the expression forms of the language', () => {
    const body = `
    rule a { when sbp > baseline sbp + 20 and hr > 1.2 * baseline hr then notify therapist }
    rule b { when caution uncontrolled_hypertension and sbp > 160 during infusion, recovery then pause infusion
             resume when sbp <= 150 for 10 min }
    rule c { when stage infusion and not (spo2 >= 92 %) for 30 s then stop infusion }
    rule d { when count(panic) >= 2 or free(therapist) < 1 then escalate emergency }
    rule e { when max(sbp, baseline sbp) - min(sbp, 100) > 40 mmHg then notify medical_provider }
    rule f { when dose(ketamine) >= 0.5 mg/kg and elapsed > 1 h then reduce ketamine to 0.25 mg/kg }
    rule g1 { when infusion paused and -hr < -30 then give ondansetron 4 mg }
    assert a1 always (infusion implies present(medical_provider) >= 1)
    assert a2 (observed sbp > 180 during infusion) implies (infusion paused) within 5 min
    assert a3 eventually (discharged or escalated or deferred or ended) within 4 h
    assert a4 never (sbp / baseline sbp > 2)`;
    const header = 'population { age 18..75 exclude pregnancy caution uncontrolled_hypertension exclude when baseline sbp >= 160 }';
    expect(diagnosticsOf(proto(body, header)).diagnostics).toEqual([]);
  });
});

// ── names ────────────────────────────────────────────────────────────────

describe('names (KAP2xxx)', () => {
  it('KAP2001: a measure declared twice, with the first declaration as related span', () => {
    const { text, diagnostics } = diagnosticsOf(
      'protocol "T" { measures { sbp mmHg 50..260  «sbp» mmHg 50..260 } session sx { stage a { measure sbp at start } } }',
    );
    const d = diagnostics.find((x) => x.code === 'KAP2001') as Diagnostic;
    expect(d.message).toBe('Measure `sbp` is declared twice.');
    expect(d.related?.[0]?.message).toBe('first declared here');
    expect(text.slice(d.related![0]!.span.start)).toMatch(/^sbp mmHg 50\.\.260  sbp/);
    expectOne('protocol "T" { measures { sbp mmHg 50..260  «sbp» mmHg 50..260 } session sx { stage a { measure sbp at start } } }', 'KAP2001', 'declared twice');
  });

  it('KAP2001: stages, rules, sessions, condition flags and a measure/event clash', () => {
    expectOne(proto('stage «recovery» duration 10 min { }'), 'KAP2001', 'Stage `recovery` is declared twice');
    expectOne(proto('rule «panic» { when panic then notify therapist }'), 'KAP2001', 'Rule `panic` is declared twice');
    expectOne(proto('', '', 'session «dosing» { stage x duration 1 min { } }'), 'KAP2001', 'Session `dosing` is declared twice');
    expectOne(proto('', 'population { exclude pregnancy caution «pregnancy» }'), 'KAP2001', 'under both `exclude` and `caution`');
    expectOne(
      'protocol "T" { measures { sbp mmHg 50..260 } events { «sbp» } session sx { stage a { measure sbp at start } } }',
      'KAP2001',
      '`sbp` is already declared as a measure; a event needs another name',
    );
    expectOne(proto('stage «hr» duration 5 min { }'), 'KAP2001', '`hr` is already declared as a measure; a stage needs another name');
  });

  it('KAP2003: a singleton section written twice', () => {
    expectOne(proto('', '«roles» { nurse 1 }'), 'KAP2003', 'The `roles` section is written twice', 'Merge');
    expectOne(proto('«discharge» when elapsed >= 2 h'), 'KAP2003', 'Session `dosing` has two `discharge` sections');
  });

  it('KAP2002: an unknown measure with a "did you mean" hint', () => {
    expectOne(proto('rule r { when «spo3» < 90 then notify therapist }'), 'KAP2002', '`spo3` is not a declared', 'Did you mean `spo2`?');
  });

  it('KAP2002: unknown roles, stages, sessions, flags and monitored measures', () => {
    expectOne(proto('rule r { when panic then notify «therapst» }'), 'KAP2002', '`therapst` is not a declared role', 'Did you mean `therapist`?');
    expectOne(proto('rule r { when panic then pause «infuson» }'), 'KAP2002', 'not a stage of session `dosing`', 'Did you mean `infusion`?');
    expectOne(proto('', 'course { «dossing» repeat 2 }'), 'KAP2002', '`dossing` is not a declared session', 'Did you mean `dosing`?');
    expectOne(proto('', 'course { dosing limit «dose» 2 per 7 days }'), 'KAP2002', '`dose` is not a declared session');
    expectOne(proto('rule r { when caution «hypertension» then notify therapist }'), 'KAP2002', 'not a condition flag listed in `population`');
    expectOne(proto('stage extra duration 5 min { monitor «rr» every 5 min }'), 'KAP2002', '`rr` is not a declared measure');
    expectOne(proto('', '', 'session other { stage «a» duration 1 min { } }').replace('during infusion', 'during «a»'), 'KAP2002', '`a` is not a stage of session `dosing`; it is a stage of session `other`');
  });

  it('KAP2002: `during` must name a stage of the same session', () => {
    expectOne(
      proto('', '', 'session other { stage talk duration 5 min { measure sbp at start } rule r { when sbp > 180 during «infusion» then notify therapist } }'),
      'KAP2002',
      '`infusion` is not a stage of session `other`; it is a stage of session `dosing`',
    );
  });

  it('KAP2004: a name of the wrong kind', () => {
    expectOne(proto('rule r { when panic then notify «infusion» }'), 'KAP2004', '`infusion` is a stage, not a role');
    expectOne(proto('rule r { when «therapist» then notify therapist }'), 'KAP2004', '`therapist` is a role', 'present(therapist) >= 1');
    expectOne(proto('stage extra duration 5 min { monitor «panic» every 5 min }'), 'KAP2004', '`panic` is an event, not a measure');
    expectOne(proto('rule r { when present(«sbp») < 1 then escalate emergency }'), 'KAP2004', '`sbp` is a measure, not a role');
  });

  it('drugs: free names without a `drugs` block, declared names with one', () => {
    expect(codes(proto('rule r { when nausea then give ondansetron 4 mg }'))).toEqual([]);
    const header = 'drugs { ketamine max 1 mg/kg  ondansetron max 8 mg }';
    expect(codes(proto('rule r { when nausea then give ondansetron 4 mg }', header))).toEqual([]);
    expectOne(proto('rule r { when nausea then give «ondansteron» 4 mg }', header), 'KAP2002', '`ondansteron` is not a declared drug', 'Did you mean `ondansetron`?');
    expectOne(proto('rule r { when dose(«midazolam») > 1 mg then notify therapist }', header), 'KAP2002', 'not a declared drug');
  });

  it('KAP2005 and KAP3016: unknown functions and wrong arity', () => {
    expectOne(proto('rule r { when «mx»(sbp, hr) > 1 then notify therapist }'), 'KAP2005', '`mx` is not a function', 'Did you mean `max`?');
    expectOne(proto('rule r { when «present(therapist, medical_provider)» < 1 then notify therapist }'), 'KAP3016', '`present` takes 1 argument, but 2 are given');
    expectOne(proto('rule r { when «max(sbp)» > 1 then notify therapist }'), 'KAP3016', '`max` takes 2 arguments, but 1 is given');
  });

  it('resolves bare names: measure, event, stage, outcome', () => {
    const { text } = marked(proto('assert a always (sbp > 0 or panic or infusion or discharged)'));
    const parsed = parse(text);
    const { symbols } = check(parsed.protocol!);
    const kinds: string[] = [];
    const walk = (e: Expr): void => {
      if (e.kind === 'Ref') kinds.push(`${e.name.text}:${symbols.refKind(e)}`);
      if (e.kind === 'Binary') {
        walk(e.left);
        walk(e.right);
      }
      if (e.kind === 'Group') walk(e.expr);
    };
    const session = parsed.protocol!.items.find((i) => i.kind === 'Session');
    const assert = session?.kind === 'Session' ? session.items.find((i) => i.kind === 'Assert') : undefined;
    if (assert?.kind !== 'Assert' || assert.property.kind !== 'Always') throw new Error('no assert');
    walk(assert.property.expr);
    expect(kinds).toEqual(['sbp:measure', 'panic:event', 'infusion:stage', 'discharged:outcome']);
    expect(symbols.exprType(assert.property.expr)).toEqual({ kind: 'bool' });
  });
});

// ── units and dimensions ─────────────────────────────────────────────────

describe('units and dimensions (KAP3001–KAP3003)', () => {
  it('KAP3001: `sbp > 180 bpm` names both units', () => {
    expectOne(
      proto('rule r { when «sbp > 180 bpm» then notify therapist }'),
      'KAP3001',
      '`sbp` is a pressure (mmHg) but `180 bpm` is a rate (bpm); they cannot be compared.',
      'Write the threshold in mmHg, e.g. `sbp > 180`.',
    );
  });

  it('a bare number next to a measure takes its unit', () => {
    expect(codes(proto('rule r { when sbp > 180 or cadss < 5 or spo2 < 90 then notify therapist }'))).toEqual([]);
  });

  it('KAP3001: arithmetic of different dimensions and counts against units', () => {
    expectOne(proto('rule r { when «sbp + hr» > 200 then notify therapist }'), 'KAP3001', 'they cannot be added');
    expectOne(proto('rule r { when «sbp * hr» > 200 then notify therapist }'), 'KAP3001', 'they cannot be multiplied');
    expectOne(proto('rule r { when «present(therapist) >= 1 mmHg» then notify therapist }'), 'KAP3001', '`present(therapist)` is a count but `1 mmHg` is a pressure');
    expectOne(proto('rule r { when «sbp / 2 min» > 1 then notify therapist }'), 'KAP3001', 'one cannot be divided by the other');
  });

  it('KAP3003: a time position without a unit', () => {
    expectOne(proto('stage x duration 5 min { monitor sbp every «15» }'), 'KAP3003', '`every 15` needs a unit: write `every 15 min`.');
    expectOne(proto('rule r { when sbp > 180 for «2» then notify therapist }'), 'KAP3003', '`for 2` needs a unit');
    expectOne(proto('stage x duration «5» { }'), 'KAP3003', '`duration 5` needs a unit');
    expectOne(proto('rule r { when panic then attend therapist within «2» for 5 min }'), 'KAP3003', '`within 2` needs a unit');
    expectOne(proto('', 'course { dosing limit dosing 2 per «7» }'), 'KAP3003', '`per 7` needs a unit');
  });

  it('KAP3003: `elapsed` and `dose()` compared with a bare number', () => {
    expectOne(proto('discharge when elapsed >= «120»').replace('discharge when elapsed >= 90 min and sbp <= 160', ''), 'KAP3003', '`elapsed >= 120` needs a unit: write `elapsed >= 120 min`.');
    expectOne(proto('rule r { when dose(ketamine) > «1» then notify therapist }'), 'KAP3003', 'write `dose(ketamine) > 1 mg/kg`');
  });

  it('KAP3003: a dose without a unit', () => {
    expectOne(proto('rule r { when nausea then give ondansetron «4» }'), 'KAP3003', 'The dose `4` of `ondansetron` needs a unit');
  });

  it('KAP3002: a quantity of the wrong dimension', () => {
    expectOne(proto('stage x duration 5 min { monitor sbp every 5 «mg» }'), 'KAP3002', '`every 5 mg` needs a time, but `mg` is a unit of dose');
    expectOne(proto('rule r { when nausea then give ondansetron 4 «min» }'), 'KAP3002', 'The dose `4 min` of `ondansetron` is a time, not a dose');
    expectOne('protocol "T" { measures { wait «min» 0..60 } session sx { stage a { measure wait at start } } }', 'KAP3002', 'The measure `wait` has the unit `min`, which is a time');
    expectOne(proto('', 'course { dosing repeat 2 spacing 2..4 «mg» }'), 'KAP3002', '`spacing` needs a time');
  });
});

// ── types ────────────────────────────────────────────────────────────────

describe('types (KAP3004)', () => {
  it('a measure used as a condition', () => {
    expectOne(proto('rule r { when «sbp» then notify therapist }'), 'KAP3004', '`sbp` is a number, not a yes/no condition', 'Compare it with a threshold, e.g. `sbp >');
  });
  it('an event compared with a number', () => {
    expectOne(proto('rule r { when «panic» > 3 then notify therapist }'), 'KAP3004', '`panic` is a yes/no condition, not a number', '`count(panic) >= 2`');
  });
  it('operands of and/or/not and bodies of asserts', () => {
    expectOne(proto('rule r { when panic and «hr» then notify therapist }'), 'KAP3004', '`hr` is a number');
    expectOne(proto('rule r { when not «elapsed» then notify therapist }'), 'KAP3004', '`elapsed` is a number');
    expectOne(proto('assert a always «present(therapist)»'), 'KAP3004', '`present(therapist)` is a number');
    expectOne(proto('rule r { when panic then pause infusion resume when «spo2» }'), 'KAP3004', '`spo2` is a number');
  });
  it('a function argument that is not a name', () => {
    expectOne(proto('rule r { when present(«1») < 1 then notify therapist }'), 'KAP3004', '`present` needs the name of a role');
  });
});

// ── placement ────────────────────────────────────────────────────────────

describe('placement (KAP3012, KAP3017)', () => {
  it('KAP3012: an outcome outside an assert', () => {
    expectOne(proto('rule r { when «discharged» then notify therapist }'), 'KAP3012', '`discharged` is a session outcome');
  });
  it('KAP3012: session-only constructs in `population`', () => {
    expectOne(proto('', 'population { exclude when «elapsed» > 5 min }'), 'KAP3012', 'has no meaning in `population`');
    expectOne(proto('', 'population { exclude when «observed sbp» > 160 }'), 'KAP3012', 'has no meaning in `population`', 'baseline sbp');
  });
  it('KAP3017: `observed` in a rule is redundant; in an assert it is meaningful', () => {
    const d = expectOne(proto('rule r { when «observed sbp» > 180 then notify therapist }'), 'KAP3017', 'already means the last observed value', 'Write `sbp`.');
    expect(d.severity).toBe('warning');
    expect(codes(proto('assert a always (observed sbp < 200)'))).toEqual([]);
  });
  it('`baseline` needs a measure', () => {
    expectOne(proto('rule r { when baseline «panic» > 1 then notify therapist }'), 'KAP2004', '`panic` is an event, not a measure');
  });
});

// ── ranges ───────────────────────────────────────────────────────────────

describe('ranges (KAP3005, KAP3006, KAP3013)', () => {
  it('KAP3005: lower bound above upper bound', () => {
    expectOne('protocol "T" { measures { sbp mmHg «260..50» } session sx { stage a { measure sbp at start } } }', 'KAP3005', 'The `sbp` range `260..50` is empty', '`50..260`');
    expectOne(proto('', 'population { age «75..18» }'), 'KAP3005', 'The age range');
    expectOne(proto('', 'setting group «12..4»'), 'KAP3005', 'group size');
    expectOne(proto('', 'course { dosing repeat «6..2» spacing 2..4 days }'), 'KAP3005', 'repeat');
    expectOne(proto('', 'course { dosing repeat 2 spacing «4..2 days» }'), 'KAP3005', 'spacing');
    expectOne(proto('stage x duration at least «60 min at most 30 min» { }'), 'KAP3005', 'no duration fits both');
    expectOne(proto().replace('therapist 1..2', 'therapist «2..1»'), 'KAP3005', '`therapist` range');
  });

  it('KAP3006: a threshold outside the measure’s possible range is a warning', () => {
    const d = expectOne(
      proto('rule r { when sbp > «300» then notify therapist }'),
      'KAP3006',
      '`300` is outside the possible range of `sbp` (50..260 mmHg), so `sbp > 300` is never true.',
    );
    expect(d.severity).toBe('warning');
    expectOne(proto('rule r { when «120» < spo2 then notify therapist }'), 'KAP3006', 'is never true');
    expectOne(proto('rule r { when spo2 <= «101 %» then notify therapist }'), 'KAP3006', 'is always true');
    expect(codes(proto('rule r { when sbp >= 260 or spo2 < 50 then notify therapist }'))).toEqual([]);
  });

  it('KAP3013: zero intervals, durations, doses and counts', () => {
    expectOne(proto('stage x duration 5 min { monitor sbp every «0 min» }'), 'KAP3013', '`every 0 min` is zero');
    expectOne(proto('stage x duration «0 min» { }'), 'KAP3013', '`duration 0 min` is zero');
    expectOne(proto('rule r { when nausea then give ondansetron «0 mg» }'), 'KAP3013', 'is zero');
    expectOne(proto('', 'setting group 4..12', '').replace('therapist >= 1 ', 'therapist >= 1 per «0» participants '), 'KAP3013', '`per 0 participants`');
    expectOne(proto('', 'course { dosing limit dosing «0» per 7 days }'), 'KAP3013', 'allows no session');
  });
});

// ── setting and structure ────────────────────────────────────────────────

describe('setting and structure (KAP3014, KAP3015)', () => {
  it('KAP3014: `per N participants` in an individual protocol', () => {
    const d = expectOne(proto().replace('therapist >= 1 ', 'therapist >= 1 per «4» participants '), 'KAP3014', 'has no effect in an individual protocol');
    expect(d.severity).toBe('warning');
    expect(codes(proto('', 'setting group 4..12').replace('therapist >= 1 ', 'therapist >= 1 per 4 participants '))).toEqual([]);
  });
  it('KAP3015: a protocol with no session, a session with no stage', () => {
    expectOne('protocol «"T"» { measures { sbp mmHg 50..260 } }', 'KAP3015', 'This protocol has no session.');
    expectOne(proto('', '', 'session «empty» { }'), 'KAP3015', 'Session `empty` has no stage.');
  });
});

// ── warnings ─────────────────────────────────────────────────────────────

describe('warnings (KAP3007–KAP3010)', () => {
  it('KAP3007: an event no rule handles, on its declaration', () => {
    const d = expectOne(proto().replace('events { panic, nausea }', 'events { panic, nausea, «vomiting» }'), 'KAP3007', 'The event `vomiting` has no rule');
    expect(d.severity).toBe('warning');
  });
  it('KAP3007: an event handled in another session counts; an event only in an assert does not', () => {
    const other = 'session other { stage a duration 5 min { } rule v { when count(vomiting) > 1 then notify therapist } }';
    expect(codes(proto('', '', other).replace('events { panic, nausea }', 'events { panic, nausea, vomiting }'))).toEqual([]);
    expectOne(
      proto('assert a never vomiting').replace('events { panic, nausea }', 'events { panic, nausea, «vomiting» }'),
      'KAP3007',
      '`vomiting` has no rule',
    );
  });
  it('KAP3008: a measure a rule reads that the session never measures', () => {
    const src = proto('', '', 'session other { stage a duration 5 min { measure sbp at start } rule r { when «hr» > 120 then notify therapist } }');
    const d = expectOne(src, 'KAP3008', '`hr` is read here, but session `other` never measures it.', '`monitor hr every');
    expect(d.severity).toBe('warning');
    // gates and discharge count as reads; baseline does not; asserts read true values
    const other2 = 'session o2 { stage a duration 5 min { gate «spo2» > 90 else defer "low" } discharge when baseline hr < 100 assert x always cadss < 90 }';
    expectOne(proto('', '', other2), 'KAP3008', '`spo2` is read here');
  });
  it('KAP3009: stages after a stage that never ends', () => {
    const src = proto(
      'stage «extra» duration 5 min { }',
    ).replace('stage recovery duration at least 30 min', 'stage recovery duration at least 30 min');
    const d = expectOne(src, 'KAP3009', 'Stage `extra` can never start, because stage `recovery` before it never ends (`duration at least 30 min` sets no upper bound).');
    expect(d.related?.[0]?.message).toBe('this stage never ends');
    // every later stage is reported, naming the first stage that never ends
    const two = proto('stage «e1» duration 5 min { } stage e2 duration 5 min { }').replace(' duration 15 min {', ' {');
    expect(diagnosticsOf(two).diagnostics.filter((x) => x.code === 'KAP3009').map((x) => x.message)).toEqual([
      'Stage `infusion` can never start, because stage `predose` before it never ends (it has no `duration`).',
      'Stage `recovery` can never start, because stage `predose` before it never ends (it has no `duration`).',
      'Stage `e1` can never start, because stage `predose` before it never ends (it has no `duration`).',
      'Stage `e2` can never start, because stage `predose` before it never ends (it has no `duration`).',
    ]);
    // a rule that stops the open-ended stage makes the next one reachable; so does `at most`
    expect(codes(proto('stage extra duration 5 min { } rule st { when sbp < 100 then stop recovery }'))).toEqual([]);
    expect(codes(proto('stage extra duration 5 min { }').replace('at least 30 min', 'at least 30 min at most 60 min'))).toEqual([]);
  });
  it('KAP3010: an assert that names nothing observable', () => {
    const d = expectOne(proto('assert «vacuous» always (1 < 2)'), 'KAP3010', 'The assert `vacuous` mentions nothing a session can show');
    expect(d.severity).toBe('warning');
    expect(codes(proto('assert ok always (elapsed < 5 h)'))).toEqual([]);
  });
});

// ── robustness and end to end ────────────────────────────────────────────

describe('robustness', () => {
  it('reports a misspelt measure, a unit mismatch and a syntax error in three rules, each on its line', () => {
    const text = `protocol "Three mistakes" {
  roles { therapist 1 }
  measures { sbp mmHg 50..260  spo2 % 50..100 }
  events { panic }
  session sx {
    stage a duration 10 min { monitor sbp, spo2 every 5 min }
    rule one { when spo3 < 90 then notify therapist }
    rule two { when sbp > 180 bpm then notify therapist }
    rule three { when panic then notify }
    rule four { when panic then notify therapist }
  }
}
`;
    const ds = analyze(text).diagnostics;
    const index = new LineIndex(text);
    const errors = ds.filter((d) => d.severity === 'error').map((d) => `${index.position(d.span.start).line} ${d.code}`);
    expect(errors).toEqual(['7 KAP2002', '8 KAP3001', '9 KAP1003']);
  });

  it('never throws on a tree with Missing nodes, and reports nothing more about them', () => {
    const text = proto('rule r { when sbp > then notify therapist } rule q { when (and) then notify therapist }');
    const ds = analyze(text).diagnostics;
    expect(ds.length).toBeGreaterThan(0);
    expect(ds.every((d) => d.code.startsWith('KAP1'))).toBe(true);
  });

  it('never throws on truncated and mutated versions of the examples', () => {
    const texts = [fixture('individual-iv.kap'), fixture('group-im.kap')];
    let n = 0;
    for (const text of texts) {
      for (let cut = 0; cut < text.length; cut += 41) {
        const variants = [text.slice(0, cut), text.slice(0, cut) + text.slice(cut + 5), text.slice(0, cut) + ')' + text.slice(cut)];
        for (const v of variants) {
          const r = analyze(v);
          for (const d of r.diagnostics) {
            expect(d.span.start).toBeGreaterThanOrEqual(0);
            expect(d.span.end).toBeLessThanOrEqual(v.length);
          }
          n++;
        }
      }
    }
    expect(n).toBeGreaterThan(100);
  }, 60_000);
});

describe('symbol table', () => {
  it('exposes declarations, sessions with ordered stages, the setting, and expression types', () => {
    const text = proto('rule t { when sbp > 180 then notify therapist }', 'setting group 4..12 population { exclude pregnancy caution asthma } drugs { ketamine max 1 mg/kg }');
    const parsed = parse(text);
    const { symbols, diagnostics } = check(parsed.protocol!);
    expect(diagnostics).toEqual([]);
    expect([...symbols.measures.keys()]).toEqual(['sbp', 'hr', 'spo2', 'cadss']);
    expect([...symbols.events.keys()]).toEqual(['panic', 'nausea']);
    expect([...symbols.roles.keys()]).toEqual(['therapist', 'medical_provider']);
    expect([...symbols.drugs.keys()]).toEqual(['ketamine']);
    expect(symbols.drugsDeclared).toBe(true);
    expect([...symbols.flags.entries()].map(([k, v]) => `${k}:${v.list}`)).toEqual(['pregnancy:exclude', 'asthma:caution']);
    expect(symbols.setting.mode).toBe('group');
    expect(symbols.setting.size).toEqual({ min: 4, max: 12 });
    const dosing = symbols.sessions.get('dosing')!;
    expect([...dosing.stages.keys()]).toEqual(['predose', 'infusion', 'recovery']);
    expect(symbols.doseDimension('ketamine')).toBe('weight-dose');
    const rule = dosing.rules.get('t')!;
    expect(rule.when.kind).toBe('Binary');
    if (rule.when.kind !== 'Binary') return;
    expect(symbols.exprType(rule.when.left)).toEqual({ kind: 'number', dimension: 'pressure' });
    // the bare threshold takes the measure's dimension
    expect(symbols.exprType(rule.when.right)).toEqual({ kind: 'number', dimension: 'pressure' });
    expect(symbols.exprType(rule.when)).toEqual({ kind: 'bool' });
  });
});
