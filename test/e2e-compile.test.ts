import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ANSI, STACK, assertBuilt, kapspec } from './helpers/cli.js';

vi.setConfig({ testTimeout: 60_000 });

let tmp: string;
beforeAll(() => {
  assertBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'kapspec-e2e-compile-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('kapspec compile (real binary)', () => {
  it('prints the IR JSON by default', async () => {
    const r = await kapspec(['compile', 'examples/individual-iv.kap']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const ir = JSON.parse(r.stdout) as { kapspecIR: number; sessions: { name: string }[] };
    expect(ir.kapspecIR).toBe(1);
    expect(ir.sessions.map((s) => s.name)).toContain('dosing');
  });

  it('draws one session as Mermaid with stage names, rule names and outcomes', async () => {
    const r = await kapspec(['compile', 'examples/individual-iv.kap', '--target', 'mermaid', '--session', 'dosing']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('stateDiagram-v2');
    expect(r.stdout).toContain('state "infusion (40 min)" as infusion');
    expect(r.stdout).toMatch(/infusion --> infusion_paused : rule hypertension/);
    expect(r.stdout).toContain('discharged --> [*]');
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('writes DOT atomically to --out', async () => {
    const out = join(tmp, 'group.dot');
    const r = await kapspec(['compile', 'examples/group-im.kap', '--target', 'dot', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8').startsWith('digraph')).toBe(true);
  });

  it('prints an XState config for Stately', async () => {
    const r = await kapspec(['compile', 'examples/intranasal-esketamine.kap', '--target', 'xstate-json']);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout) as { id: string; initial: string; states: Record<string, unknown> };
    expect(Object.keys(config.states)).toContain(config.initial);
  });

  it('a protocol with errors: diagnostics on stderr, nothing on stdout, exit 1', async () => {
    const bad = join(tmp, 'bad.kap');
    writeFileSync(bad, 'protocol "x" {\n  measures { sbp mmHg 50..260 }\n  session s1 {\n    stage a duration 5 min { monitor sbp every 1 min }\n    discharge when sbp > 180 bpm\n  }\n}\n');
    const r = await kapspec(['compile', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[KAP3001]');
    expect(r.stderr).toContain('nothing compiled');
  });

  it('an unknown session names the sessions there are, exit 2', async () => {
    const r = await kapspec(['compile', 'examples/individual-iv.kap', '--session', 'nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('has no session `nope`; its sessions are `screening`');
    expect(r.stderr).not.toMatch(STACK);
  });

  it('a missing file and an unknown target are usage errors without a stack trace', async () => {
    const missing = await kapspec(['compile', 'examples/nope.kap']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read examples/nope.kap');
    const target = await kapspec(['compile', 'examples/individual-iv.kap', '--target', 'png']);
    expect(target.code).toBe(2);
    expect(target.stderr).toContain("argument 'png' is invalid");
    expect(target.stderr + missing.stderr).not.toMatch(STACK);
  });
});
