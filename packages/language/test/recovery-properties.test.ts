/**
 * One mistake, one error: properties of error recovery and of how
 * diagnostics are shown, on the bundled examples and on arbitrary input.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze, closest, lex, renderDiagnostics } from '../src/index.js';
import { KEYWORDS, UNIT_WORDS } from '../src/lexer.js';
import { propertySeed } from './seed.js';

const examplesDir = fileURLToPath(new URL('../../../examples/', import.meta.url));
const examples = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.kap'))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(examplesDir + f, 'utf8') }));

/** Every keyword of three letters or more, where an example uses it as that keyword. */
const sites = examples.flatMap(({ file, text }) => {
  const tokens = lex(text).tokens;
  const names = new Set(tokens.map((t) => t.image));
  return tokens
    .filter((t) => t.image.length >= 3 && KEYWORDS.get(t.image) === t.tokenType)
    .map((t) => ({ file, text, names, word: t.image, start: t.startOffset }));
});

type Site = (typeof sites)[number];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/**
 * One edit of a keyword (a letter dropped, added, changed, or two swapped)
 * that makes a word kapspec's own "did you mean" would trace back to it,
 * and that is no keyword, unit or name of the file.
 */
const misspelling = (site: Site) =>
  fc
    .record({ op: fc.constantFrom('drop', 'add', 'change', 'swap'), at: fc.nat(), letter: fc.constantFrom(...LETTERS) })
    .map(({ op, at, letter }) => {
      const w = site.word;
      const i = at % w.length;
      switch (op) {
        case 'drop':
          return w.slice(0, i) + w.slice(i + 1);
        case 'add':
          return w.slice(0, i) + letter + w.slice(i);
        case 'change':
          return w.slice(0, i) + letter + w.slice(i + 1);
        default:
          return i + 1 < w.length ? w.slice(0, i) + w[i + 1]! + w[i]! + w.slice(i + 2) : w;
      }
    })
    .filter(
      (v) =>
        /^[A-Za-z_]/.test(v) &&
        !KEYWORDS.has(v) &&
        !UNIT_WORDS.includes(v) &&
        !site.names.has(v) &&
        closest(v, [site.word]) === site.word,
    );

const withMisspelling = (site: Site, v: string): string =>
  site.text.slice(0, site.start) + v + site.text.slice(site.start + site.word.length);

function errorsOf(text: string) {
  return analyze(text).diagnostics.filter((d) => d.severity === 'error');
}

describe('one misspelt keyword, one error', () => {
  it('the bundled examples have no errors, and keywords to misspell', () => {
    expect(examples.length).toBeGreaterThanOrEqual(3);
    for (const { file, text } of examples) expect(errorsOf(text), file).toEqual([]);
    expect(sites.length).toBeGreaterThan(500);
  });

  it('a keyword misspelt in a bundled example gives exactly one error, at the misspelt word', () => {
    const arbitrary = fc.constantFrom(...sites).chain((site) => misspelling(site).map((v) => ({ site, v })));
    fc.assert(
      fc.property(arbitrary, ({ site, v }) => {
        const errors = errorsOf(withMisspelling(site, v));
        expect(errors.map((d) => [d.span.start, d.span.end]), `${site.file}: \`${site.word}\` written \`${v}\``).toEqual([
          [site.start, site.start + v.length],
        ]);
      }),
      { seed: propertySeed('misspelt keyword'), numRuns: 300 },
    );
  }, 300_000);

  it('two keywords misspelt far apart give exactly two errors, one at each', () => {
    const pair = fc
      .constantFrom(...examples.map((e) => e.file))
      .chain((file) => {
        const here = sites.filter((s) => s.file === file);
        return fc.tuple(fc.constantFrom(...here), fc.constantFrom(...here));
      })
      .filter(([a, b]) => b.start - a.start > 80)
      .chain(([a, b]) => fc.tuple(fc.constant(a), misspelling(a), fc.constant(b), misspelling(b)));
    fc.assert(
      fc.property(pair, ([a, va, b, vb]) => {
        const text = a.text.slice(0, a.start) + va + a.text.slice(a.start + a.word.length, b.start) + vb + a.text.slice(b.start + b.word.length);
        const bStart = b.start + va.length - a.word.length;
        const errors = errorsOf(text);
        expect(errors.map((d) => d.span.start), `\`${a.word}\`→\`${va}\`, \`${b.word}\`→\`${vb}\``).toEqual([a.start, bStart]);
      }),
      { seed: propertySeed('two misspelt keywords'), numRuns: 100 },
    );
  }, 300_000);
});

