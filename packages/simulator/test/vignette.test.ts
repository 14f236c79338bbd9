import { describe, expect, it } from 'vitest';
import { checkProperties, renderVignette, type PropertyResult, type Trace } from '../src/index.js';
import { FLAWED_KAP, GROUP, TraceBuilder, flagship, flawedIR, groupIR } from './trace-builder.js';

const ir = flawedIR();
const result = (trace: Trace, name: string, irx = ir): PropertyResult => {
  const r = checkProperties(irx, irx.sessions[0]!, trace).find((x) => x.name === name);
  if (!r) throw new Error(name);
  return r;
};

describe('renderVignette', () => {
  const trace = flagship().build();
  const responsive = result(trace, 'responsive');

  it('flagship: responsive fails; true SBP above 180 at 45 while the last reading says 163', async () => {
    const text = renderVignette(ir, trace, responsive, { source: FLAWED_KAP });
    await expect(text).toMatchFileSnapshot('./__snapshots__/vignette-responsive.txt');
    expect(text).toContain('SBP true 186 / seen 163 (5 min ago)');
    expect(text).toContain('infusion PAUSED (rule hypertension)');
  });

  it('is plain text unless colour is asked for', () => {
    const plain = renderVignette(ir, trace, responsive);
    expect(plain).not.toMatch(/\u001b\[/);
    expect(renderVignette(ir, trace, responsive, { color: true })).toMatch(/\u001b\[1;31mFAILED/);
  });

  it('is stable: the same inputs give the same text', () => {
    expect(renderVignette(ir, trace, responsive, { source: FLAWED_KAP })).toBe(renderVignette(ir, flagship().build(), responsive, { source: FLAWED_KAP }));
  });

  it('the same event twice in one minute shows once, with a count', () => {
    // Two reports of the same event at minute 45, inside the window.
    const base = flagship().event(45, 'request_stop').event(45, 'request_stop').build();
    const text = renderVignette(ir, base, result(base, 'responsive'));
    expect(text).toContain('EVENT request_stop (×2)');
    expect(text.match(/EVENT request_stop/g)).toHaveLength(1);
  });

  it('a passed property renders without a timeline', () => {
    const text = renderVignette(ir, trace, result(trace, 'staffed'));
    expect(text).toMatch(/^PASSED staffed \(assert\)/);
    expect(text).not.toContain('Minute by minute');
    expect(text.trimEnd().endsWith('Outcome: discharged at t+150 min.')).toBe(true);
  });

  it('group: two concurrent panics leave no facilitator free; both events show', async () => {
    const gir = groupIR();
    const b = new TraceBuilder({ session: 'circle', participants: GROUP, staff: { facilitator: 2, medical_provider: 1 }, protocol: 'Group circle' });
    b.enter(0, 'opening');
    for (const p of GROUP) b.truth(0, { sbp: p.baseline['sbp']! }, p.id).observe(0, { sbp: p.baseline['sbp']! }, p.id);
    b.enter(10, 'journey');
    b.event(30, 'panic', 'p1').rule(30, 'panic', 'p1').emit(30, { type: 'attend', participant: 'p1', role: 'facilitator', status: 'assigned', minutes: 20, rule: 'panic' });
    b.state(30, { free: { facilitator: 1, medical_provider: 1 } });
    b.event(31, 'panic', 'p2').rule(31, 'panic', 'p2').emit(31, { type: 'attend', participant: 'p2', role: 'facilitator', status: 'assigned', minutes: 20, rule: 'panic' });
    b.emit(31, { type: 'staffing.violation', kind: 'line', role: 'facilitator', op: '>=', required: 1, actual: 0, stage: 'journey', span: gir.sessions[0]!.staffing[1]!.span });
    b.state(31, { free: { facilitator: 0, medical_provider: 1 } });
    b.state(50, { free: { facilitator: 1, medical_provider: 1 } });
    b.end(60, 'horizon');
    const trace = b.build();
    const r = result(trace, 'builtin.staffing', gir);
    expect(r.status).toBe('failed');
    const text = renderVignette(gir, trace, r);
    await expect(text).toMatchFileSnapshot('./__snapshots__/vignette-group-staffing.txt');
    expect(text).toContain('p1: EVENT panic');
    expect(text).toContain('p2: EVENT panic');
  });
});
