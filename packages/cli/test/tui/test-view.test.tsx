import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { checkProperties, renderVignette, type PropertyTestResult } from '@kapspec/simulator';
import { failuresOf, progressOf, rulesInWindow } from '../../src/tui/index.js';
import { StatsView, tableLayout, tableLines, wrapNotes } from '../../src/tui/stats-view.js';
import { TestView, type PropertyProgress } from '../../src/tui/test-view.js';
import { flawedSurge, plain } from './fixtures.js';

afterEach(() => cleanup());

/** The failed `responsive` verdict of the flawed protocol on the scripted surge, as `testProtocol` would report it. */
function flawedResults(): { results: PropertyTestResult[]; source: string; file: string } {
  const { ir, trace, source, file } = flawedSurge();
  const checked = checkProperties(ir, 'dosing', trace);
  const results: PropertyTestResult[] = checked.map((c) => ({
    name: c.name,
    kind: c.kind,
    text: c.text,
    status: c.status,
    runs: 100,
    failures: c.status === 'failed' ? 7 : 0,
    inconclusive: 0,
    seed: 42,
    ...(c.span ? { span: c.span } : {}),
    message: c.message,
    ...(c.status === 'failed'
      ? {
          counterexample: {
            run: 3,
            trace,
            result: c,
            parameters: trace.header.parameters,
            vignette: renderVignette(ir, trace, c, { source }),
            shrinkSteps: 0,
            shrinkRuns: 0,
            tracePath: 'kapspec-responsive-42.jsonl',
          },
          replay: `kapspec replay kapspec-responsive-42.jsonl ${file}`,
        }
      : {}),
  }));
  return { results, source, file };
}

