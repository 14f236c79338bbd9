// Front-end throughput: parse + check of a large generated protocol, next to
// a hand-written tokenizer pass over the same text (the baseline), as a ratio.
import { analyze, lex } from '../packages/language/dist/index.js';
import { measure } from './measure.mjs';

/** A large, valid protocol: many sessions of realistic size. */
export function largeProtocol(targetBytes) {
  const head = `protocol "Benchmark" {
  setting individual
  population { age 18..75  exclude psychotic_disorder, pregnancy  caution uncontrolled_hypertension }
  roles { therapist 1..2  medical_provider 1 qualified "ACLS" }
  measures { sbp mmHg 50..260  dbp mmHg 30..160  hr bpm 20..220  spo2 % 50..100  cadss score 0..92 }
  events { nausea, vomiting, panic, chest_pain, request_stop }
`;
  const session = (i) => `
  // session ${i}
  session dosing_${i} {
    staffing {
      therapist >= 1
      medical_provider >= 1 during infusion, recovery
    }
    stage predose duration 15 min {
      measure sbp, dbp, hr at start
      gate sbp <= 160 and dbp <= 100 else defer "pre-dose blood pressure too high"
    }
    stage infusion duration 40 min {
      administer ketamine 0.5 mg/kg iv over 40 min
      monitor sbp, dbp, hr every 5 min
      monitor spo2 continuously
      monitor cadss at 40 min
    }
    stage recovery duration at least 60 min {
      monitor sbp, dbp, hr every 15 min
      monitor spo2 continuously
    }
    discharge when elapsed >= 120 min and sbp <= 160 and dbp <= 100 and cadss < 5
    rule hypertension {
      when (sbp > 180 or dbp > 110) and not caution uncontrolled_hypertension during infusion
      then pause infusion, notify medical_provider
      resume when sbp <= 160 and dbp <= 100 for 10 min
    }
    rule severe_hypertension { when sbp - baseline sbp > 60 mmHg then stop infusion, escalate emergency }
    rule desaturation { when spo2 < 90 for 1 min then stop infusion, escalate emergency }
    rule panic { when panic then attend therapist within 2 min for 15 min }
    rule nausea { when nausea or vomiting then give ondansetron 4 mg }
    rule chest_pain { when chest_pain then stop infusion, escalate emergency }
    rule stop_request { when request_stop then stop infusion, notify therapist }
    assert staffed always (infusion implies present(medical_provider) >= 1)
    assert responsive (sbp > 180 during infusion) implies (infusion paused) within 5 min
    assert terminates eventually (discharged or escalated or deferred) within 4 h
  }
`;
  let text = head;
  let i = 0;
  while (text.length < targetBytes) text += session(i++);
  return `${text}}\n`;
}

/** Baseline: a hand-written charCode tokenizer (no parsing, no tree). */
export function handTokenize(text) {
  let tokens = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13) {
      i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
    } else if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) {
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        if ((d >= 97 && d <= 122) || (d >= 65 && d <= 90) || d === 95 || (d >= 48 && d <= 57)) i++;
        else break;
      }
      tokens++;
    } else if (c >= 48 && c <= 57) {
      i++;
      for (;;) {
        const d = text.charCodeAt(i);
        if ((d >= 48 && d <= 57) || (d === 46 && text.charCodeAt(i + 1) !== 46)) i++;
        else break;
      }
      tokens++;
    } else if (c === 34) {
      i++;
      while (i < n && text.charCodeAt(i) !== 34) i++;
      i++;
      tokens++;
    } else {
      const d = text.charCodeAt(i + 1);
      i += (c === 46 && d === 46) || ((c === 60 || c === 62 || c === 61 || c === 33) && d === 61) ? 2 : 1;
      tokens++;
    }
  }
  return tokens;
}

export function benchLanguage() {
  const text = largeProtocol(1_000_000);
  const mb = text.length / 1e6;
  const check = analyze(text);
  const errors = check.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(`benchmark protocol has errors: ${errors[0].message}`);
  const tokens = lex(text).tokens.length;
  const baseline = measure(() => handTokenize(text));
  const lexOnly = measure(() => lex(text));
  const full = measure(() => analyze(text));
  const rate = (t) => mb / (t / 1000);
  return {
    title: `Front end: parse + check of a ${mb.toFixed(2)} MB protocol (${tokens.toLocaleString('en')} tokens)`,
    rows: [
      ['hand-written tokenizer (baseline)', `${rate(baseline).toFixed(1)} MB/s`, '1.00'],
      ['chevrotain lexer only', `${rate(lexOnly).toFixed(1)} MB/s`, (baseline / lexOnly).toFixed(3)],
      ['parse + check (analyze)', `${rate(full).toFixed(1)} MB/s`, (baseline / full).toFixed(3)],
    ],
  };
}
