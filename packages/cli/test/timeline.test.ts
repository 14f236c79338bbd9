import { scriptedScenario, simulate } from '@kapspec/simulator';
import { describe, expect, it } from 'vitest';
import { renderTimeline, summaryLine } from '../src/timeline.js';
import { ANSI } from './memory-io.js';
import { SMALL, irOf, surgeTrace } from './sim-fixtures.js';

const rowsOf = (text: string) => text.split('\n').filter((l) => l.startsWith('t+'));

describe('renderTimeline', () => {
  const { ir, trace } = surgeTrace();
  const text = renderTimeline(ir, trace, { file: 'small.kap' });
  const rows = rowsOf(text);

  it('starts with the protocol, seed, model, participant and staff', () => {
    expect(text.split('\n').slice(0, 4)).toEqual([
      'Protocol "Small", session dosing: seed 3, scripted model, 1 participant.',
      'p1: age 40, 70 kg; baseline SBP 130, SPO2 98; flags: none.',
      'Staff on duty: therapist 2, medical_provider 1.',
      '',
    ]);
    expect(text).toContain('time      stage               what happened\n');
  });

  it('one happening a line: time, stage, what happened', () => {
    expect(rows[0]).toBe('t+0       predose             predose begins');
    expect(rows).toContain('t+10      infusion            ketamine 0.5 mg/kg iv over 40 min started');
    expect(rows).toContain('t+25      infusion            EVENT panic');
    expect(rows).toContain('t+25      infusion            a therapist attends for 10 min (rule panic)');
  });

  it('a second call for a participant already attended keeps the same person on', () => {
    const twice = scriptedScenario({
      participants: [{ id: 'p1', vitals: { sbp: 130, spo2: 98 }, events: [{ t: 25, name: 'panic' }, { t: 30, name: 'panic' }] }],
      staffAtStart: { therapist: 2, medical_provider: 1 },
    });
    const tl = rowsOf(renderTimeline(ir, simulate(ir, { session: 'dosing', scenario: twice, seed: 3 }), { file: 'small.kap' }));
    expect(tl).toContain('t+25      infusion            a therapist attends for 10 min (rule panic)');
    expect(tl).toContain('t+30      infusion            the therapist already with them stays on for another 10 min (rule panic)');
    // No second therapist is taken: the pool never drops to 0 free.
    expect(tl).toContain('t+25      infusion            staff: therapist 1 free, 1 attending; medical_provider 1 free');
    expect(tl.some((l) => l.includes('therapist 0 free'))).toBe(false);
  });

  it('true and observed values of each reading', () => {
    expect(rows).toContain('t+30      infusion            measured SBP 195 (true 195)');
  });

  it('rules with their actions, and the paused marker while paused', () => {
    expect(rows).toContain('t+30      infusion            rule hypertension fired');
    expect(rows).toContain('t+30      infusion PAUSED     infusion PAUSED (rule hypertension)');
    expect(rows).toContain('t+40      infusion PAUSED     measured SBP 195 (true 195)');
    expect(rows).toContain('t+55      infusion            infusion resumed (rule hypertension)');
  });

  it('staff changes: called away, attending, back', () => {
    expect(rows).toContain('t+25      infusion            staff: therapist 1 free, 1 attending; medical_provider 1 free');
    expect(rows).toContain('t+40      infusion PAUSED     a therapist is called away');
    expect(rows).toContain('t+40      infusion PAUSED     staff: therapist 1 free, 1 absent; medical_provider 1 free');
    expect(rows).toContain('t+55      infusion            a therapist arrives');
  });

  it('continuous readings only beside other happenings of the minute', () => {
    const spo2 = rows.filter((r) => r.includes('SPO2'));
    expect(spo2.length).toBeGreaterThan(0);
    for (const r of spo2) {
      const minute = r.split(' ')[0];
      expect(rows.filter((x) => x.startsWith(`${minute} `) && !x.includes('SPO2')).length).toBeGreaterThan(0);
    }
    expect(rows.some((r) => r.startsWith('t+26 '))).toBe(false);
  });

  it('ends with the outcome row and a one-line summary naming the .kap line', () => {
    const discharge = SMALL.split('\n').findIndex((l) => l.includes('discharge when')) + 1;
    expect(rows[rows.length - 1]).toBe('t+95      (discharged)        OUTCOME discharged');
    expect(text.endsWith(`\nOutcome: discharged at t+95 min (discharge criteria, small.kap:${discharge}).\n`)).toBe(true);
  });

  it('is plain text unless colour is asked for', () => {
    expect(text).not.toMatch(ANSI);
    const colored = renderTimeline(ir, trace, { file: 'small.kap', color: true });
    expect(colored).toMatch(ANSI);
    expect(colored.replace(/\u001b\[[0-9;]*m/g, '')).toBe(text);
  });

  it('is the same text every time', () => {
    expect(renderTimeline(ir, surgeTrace().trace, { file: 'small.kap' })).toBe(text);
  });
});

describe('summaryLine', () => {
  it('a rule that ends the session: outcome, reason, rule and its line', () => {
    const text = SMALL.replace(
      'rule panic {\n      when panic\n      then attend therapist within 2 min for 10 min\n    }',
      'rule panic {\n      when panic\n      then end session "participant asked to stop"\n    }',
    );
    const ir = irOf(text, 'p.kap');
    const line = text.split('\n').findIndex((l) => l.includes('end session')) + 1;
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 130, spo2: 98 }, events: [{ t: 12, name: 'panic' }] }], staffAtStart: { therapist: 1, medical_provider: 1 } });
    const trace = simulate(ir, { session: 'dosing', scenario, seed: 1 });
    expect(summaryLine(ir, ir.sessions[0]!, trace, 'p.kap')).toBe(`Outcome: ended at t+12 min: participant asked to stop (rule panic, p.kap:${line}).`);
  });

  it('no outcome by the horizon', () => {
    const ir = irOf(SMALL, 's.kap');
    const scenario = scriptedScenario({ participants: [{ id: 'p1', vitals: { sbp: 170, spo2: 98 } }], staffAtStart: { therapist: 1, medical_provider: 1 } });
    const trace = simulate(ir, { session: 'dosing', scenario, seed: 1, horizonMinutes: 90 });
    expect(summaryLine(ir, ir.sessions[0]!, trace, 's.kap')).toBe('Outcome: none; the simulation stopped at the time horizon, t+90 min, with the participant still in session.');
    expect(rowsOf(renderTimeline(ir, trace, { file: 's.kap' })).pop()).toBe('t+90      recovery            simulation stopped at the time horizon: no outcome yet');
  });
});

