import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIAGNOSTIC_CODES, diagnosticsToJson, renderDiagnostics, type DiagnosticCode } from '@kapspec/language';
import { loadIR, type Rule } from '@kapspec/runtime';
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { compile, toDot, toMermaid, toXStateJson } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const examples = (readdirSync(join(root, 'examples'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.kap'))
  .sort();
const read = (rel: string): string => readFileSync(join(root, rel), 'utf8');

describe('compile: every example', () => {
  it('has examples to compile', () => expect(examples.length).toBeGreaterThanOrEqual(3));

  it.each(examples)('%s compiles to an IR that loadIR accepts', (name) => {
    const result = compile(read(`examples/${name}`), { file: `examples/${name}` });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.ir).toBeDefined();
    const reloaded = loadIR(JSON.stringify(result.ir));
    expect(reloaded).toEqual(result.ir);
  });

  it.each(examples)('%s exports diagrams naming every stage', (name) => {
    const { ir } = compile(read(`examples/${name}`));
    const stages = ir!.sessions.flatMap((s) => s.stages.map((st) => st.name));
    const mermaid = toMermaid(ir!);
    const dot = toDot(ir!);
    for (const st of stages) {
      expect(mermaid).toContain(st);
      expect(dot).toContain(st);
    }
    expect(mermaid.startsWith('---\ntitle:')).toBe(true);
    expect(dot.startsWith('digraph')).toBe(true);
  });

  it.each(examples)('%s exports an XState config that xstate accepts', (name) => {
    const { ir } = compile(read(`examples/${name}`));
    for (const session of ir!.sessions) {
      const config = JSON.parse(toXStateJson(ir!, [session])) as Parameters<typeof createMachine>[0];
      const machine = createMachine(config);
      expect(machine.id).toBe(session.name);
      expect(Object.keys(machine.states)).toEqual(expect.arrayContaining(session.stages.map((s) => s.name)));
    }
  });
});

describe('compile: lowering', () => {
  const src = `protocol "Lowering" {
  roles { therapist 1 }
  measures { sbp mmHg 50..260 }
  events { panic }
  drugs { ketamine, midazolam max 2000 mcg }
  session dosing {
    stage infusion duration 1 h {
      administer ketamine 500 mcg/kg iv over 40 min
      monitor sbp every 90 s
    }
    discharge when elapsed >= 2 h and sbp <= 160
    rule calm { when panic then give midazolam 1000 mcg, attend therapist within 2 min for 15 min }
  }
}
`;

  it('converts quantities to canonical units and keeps the unit of doses', () => {
    const { ir, diagnostics } = compile(src);
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const session = ir!.sessions[0]!;
    const stage = session.stages[0]!;
    expect(stage.duration.exact).toBe(60);
    expect(stage.monitors[0]!.schedule).toEqual({ kind: 'every', minutes: 1.5 });
    expect(stage.administer[0]!.dose).toEqual({ value: 0.5, unit: 'mg/kg' });
    expect(ir!.drugs.find((d) => d.name === 'midazolam')).toMatchObject({ unit: 'mg', max: { value: 2, unit: 'mg' } });
    const rule = session.rules[0] as Rule;
    expect(rule.actions[0]).toMatchObject({ kind: 'give', dose: { value: 1, unit: 'mg' } });
    expect(rule.actions[1]).toMatchObject({ kind: 'attend', role: 'therapist', within: 2, minutes: 15 });
  });

  it('records the source line of every rule', () => {
    const { ir } = compile(src, { file: 'lowering.kap' });
    expect(ir!.sessions[0]!.rules[0]!.span).toMatchObject({ file: 'lowering.kap', line: 12, column: 5 });
  });

  it('gives no IR for a protocol with errors', () => {
    const result = compile(src.replace('sbp <= 160', 'sbp <= 160 bpm'));
    expect(result.ir).toBeUndefined();
    expect(result.diagnostics.map((d) => d.code)).toContain('KAP3001');
  });
});

describe('compile: golden diagnostics (KAP4xxx)', () => {
  const dir = fileURLToPath(new URL('./fixtures/diagnostics/', import.meta.url));
  const fixtures = readdirSync(dir).filter((f) => f.endsWith('.kap')).sort();

  it.each(fixtures)('%s', async (name) => {
    const source = readFileSync(join(dir, name), 'utf8');
    const file = `fixtures/diagnostics/${name}`;
    const { diagnostics } = compile(source, { file });
    expect(diagnostics.map((d) => d.code)).toContain(name.slice(0, 7));
    const text = renderDiagnostics(diagnostics, source, { file });
    const json = JSON.stringify({ diagnostics: diagnosticsToJson(diagnostics, source, file) }, null, 2);
    await expect(`${text}\n\n${json}\n`).toMatchFileSnapshot(join(dir, name.replace(/\.kap$/, '.expected.txt')));
  });

  it('has a fixture for every compile diagnostic code', () => {
    const covered = new Set(fixtures.map((f) => f.slice(0, 7)));
    const missing = (Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[]).filter((c) => c.startsWith('KAP4') && !covered.has(c));
    expect(missing).toEqual([]);
  });
});

describe('compile: diagrams', () => {
  it('draws the individual IV example as golden Mermaid and DOT', async () => {
    const { ir } = compile(read('examples/individual-iv.kap'), { file: 'examples/individual-iv.kap' });
    const dosing = ir!.sessions.filter((s) => s.name === 'dosing');
    await expect(toMermaid(ir!, dosing)).toMatchFileSnapshot('./fixtures/diagrams/individual-iv.dosing.mmd');
    await expect(toDot(ir!, dosing)).toMatchFileSnapshot('./fixtures/diagrams/individual-iv.dosing.dot');
  });
});
