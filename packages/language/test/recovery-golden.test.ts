/**
 * Golden fixtures for recovery: one mistake in an otherwise correct
 * protocol (the tutorial's last step) gives one error, at the mistake, and
 * nothing that follows from it. Each fixture in fixtures/recovery/ names the
 * mistaken text on its second line (`// one error, at: whn`; invisible
 * characters written as `\u{1b}`); its diagnostics are rendered as text and
 * JSON into `<name>.expected.txt` beside it (`npx vitest run -u` refreshes
 * them after an intended change).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { analyze, diagnosticsToJson, renderDiagnostics } from '../src/index.js';
import { visible } from '../src/visible.js';

const dir = fileURLToPath(new URL('./fixtures/recovery/', import.meta.url));
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith('.kap'))
  .sort();

describe('recovery golden fixtures', () => {
  it('has the fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
  });

  it.each(fixtures)('%s', async (name) => {
    const source = readFileSync(join(dir, name), 'utf8');
    const at = /^\/\/ one error, at: (.+)$/m.exec(source)?.[1];
    expect(at, `${name}: second line must say \`// one error, at: <text>\``).toBeDefined();
    const file = `fixtures/recovery/${name}`;
    const { diagnostics } = analyze(source);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => visible(source.slice(d.span.start, d.span.end)))).toEqual([at]);
    const text = renderDiagnostics(diagnostics, source, { file });
    const json = JSON.stringify({ diagnostics: diagnosticsToJson(diagnostics, source, file) }, null, 2);
    await expect(`${text}\n\n${json}\n`).toMatchFileSnapshot(join(dir, name.replace(/\.kap$/, '.expected.txt')));
  });
});
