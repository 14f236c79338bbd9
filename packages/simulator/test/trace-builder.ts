/**
 * Hand-built traces for the property checker, vignette and coverage tests
 * (independent of the driver): a small builder, the protocols they run
 * against, and the flagship trace — blood pressure checked every 20 min, a
 * true surge above 180 at minute 45 that the protocol only sees (and pauses
 * for) at minute 60.
 */
import { compile } from '@kapspec/compiler';
import type { IR, Outcome } from '@kapspec/runtime';
import type { Trace, TraceHeader, TraceParticipant, TraceRecord } from '../src/index.js';

export function compileKap(text: string, file: string): IR {
  const r = compile(text, { file });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (!r.ir || errors.length) throw new Error(`does not compile:\n${r.diagnostics.map((d) => `${d.code} @${d.span.start}: ${d.message}`).join('\n')}`);
  return r.ir;
}

export const P1: TraceParticipant = { id: 'p1', age: 45, weightKg: 70, baseline: { sbp: 130, hr: 72 }, flags: [] };

interface StateInit {
  stage?: string | undefined;
  paused?: string[];
  present?: Record<string, number>;
  free?: Record<string, number>;
  dose?: Record<string, number>;
}

export class TraceBuilder {
  readonly records: TraceRecord[] = [];
  private last: Required<Omit<StateInit, 'stage'>> & { stage: string | undefined };
  private readonly header: TraceHeader;

  constructor(header: Partial<TraceHeader> = {}) {
    this.header = {
      kapspecTrace: 1,
      protocol: 'test',
      session: 'dosing',
      irHash: '0'.repeat(64),
      seed: 7,
      model: 'scripted',
      parameters: {},
      participants: [P1],
      staff: { therapist: 1, medical_provider: 1 },
      ...header,
    };
    this.last = { stage: undefined, paused: [], present: { ...this.header.staff }, free: { ...this.header.staff }, dose: {} };
  }

  private push(r: TraceRecord): this {
    this.records.push(r);
    return this;
  }
  truth(t: number, values: Record<string, number>, participant?: string): this {
    return this.push({ t, type: 'truth', participant: participant ?? this.header.participants[0]?.id ?? 'p1', values });
  }
  observe(t: number, values: Record<string, number>, participant?: string): this {
    return this.push({ t, type: 'observe', ...(participant ? { participant } : {}), values });
  }
  request(t: number, measures: string[], stage: string, participant?: string): this {
    return this.push({ t, type: 'request', ...(participant ? { participant } : {}), measures, stage });
  }
  event(t: number, name: string, participant?: string): this {
    return this.push({ t, type: 'event', ...(participant ? { participant } : {}), name });
  }
  staff(t: number, action: 'arrive' | 'leave', role: string): this {
    return this.push({ t, type: 'staff', action, role });
  }
  emit(t: number, event: Record<string, unknown> & { type: string }): this {
    return this.push({ t, type: 'emit', event: { ...event, at: t } });
  }
  state(t: number, s: StateInit = {}): this {
    this.last = { ...this.last, ...s, stage: 'stage' in s ? s.stage : this.last.stage };
    const { stage, ...rest } = this.last;
    return this.push({ t, type: 'state', ...(stage !== undefined ? { stage } : {}), ...rest });
  }
  /** Stage change: exit emit of the current stage, enter emit, state. */
  enter(t: number, stage: string, extra: StateInit = {}): this {
    if (this.last.stage !== undefined) this.emit(t, { type: 'stage', stage: this.last.stage, phase: 'exit' });
    this.emit(t, { type: 'stage', stage, phase: 'enter' });
    return this.state(t, { ...extra, stage, paused: [] });
  }
  rule(t: number, rule: string, participant?: string): this {
    return this.emit(t, { type: 'rule', rule, ...(participant ? { participant } : {}) });
  }
  pause(t: number, stage: string, rule: string, participant?: string): this {
    this.emit(t, { type: 'stage', stage, phase: 'pause', rule, ...(participant ? { participant } : {}) });
    return participant ? this : this.state(t, { paused: [stage] });
  }
  resume(t: number, stage: string, rule: string, participant?: string): this {
    this.emit(t, { type: 'stage', stage, phase: 'resume', rule, ...(participant ? { participant } : {}) });
    return participant ? this : this.state(t, { paused: [] });
  }
  outcome(t: number, outcome: Outcome, participant?: string, reason?: string): this {
    return this.push({ t, type: 'outcome', ...(participant ? { participant } : {}), outcome, ...(reason ? { reason } : {}) });
  }
  end(t: number, reason: 'horizon' | 'outcome'): this {
    return this.push({ t, type: 'end', reason });
  }
  build(): Trace {
    const indexed = this.records.map((r, i) => ({ r, i }));
    indexed.sort((a, b) => a.r.t - b.r.t || a.i - b.i);
    return { header: this.header, records: indexed.map((x) => x.r) };
  }
  /** The trace cut at `t` (records after it dropped, no end record): a trace too short to decide. */
  buildUntil(t: number): Trace {
    const full = this.build();
    return { header: full.header, records: full.records.filter((r) => r.t <= t && r.type !== 'end') };
  }
}