describe('TestView', () => {
  it('progress per property: runs done of the total and status', () => {
    const props: PropertyProgress[] = [
      { name: 'responsive', kind: 'assert', text: '(sbp > 180 during infusion) implies (infusion paused) within 5 min', runs: 40, total: 100, status: 'running' },
      { name: 'builtin.staffing', kind: 'builtin', runs: 100, total: 100, status: 'passed' },
      { name: 'builtin.dose-limits', kind: 'builtin', runs: 0, total: 100, status: 'pending' },
    ];
    const f = plain(render(<TestView properties={props} columns={100} />).lastFrame());
    expect(f).toMatch(/^kapspec test {2}1\/3 properties decided$/m);
    expect(f).toMatch(/^ {2}… responsive\s+█+░+\s+40\/100 {2}RUNNING\s+\(sbp > 180/m);
    expect(f).toMatch(/^ {2}✓ builtin\.staffing\s+█+ 100\/100 {2}PASSED/m);
    expect(f).toMatch(/^ {2}· builtin\.dose-limits\s+░+ {3}0\/100 {2}PENDING/m);
  });

  it('a failed property: its counterexample with the offending .kap lines, then the vignette', () => {
    const { results, source, file } = flawedResults();
    const failed = results.find((r) => r.name === 'responsive')!;
    expect(failed.status).toBe('failed');
    const failures = failuresOf(results);
    expect(failures.map((f) => f.name)).toEqual(['responsive']);
    const r = render(<TestView properties={progressOf(results)} failures={failures} source={source} file={file} summary="1 failed" columns={120} />);
    const f = plain(r.lastFrame());
    expect(f).toMatch(/^ {2}✗ responsive\s+█+ 100\/100 {2}FAILED\s+7 failed/m);
    expect(f).toContain('✗ responsive: counterexample');
    expect(f).toContain('  --> examples/flawed/bp-every-20-min.kap:73:5');
    // The assert's line, marked, with a caret under it.
    expect(f).toMatch(/^> 73 │ {5}assert responsive \(sbp > 180 during infusion\) implies \(infusion paused\) within 5 min {3}← the property$/m);
    expect(f).toMatch(/^ {2}\s*│ {5}\^{10,}/m);
    // The rule that acted in the window, with its line.
    expect(f).toMatch(/^> 57 │ {5}rule hypertension \{ {3}← rule hypertension fired at t\+35 min$/m);
    // The vignette follows.
    expect(f).toContain('FAILED responsive (assert)');
    expect(f).toMatch(/Minute by minute/);
    expect(f).toContain('Replay: kapspec replay kapspec-responsive-42.jsonl examples/flawed/bp-every-20-min.kap');
    expect(f).toMatch(/1 failed$/);
  });

  it('rulesInWindow: the rules that fired up to the time the awaited condition held', () => {
    const { results } = flawedResults();
    const c = results.find((r) => r.name === 'responsive')!.counterexample!;
    expect(rulesInWindow(c.trace, c.result.witness).map((x) => x.label)).toEqual(['rule hypertension fired at t+35 min']);
    expect(rulesInWindow(c.trace, undefined)).toEqual([]);
  });
});

describe('StatsView', () => {
  it('a progress bar while running', () => {
    const f = plain(render(<StatsView title="kapspec stats examples/group-im.kap" done={250} total={1000} columns={80} />).lastFrame());
    expect(f).toBe('kapspec stats examples/group-im.kap\n████████████░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  25%  250/1000 runs');
  });

  it('then the result table, aligned, numbers to the right', () => {
    const header = ['outcome', 'runs', 'share', '95% CI'];
    const rows = [
      ['discharged', '912', '91.2%', '89.3–92.8%'],
      ['escalated', '31', '3.1%', '2.2–4.4%'],
    ];
    const f = plain(render(<StatsView done={1000} total={1000} header={header} rows={rows} note="seed 7, calibrated model" columns={80} />).lastFrame());
    expect(f.split('\n').slice(2)).toEqual([
      '',
      'outcome     runs  share      95% CI',
      '──────────  ────  ─────  ──────────',
      'discharged   912  91.2%  89.3–92.8%',
      'escalated     31   3.1%    2.2–4.4%',
      'seed 7, calibrated model',
    ]);
    expect(f).toMatch(/^█+ 100% {2}1000\/1000 runs$/m);
    expect(tableLines(undefined, [['a', '1']])).toEqual(['a  1']);
  });

  it('wrapNotes: a note longer than the terminal goes on under itself, indented two more, broken between words; short lines as they are', () => {
    const text = 'Route iv: 5 dosed.\n  IV7 return to baseline: needs the drug-induced part of the true SBP.\nNot computed:\n';
    expect(wrapNotes(text, 80)).toBe(text);
    expect(wrapNotes(text, 30)).toBe(
      ['Route iv: 5 dosed.', '  IV7 return to baseline:', '    needs the drug-induced', '    part of the true SBP.', 'Not computed:', ''].join('\n'),
    );
    for (const line of wrapNotes(text, 30).split('\n')) expect(line.length).toBeLessThanOrEqual(30);
    // The words, in order, are all there.
    expect(wrapNotes(text, 30).split(/\s+/).filter(Boolean)).toEqual(text.split(/\s+/).filter(Boolean));
  });

  it('a table wider than the terminal wraps the names, never the numbers', () => {
    const header = ['measure', 'value', '95 % CI'];
    const rows = [
      ['IV8 infusions discontinued (stopped by a rule or by the session ending while running)', '4.0 %', '1.1–13.5 %'],
      ['discharged', '82.0 %', '69.2–90.2 %'],
    ];
    const lines = tableLines(header, rows, 50);
    expect(lines).toEqual([
      'measure                        value   95 % CI',
      '─────────────────────────────  ──────  ───────────',
      'IV8 infusions discontinued     4.0 %   1.1–13.5 %',
      '(stopped by a rule or by the',
      'session ending while running)',
      'discharged                     82.0 %  69.2–90.2 %',
    ]);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(50);
    // Section titles: on a line of their own, after a blank line (none right under the header).
    expect(tableLines(header, [{ title: 'Outcomes (share of participants)' }, rows[1]!, { title: 'CALIBRATION.md figures (simulated vs published)' }, rows[0]!], 50)).toEqual([
      'measure                        value   95 % CI',
      '─────────────────────────────  ──────  ───────────',
      'Outcomes (share of participants)',
      'discharged                     82.0 %  69.2–90.2 %',
      '',
      'CALIBRATION.md figures (simulated vs published)',
      'IV8 infusions discontinued     4.0 %   1.1–13.5 %',
      '(stopped by a rule or by the',
      'session ending while running)',
    ]);
    expect(tableLayout(header, [{ title: 'Outcomes' }, rows[1]!]).map((l) => l.kind)).toEqual(['header', 'rule', 'title', 'row']);
    // Through the view: every figure's numbers on screen at 60 columns.
    const f = plain(render(<StatsView done={2} total={2} header={header} rows={rows} columns={60} />).lastFrame());
    expect(f).toMatch(/IV8 infusions discontinued.* 4\.0 % +1\.1–13\.5 %/);
    expect(f).toMatch(/discharged +82\.0 % +69\.2–90\.2 %/);
  });
});
