import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serializeTrace, simulate } from '../src/index.js';
import { exampleIR, noisyScenario } from './helpers.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const iv = exampleIR('individual-iv');
const run = (seed: number) => serializeTrace(simulate(iv, { session: 'dosing', scenario: noisyScenario(), seed }));

describe('determinism: same IR + seed + scenario ⇒ byte-identical trace', () => {
  it('twice in one process', () => {
    const a = run(7);
    expect(run(7)).toBe(a);
    // The seed matters (measurement noise), and the trace exercises it.
    expect(run(8)).not.toBe(a);
    expect(a).toContain('"type":"observe"');
  });

  it('in a separate process (tsx on the TypeScript source)', () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const script = fileURLToPath(new URL('./child-trace.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
    const out = execFileSync(tsx, ['--conditions=@kapspec/source', script, '7'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(out.trim()).toBe(sha(run(7)));
  }, 60_000);
});