// ── The individual protocol: blood pressure every 20 min ─────────────────

export const FLAWED_KAP = `protocol "Blood pressure every 20 minutes" {
  setting individual
  population {
    age 18..75
    exclude pregnancy
    exclude when baseline sbp >= 160
  }
  roles {
    therapist 1
    medical_provider 1
  }
  measures {
    sbp mmHg 50..260
    hr bpm 20..220
  }
  events { nausea, panic, vomiting }
  drugs {
    ketamine max 0.5 mg/kg
    ondansetron max 8 mg
  }
  session dosing {
    staffing {
      therapist >= 1
      medical_provider >= 1 during infusion
    }
    stage predose duration 20 min {
      measure sbp at start
    }
    stage infusion duration 80 min {
      administer ketamine 0.5 mg/kg iv over 80 min
      monitor sbp every 20 min
    }
    stage recovery duration at least 30 min {
      monitor sbp every 15 min
    }
    discharge when elapsed >= 120 min and sbp <= 160 mmHg
    rule hypertension {
      when sbp > 180 mmHg during infusion
      then pause infusion, notify medical_provider
      resume when sbp <= 160 mmHg
    }
    rule panic {
      when panic
      then attend therapist within 2 min for 15 min
    }
    rule nausea {
      when nausea
      then give ondansetron 4 mg iv
    }
    assert responsive (sbp > 180 mmHg during infusion) implies (infusion paused) within 5 min
    assert staffed always (infusion implies present(medical_provider) >= 1)
    assert acts_on_readings never (infusion and not infusion paused and observed sbp > 180 mmHg)
    assert terminates eventually (discharged or deferred or ended or escalated) within 4 h
    assert paused_by_70 eventually infusion paused within 70 min
    assert paused_by_50 eventually infusion paused within 50 min
    assert below_200 always sbp < 200 mmHg
    assert never_200 never sbp >= 200 mmHg
    assert seen_high never observed sbp > 180 mmHg
    assert sustained never (sbp > 180 mmHg for 10 min)
    assert unseen_low always observed sbp < 250 mmHg
    assert unseen_not_high always not (observed sbp > 250 mmHg)
  }
}
`;

export const flawedIR = (): IR => compileKap(FLAWED_KAP, 'flawed.kap');

const SBP: [number, number][] = [
  [0, 130], [5, 130], [10, 132], [15, 133], [20, 135], [25, 138], [30, 142], [35, 150], [40, 165], [45, 186], [50, 192],
  [55, 194], [60, 191], [65, 175], [70, 162], [75, 155], [80, 150], [85, 147], [90, 145], [95, 143], [100, 141], [105, 140],
  [110, 139], [115, 138], [120, 137], [125, 136], [130, 136], [135, 135], [140, 134], [145, 134], [150, 133],
];

