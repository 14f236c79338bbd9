/**
 * An untrusted IR is safe to load: the runtime interprets IR expressions and
 * never turns IR content into code. This guards the source against `eval`,
 * `new Function`, string timers and dynamic imports of computed specifiers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = fileURLToPath(new URL('../src/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

const FORBIDDEN: [string, RegExp][] = [
  ['eval', /\beval\s*\(/],
  ['new Function', /\bnew\s+Function\b/],
  ['Function constructor call', /(^|[^.\w])Function\s*\(/],
  ['setTimeout/setInterval with a string', /set(?:Timeout|Interval)\s*\(\s*['"`]/],
  ['dynamic import', /\bimport\s*\(/],
];

describe('runtime source has no dynamic code', () => {
  it('has source files to check', () => expect(files.length).toBeGreaterThan(3));
  it.each(files)('%s', (file) => {
    const text = readFileSync(dir + file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    for (const [what, pattern] of FORBIDDEN) expect(pattern.test(text), `${file} uses ${what}`).toBe(false);
  });
});