describe('group sessions', () => {
  const GROUP = `protocol "Circle" {
  setting group 2..4

  roles {
    facilitator 1 per 2 participants
  }

  measures {
    sbp mmHg 50..260
  }

  events { panic }

  session circle {
    stage opening duration 10 min {
      measure sbp at start
    }

    stage journey duration 30 min {
      administer ketamine 1 mg/kg im once
      monitor sbp every 15 min
    }

    discharge when elapsed >= 40 min and sbp <= 160

    rule panic {
      when panic
      then attend facilitator within 2 min for 10 min
    }
  }
}
`;
  const ir = irOf(GROUP, 'circle.kap');
  const scenario = scriptedScenario({
    participants: [
      { id: 'p1', vitals: { sbp: 130 }, events: [{ t: 20, name: 'panic' }] },
      { id: 'p2', vitals: { sbp: [[0, 130], [30, 170], [40, 170]] } },
    ],
    staffAtStart: { facilitator: 1 },
  });
  const trace = simulate(ir, { session: 'circle', scenario, seed: 1 });
  const text = renderTimeline(ir, trace, { file: 'circle.kap' });

  it('a participant column; what the whole group does once, as `all`', () => {
    expect(text).toContain('time      stage               who  what happened\n');
    const rows = rowsOf(text);
    expect(rows).toContain('t+0       opening             all  opening begins');
    expect(rows).toContain('t+0       opening             p1   measured SBP 130 (true 130)');
    expect(rows).toContain('t+0       opening             p2   measured SBP 130 (true 130)');
    expect(rows).toContain('t+20      journey             p1   EVENT panic');
    expect(rows.filter((r) => r.includes('journey begins'))).toHaveLength(1);
  });

  it("each participant's outcome in the summary, and who was still in session at the horizon", () => {
    const discharge = GROUP.split('\n').findIndex((l) => l.includes('discharge when')) + 1;
    expect(text.trimEnd().split('\n').pop()).toBe(
      `Outcomes: discharged p1 at t+40 min (discharge criteria, circle.kap:${discharge}); the simulation stopped at the time horizon, t+80 min, with p2 still in session.`,
    );
  });
});