/**
 * The flagship trace. Predose 0–20, infusion from 20 with readings at 20, 40,
 * 60, 80, 100; true SBP above 180 from minute 45; read (190) and paused at
 * 60; resumed at 80 (152); infusion done at 120; discharged at 150.
 */
export function flagship(): TraceBuilder {
  const b = new TraceBuilder({ protocol: 'Blood pressure every 20 minutes' });
  for (const [t, v] of SBP) b.truth(t, { sbp: v, hr: 75 });
  b.enter(0, 'predose').request(0, ['sbp'], 'predose').observe(0, { sbp: 131 });
  b.enter(20, 'infusion', { dose: { ketamine: 0 } });
  b.emit(20, { type: 'administer', phase: 'start', drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv', delivery: { kind: 'over', minutes: 80 }, stage: 'infusion', delivered: 0 });
  b.request(20, ['sbp'], 'infusion').observe(20, { sbp: 134 });
  b.request(40, ['sbp'], 'infusion').observe(40, { sbp: 163 }).state(40, { dose: { ketamine: 0.125 } });
  b.request(60, ['sbp'], 'infusion').observe(60, { sbp: 190 }).rule(60, 'hypertension');
  b.pause(60, 'infusion', 'hypertension');
  b.emit(60, { type: 'administer', phase: 'pause', drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv', delivery: { kind: 'over', minutes: 80 }, stage: 'infusion', delivered: 0.25, rule: 'hypertension' });
  b.emit(60, { type: 'notify', role: 'medical_provider', rule: 'hypertension' }).state(60, { dose: { ketamine: 0.25 } });
  b.request(80, ['sbp'], 'infusion').observe(80, { sbp: 152 });
  b.resume(80, 'infusion', 'hypertension');
  b.emit(80, { type: 'administer', phase: 'resume', drug: 'ketamine', dose: { value: 0.5, unit: 'mg/kg' }, route: 'iv', delivery: { kind: 'over', minutes: 80 }, stage: 'infusion', delivered: 0.25, rule: 'hypertension' });
  b.request(100, ['sbp'], 'infusion').observe(100, { sbp: 142 }).state(100, { dose: { ketamine: 0.375 } });
  b.enter(120, 'recovery', { dose: { ketamine: 0.5 } }).request(120, ['sbp'], 'recovery').observe(120, { sbp: 138 });
  b.request(135, ['sbp'], 'recovery').observe(135, { sbp: 136 });
  b.emit(150, { type: 'stage', stage: 'recovery', phase: 'exit' }).state(150, { stage: undefined });
  b.outcome(150, 'discharged').end(150, 'outcome');
  return b;
}

// ── A group protocol: exactly enough facilitators ────────────────────────

export const GROUP_KAP = `protocol "Group circle" {
  setting group 4..8
  roles {
    facilitator 1 per 4 participants
    medical_provider 1
  }
  measures {
    sbp mmHg 50..260
  }
  events { panic }
  session circle {
    staffing {
      medical_provider >= 1
      facilitator >= 1 per 4 participants
    }
    stage opening duration 10 min {
      measure sbp at start
    }
    stage journey duration 60 min {
      administer ketamine 1 mg/kg im once
      monitor sbp every 15 min
    }
    discharge when elapsed >= 70 min
    rule panic {
      when panic
      then attend facilitator within 2 min for 20 min
    }
    assert seen_within_15 (sbp > 170 mmHg) implies (observed sbp > 170 mmHg) within 15 min
  }
}
`;

export const groupIR = (): IR => compileKap(GROUP_KAP, 'group.kap');

export const GROUP: TraceParticipant[] = ['p1', 'p2', 'p3', 'p4'].map((id, i) => ({
  id,
  age: 30 + i,
  weightKg: 60 + 5 * i,
  baseline: { sbp: 120 + i },
  flags: [],
}));
