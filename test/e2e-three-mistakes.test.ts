/**
 * The acceptance case, through the real binary: one file with a
 * misspelt measure, a unit mismatch and a syntax error, each in a different
 * rule, reports all three on their own lines and exits 1, in text and JSON.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assertBuilt, kapspec } from './helpers/cli.js';

vi.setConfig({ testTimeout: 60_000 });

const PROTOCOL = `protocol "Three mistakes" {
  roles { therapist 1  medical_provider 1 }
  measures { sbp mmHg 50..260  spo2 % 50..100 }
  events { panic }
  session dosing {
    stage infusion duration 40 min {
      monitor sbp every 5 min
      monitor spo2 continuously
    }
    discharge when elapsed >= 60 min and sbp <= 160
    rule desaturation { when spo3 < 90 for 1 min then escalate emergency }
    rule hypertension { when sbp > 180 bpm then pause infusion, notify medical_provider }
    rule panic { when panic then attend therapist within 2 min for }
  }
}
`;

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'kapspec-e2e-three-'));
  writeFileSync(join(dir, 'three.kap'), PROTOCOL);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('kapspec check: three independent mistakes', () => {
  it('reports each with its line, as text, and exits 1', async () => {
    const r = await kapspec(['check', 'three.kap'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const heads = r.stdout.split('\n').filter((l) => l.includes('--> three.kap:'));
    expect(heads.map((l) => l.trim())).toEqual(['--> three.kap:11:30', '--> three.kap:12:30', '--> three.kap:13:68']);
    expect(r.stdout).toContain('error[KAP2002]: `spo3` is not a declared measure');
    expect(r.stdout).toContain('Did you mean `spo2`?');
    expect(r.stdout).toMatch(/error\[KAP3001\]: `sbp` is a pressure \(mmHg\) but `180 bpm` is a rate/);
    expect(r.stdout).toContain('error[KAP1003]: Expected a duration such as `15 min` after `for`');
    expect(r.stdout).toContain('three.kap: 3 errors, 0 warnings');
  });

  it('gives the documented JSON shape with 1-based lines and columns', async () => {
    const r = await kapspec(['check', '--format', 'json', 'three.kap'], { cwd: dir });
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout) as { diagnostics: { code: string; severity: string; file: string; message: string; range: { start: { line: number; column: number }; end: { line: number; column: number } }; hint?: string }[] };
    expect(Object.keys(json)).toEqual(['diagnostics']);
    expect(json.diagnostics.map((d) => [d.code, d.severity, d.file, d.range.start.line, d.range.start.column])).toEqual([
      ['KAP2002', 'error', 'three.kap', 11, 30],
      ['KAP3001', 'error', 'three.kap', 12, 30],
      ['KAP1003', 'error', 'three.kap', 13, 68],
    ]);
    expect(json.diagnostics[0]).toMatchObject({ range: { end: { line: 11, column: 34 } }, hint: 'Did you mean `spo2`?' });
  });
});