describe('files that are not text', () => {
  it('a NUL or a byte that is not UTF-8 (U+FFFD) gives one error, at the first of them', () => {
    const bad = fc.constantFrom('\u0000', '\ufffd');
    const arbitrary = fc.tuple(fc.constantFrom(...examples.map((e) => e.text)), fc.nat(), bad, fc.string({ unit: 'binary', maxLength: 40 }));
    fc.assert(
      fc.property(arbitrary, ([text, at, ch, tail]) => {
        const i = at % (text.length + 1);
        const mixed = text.slice(0, i) + ch + tail + text.slice(i);
        const first = mixed.search(/[\u0000\ufffd]/);
        const { diagnostics, protocol } = analyze(mixed);
        expect(protocol).toBeUndefined();
        expect(diagnostics.map((d) => [d.code, d.span.start])).toEqual([['KAP1015', first]]);
      }),
      { seed: propertySeed('not text'), numRuns: 200 },
    );
  }, 120_000);

  it('text with a few control characters is still read as text, each reported where it is', () => {
    const text = examples[0]!.text.replace('protocol "', 'protocol \u001b"');
    const { diagnostics } = analyze(text);
    expect(diagnostics.map((d) => [d.code, d.message])).toContainEqual([
      'KAP1001',
      'Unexpected character U+001B (a control or invisible character).',
    ]);
  });

  it('more than one character in ten a control character is not text', () => {
    const text = `protocol "x" { ${'\u0007'.repeat(4)} }`;
    expect(analyze(text).diagnostics.map((d) => d.code)).toEqual(['KAP1015']);
    expect(analyze(`protocol "x" { ${'\u0007'.repeat(1)} }`).diagnostics.map((d) => d.code)).toEqual(['KAP1001']);
  });
});

describe('rendering never prints control characters', () => {
  // Tab is shown as spaces, line feeds only separate lines of the output.
  const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

  it('on arbitrary input, including binary and pasted terminal escapes', () => {
    const pasted = fc
      .tuple(fc.constantFrom(...examples.map((e) => e.text)), fc.nat(), fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([text, at, junk]) => text.slice(0, at % (text.length + 1)) + junk + text.slice(at % (text.length + 1)));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), pasted), (text) => {
        const { diagnostics } = analyze(text);
        const out = renderDiagnostics(diagnostics, text, { file: 'in\u001b[2Jput.kap' });
        expect(out).not.toMatch(RAW);
      }),
      { seed: propertySeed('rendering'), numRuns: 300 },
    );
  }, 120_000);

  it('keeps the caret under an escaped character and the span after it', () => {
    const text = 'protocol "p" {\n\tmeasures { sbp mmHg 50..260 }\u001b zz\n}\n';
    const out = renderDiagnostics(analyze(text).diagnostics, text, { file: 'f.kap' });
    const lines = out.split('\n');
    const source = lines.findIndex((l) => l.includes('\\u{1b}'));
    expect(source).toBeGreaterThan(0);
    const shown = lines[source]!;
    const caret = lines[source + 1]!;
    expect(shown.indexOf('\\u{1b}')).toBe(caret.indexOf('^'));
    expect(caret.trimEnd().length - caret.indexOf('^')).toBe('\\u{1b}'.length);
  });

  it('shows a window of a very long line around the span, with `…` where it is cut', () => {
    const long = Array.from({ length: 200 }, (_, i) => `sbp > ${i}`).join(' or ');
    const text = `protocol "p" {\n  measures { sbp mmHg 50..260 }\n  session s1 { stage a { monitor sbp every 5 min } discharge when ${long} or sbx > 1 }\n}\n`;
    const out = renderDiagnostics(
      analyze(text).diagnostics.filter((d) => d.code === 'KAP2002'),
      text,
      { file: 'f.kap' },
    );
    const [, , , shown, caret] = out.split('\n');
    expect(shown!.length).toBeLessThan(120);
    expect(shown).toMatch(/^3 \| …sbp > \d+ or .* or sbx > 1 }$/);
    expect(caret!.indexOf('^')).toBe(shown!.indexOf('sbx'));
    expect(caret!.trim()).toMatch(/^\| +\^{3}$/);
  });
});
