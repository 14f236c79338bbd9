/**
 * `kapspec test --format junit`: JUnit XML as CI servers read it. One
 * `<testsuite>` for the session tested, one `<testcase>` per property
 * (classname: protocol title and session; file and line: the property's
 * `.kap` line). A failed property has a `<failure>` holding the vignette,
 * the seed and the replay command; an inconclusive one passes with the
 * reason in `<system-out>`.
 */
import type { IR } from '@kapspec/runtime';
import { counterexampleSeedLine, type TestReport } from '@kapspec/simulator';

/** Text content and attribute values: the five XML entities; characters XML 1.0 cannot hold are dropped. */
export function xmlEscape(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number | undefined>): string =>
  Object.entries(a)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlEscape(String(v))}"`)
    .join('');

export function junitReport(ir: IR, report: TestReport, file: string): string {
  const results = report.results;
  const failures = results.filter((r) => r.status === 'failed').length;
  const suite = `${ir.protocol.title}: session ${report.session}`;
  const classname = `${ir.protocol.title}.${report.session}`;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(`<testsuites${attrs({ name: 'kapspec test', tests: results.length, failures, errors: 0 })}>`);
  out.push(`  <testsuite${attrs({ name: suite, tests: results.length, failures, errors: 0, skipped: 0, file })}>`);
  out.push('    <properties>');
  for (const [name, value] of [
    ['seed', report.seed],
    ['runs', report.runs],
    ['model', report.model],
  ] as const) {
    out.push(`      <property${attrs({ name, value })}/>`);
  }
  out.push('    </properties>');
  for (const r of results) {
    const head = `    <testcase${attrs({ name: r.name, classname, file: r.span?.file ?? file, line: r.span?.line })}`;
    if (r.status === 'failed') {
      const cx = r.counterexample;
      const body = [cx?.vignette.trimEnd() ?? r.message, '', counterexampleSeedLine(r) ?? `Seed ${r.seed}; failed in ${r.failures} of ${r.runs} runs.`, ...(cx ? [`Trace: ${cx.tracePath}`] : []), ...(r.replay ? [`Replay: ${r.replay}`] : [])].join('\n');
      out.push(`${head}>`);
      out.push(`      <failure${attrs({ message: r.message, type: r.kind === 'assert' ? 'assert' : 'builtin' })}>${xmlEscape(body)}</failure>`);
      out.push('    </testcase>');
    } else if (r.status === 'inconclusive') {
      out.push(`${head}>`);
      out.push(`      <system-out>${xmlEscape(`inconclusive in ${r.inconclusive} of ${r.runs} runs: ${r.message}`)}</system-out>`);
      out.push('    </testcase>');
    } else {
      out.push(`${head}/>`);
    }
  }
  out.push('  </testsuite>');
  out.push('</testsuites>');
  return `${out.join('\n')}\n`;
}
