/**
 * Golden fixtures: one `.kap` file per diagnostic code in
 * fixtures/diagnostics/, named `<code>-<title>.kap`. Each is analyzed and its
 * diagnostics rendered as text and as JSON into `<name>.expected.txt` beside
 * it. Refresh every expected file with `pnpm fixtures:update`.
 *
 * A fixture may lower a resource limit with a first line such as
 * `// kapspec-test-limits: maxSourceLength=120`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  analyze,
  DIAGNOSTIC_CODES,
  diagnosticsToJson,
  renderDiagnostics,
  type DiagnosticCode,
  type Limits,
} from '../src/index.js';

const dir = fileURLToPath(new URL('./fixtures/diagnostics/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.kap'))
  .sort();

function limitsOf(source: string): Partial<Limits> {
  const m = /^\/\/ kapspec-test-limits: (.*)$/m.exec(source);
  if (!m) return {};
  const out: Record<string, number> = {};
  for (const pair of (m[1] as string).split(/\s+/)) {
    const [k, v] = pair.split('=');
    if (k && v) out[k] = Number(v);
  }
  return out as Partial<Limits>;
}

describe('diagnostic golden fixtures', () => {
  it.each(fixtures)('%s', async (name) => {
    const source = readFileSync(join(dir, name), 'utf8');
    const file = `fixtures/diagnostics/${name}`;
    const { diagnostics } = analyze(source, { limits: limitsOf(source) });
    const code = name.slice(0, 7);
    expect(diagnostics.map((d) => d.code), `${name} must report ${code}`).toContain(code);
    const text = renderDiagnostics(diagnostics, source, { file });
    const json = JSON.stringify({ diagnostics: diagnosticsToJson(diagnostics, source, file) }, null, 2);
    await expect(`${text}\n\n${json}\n`).toMatchFileSnapshot(join(dir, name.replace(/\.kap$/, '.expected.txt')));
  });

  it('has a fixture for every front-end diagnostic code (KAP1xxx–KAP3xxx)', () => {
    // Later bands (KAP4xxx compile, …) have their fixtures in their own package.
    const covered = new Set(fixtures.map((f) => f.slice(0, 7)));
    const missing = (Object.keys(DIAGNOSTIC_CODES) as DiagnosticCode[]).filter(
      (c) => /^KAP[123]/.test(c) && !covered.has(c),
    );
    expect(missing, 'codes without a fixture in test/fixtures/diagnostics').toEqual([]);
  });

  it('names each fixture after its code and title', () => {
    for (const f of fixtures) {
      const code = f.slice(0, 7) as DiagnosticCode;
      const info = DIAGNOSTIC_CODES[code];
      expect(info, `${f}: unknown code`).toBeDefined();
      expect(f).toBe(`${code}-${info.title}.kap`);
    }
  });
});
