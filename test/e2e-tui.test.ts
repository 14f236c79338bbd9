/**
 * The live session view in a real terminal: tmux runs
 * packages/cli/test/tui/tmux-simulate.mjs (the BUILT packages) in a detached
 * 120x40 session; the test reads the screen with `tmux capture-pane -p`,
 * waits for the outcome, checks the stages and a vitals line, then sends `q`
 * and checks the program ended (exit code 0). The bundled `kapspec test`
 * shows its progress moving while the search runs (in a worker thread), then
 * the counterexample with its `.kap` line, and exits 1. The bundled `kapspec
 * stats --course` on an 80-column terminal counts participants and keeps
 * every value on screen (long names wrap); `kapspec stats` wraps its notes
 * at words and prints each example session's command whole.
 *
 * Skipped, with a message, when tmux is not installed (.ci/run installs it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../packages/cli/test/tui/tmux-simulate.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../packages/cli/dist/tui/index.js', import.meta.url));
const SOCKET = `kapspec-e2e-${process.pid}`;
const EXITED = /\[exited (\d+)\]/;

const hasTmux = spawnSync('tmux', ['-V'], { encoding: 'utf8' }).status === 0;
if (!hasTmux) console.warn('test/e2e-tui.test.ts: skipped: tmux is not installed (apt-get install tmux; .ci/run does)');

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
}

const screen = (session: string) => tmux('capture-pane', '-p', '-t', session);
/** The screen and what scrolled off it. */
const history = (session: string) => tmux('capture-pane', '-p', '-S', '-', '-t', session);

async function waitFor(session: string, check: (s: string) => boolean, timeout: number): Promise<string> {
  const start = Date.now();
  let s = '';
  for (;;) {
    s = screen(session);
    if (check(s)) return s;
    if (Date.now() - start > timeout) throw new Error(`timed out after ${timeout} ms; the screen:\n${s}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts the script in a detached 120x40 session; the shell line reports its exit code, then keeps the pane open. */
function start(session: string, which: 'individual' | 'group', speed: number, paused = false): void {
  // ink draws only the last frame when CI is set: the view must run as on a developer's terminal.
  const command = `env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color '${process.execPath}' '${SCRIPT}' ${which} ${speed}${paused ? ' paused' : ''}; echo "[exited $?]"; sleep 60`;
  tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', ROOT, command);
}

/** Starts the real `kapspec` binary (the bundled CLI) in a detached session (default 120x40). */
function startKapspec(session: string, args: string, size: readonly [number, number] = [120, 40]): void {
  const bin = fileURLToPath(new URL('../packages/cli/bundle/kapspec.js', import.meta.url));
  const command = `env -u CI -u CONTINUOUS_INTEGRATION TERM=xterm-256color '${process.execPath}' '${bin}' ${args}; echo "[exited $?]"; sleep 60`;
  tmux('new-session', '-d', '-s', session, '-x', String(size[0]), '-y', String(size[1]), '-c', ROOT, command);
}

/** Runs `kapspec <args>` to its end in a detached session of `size`; the whole screen history, after checking the exit code. */
async function kapspecRun(session: string, args: string, size: readonly [number, number], code: number): Promise<string> {
  startKapspec(session, args, size);
  await waitFor(session, (x) => EXITED.test(x), 120_000);
  const s = history(session);
  expect(EXITED.exec(s)![1]).toBe(String(code));
  return s;
}

afterAll(() => {
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

describe.skipIf(!hasTmux)('kapspec TUI in a real terminal (tmux 120x40)', () => {
  it('`kapspec simulate` on a terminal plays the session live; q quits with exit 0', async () => {
    startKapspec('cli', 'simulate examples/individual-iv.kap --session dosing --seed 3');
    const s = await waitFor('cli', (x) => x.includes('Stages') && /^SBP\s+mmHg/m.test(x), 60_000);
    expect(s).toContain('Individual IV ketamine-assisted psychotherapy · session dosing');
    expect(s).toMatch(/Stages\s+(✓|▶) predose/);
    expect(s).toMatch(/^SBP\s+mmHg\s+[▁▂▃▄▅▆▇█]+/m);
    expect(s).toContain('space pause/resume');
    tmux('send-keys', '-t', 'cli', 'q');
    const after = await waitFor('cli', (x) => EXITED.test(x), 10_000);
    expect(EXITED.exec(after)![1]).toBe('0');
  }, 90_000);

  it('`kapspec test` on a terminal: live progress per property, then the counterexample with its `.kap` line; exit 1', async () => {
    // 130x60: the final screen (progress, the marked `.kap` line, the vignette, the summary) fits.
    startKapspec('test', 'test examples/flawed/bp-every-20-min.kap --runs 60', [130, 60]);
    const row = (x: string, name: string) => new RegExp(`^\\s+\\S ${name.replace('.', '\\.')}\\s+[░█]+\\s+(\\d+)/60\\s+([A-Z]+)`, 'm').exec(x);
    // Mid-run: the search (in a worker thread) reports its progress while it runs.
    const mid = await waitFor('test', (x) => {
      const r = row(x, 'builtin.staffing');
      return r !== null && Number(r[1]) > 0 && Number(r[1]) < 60 && r[2] === 'RUNNING';
    }, 60_000);
    expect(mid).toContain('kapspec test examples/flawed/bp-every-20-min.kap');
    const first = Number(row(mid, 'builtin.staffing')![1]);
    // … and moves on.
    await waitFor('test', (x) => EXITED.test(x) || Number(row(x, 'builtin.staffing')?.[1] ?? 0) > first, 60_000);
    const s = await waitFor('test', (x) => EXITED.test(x), 120_000);
    expect(s).toContain('7/7 properties decided');
    expect(s).toMatch(/^\s+✗ responsive\s+█+ 60\/60\s+FAILED\s+\d+ failed/m);
    expect(s).toMatch(/^\s+✓ builtin\.staffing\s+█+ 60\/60\s+PASSED/m);
    expect(s).toContain('✗ responsive: counterexample');
    expect(s).toContain('--> examples/flawed/bp-every-20-min.kap:73:5');
    expect(s).toMatch(/^> 73 │\s+assert responsive \(sbp > 180 during infusion\) implies \(infusion paused\) within 5 min\s+← the property$/m);
    expect(s).toContain('Minute by minute');
    expect(s).toContain('Replay: kapspec replay .kapspec/counterexamples/bp-every-20-min/responsive-1.jsonl examples/flawed/bp-every-20-min.kap');
    expect(s).toContain('7 properties: 6 passed, 1 failed (60 runs, seed 1).');
    expect(EXITED.exec(s)![1]).toBe('1');
  }, 180_000);

  it('`kapspec stats --course` on a narrow terminal (80 columns): participants counted, names wrapped, every value and interval on screen; exit 0', async () => {
    const s = await kapspecRun('stats', 'stats examples/intranasal-esketamine.kap --sessions 40 --course', [80, 50], 0);
    expect(s).toContain('kapspec stats examples/intranasal-esketamine.kap');
    expect(s).toMatch(/█+ 100% {2}40\/40 participants/);
    // No line of the view is wider than the terminal, so nothing is cut off; a long name wraps under itself.
    const table = s.slice(s.indexOf('measure'), s.indexOf('Protocol "'));
    for (const line of table.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    // Over courses the outcomes count sessions, and a section counts the participants.
    expect(table).toMatch(/^Outcomes per session \(share of all 320 sessions, not of participants\)\nsessions discharged +\d+\.\d % +\d+\.\d–\d+\.\d %$/m);
    expect(table).toMatch(/^Per participant over the course \(40 participants, 8 sessions each\)\n/m);
    expect(table).toMatch(/^participants discharged +\d+\.\d % +\d+\.\d–\d+\.\d %\nin every session$/m);
    expect(table).toMatch(/^ES13 observed sedation +\d+\.\d % +\d+\.\d–\d+\.\d % +61\.9 % of patients \(REMS\)\n\(event `sedation`\), per\nparticipant over the\ncourse$/m);
    // Under the table: what was run and its seed; then the notes.
    expect(s).toMatch(/Protocol "Intranasal esketamine, supervised sessions", session dosing: 40\s+participants through the course, 8 sessions each \(320 sessions\), seed 1,/);
    expect(s).toMatch(/^Route intranasal: \d+ of 320 sessions dosed/m);
  }, 150_000);

  it('`kapspec stats` on 80 columns: the notes wrapped at words under the table, then the example sessions, each command whole on its own line', async () => {
    const s = await kapspecRun('stats-iv', 'stats examples/individual-iv.kap --sessions 60', [80, 50], 0);
    const notes = s.slice(s.indexOf('Route iv:'), s.indexOf('Example sessions'));
    const lines = notes.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    // A long note goes on under itself, indented, broken between words.
    expect(notes).toMatch(/^ {2}IV7 return to baseline within 90 min of the infusion end: needs the\n {4}drug-induced part of the true SBP,/m);
    const examples = s.slice(s.indexOf('Example sessions, the first of each outcome, rule and staffing violation:'));
    expect(examples).toMatch(/^ {2}session 0: discharged; /m);
    const commands = examples.split('\n').filter((x) => x.startsWith('    kapspec'));
    expect(commands.length).toBeGreaterThan(2);
    for (const c of commands) expect(c).toMatch(/^ {4}kapspec simulate examples\/individual-iv\.kap --seed \d+$/);
  }, 150_000);

  it('individual-iv: stages, vitals with sparklines, the pause in the log, the outcome; q quits', async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`pnpm build\` before the e2e tests`);
    start('iv', 'individual', 120, true);
    await waitFor('iv', (x) => x.includes('playback paused') && x.includes('Log ('), 60_000);
    // → steps one happening at a time: step until the surge read at minute 35 pauses the infusion.
    const logCount = (x: string) => Number(/Log \((\d+) so far\)/.exec(x)?.[1]);
    let x = screen('iv');
    for (let i = 0; i < 40 && !x.includes('infusion ‖ PAUSED'); i++) {
      const n = logCount(x);
      tmux('send-keys', '-t', 'iv', 'Right');
      x = await waitFor('iv', (y) => logCount(y) === n + 1, 10_000);
    }
    expect(x).toMatch(/▶ infusion ‖ PAUSED/);
    expect(x).toMatch(/t\+35 min\s+infusion PAUSED \(rule hypertension\)/);
    expect(x).toMatch(/^SBP .* 195 now /m);
    // Space plays on to the outcome.
    tmux('send-keys', '-t', 'iv', 'Space');
    const s = await waitFor('iv', (y) => y.includes('Outcome  ■'), 60_000);
    expect(s).toContain('Individual IV ketamine-assisted psychotherapy · session dosing');
    expect(s).toMatch(/Stages\s+✓ predose ─ ✓ infusion ─ ✓ recovery/);
    expect(s).toMatch(/Outcome  ■ discharged at t\+\d+ min/);
    // A vitals line: measure, unit, true sparkline and value, seen sparkline and value, thresholds.
    expect(s).toMatch(/^SBP\s+mmHg\s+[▁▂▃▄▅▆▇█]{8,}\s+[\d.]+\s+[▁▂▃▄▅▆▇█]{8,}\s+[\d.]+\s.*>160 >180 >200$/m);
    expect(s).toMatch(/^SPO2\s+%\s+[▁▂▃▄▅▆▇█]+/m);
    expect(s).toMatch(/therapist\s+free 1\s+attending 0\s+absent 0/);
    expect(s).toContain('End of the trace — q to quit.');
    expect(s).not.toMatch(EXITED);
    tmux('send-keys', '-t', 'iv', 'q');
    const after = await waitFor('iv', (x) => EXITED.test(x), 10_000);
    expect(EXITED.exec(after)![1]).toBe('0');
  }, 90_000);

  it('group-im: the participant grid, paused with space, then q', async () => {
    if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`pnpm build\` before the e2e tests`);
    start('group', 'group', 10);
    const s = await waitFor('group', (x) => /t\+4\d min/.test(x) && x.includes('attended by facilitator'), 60_000);
    tmux('send-keys', '-t', 'group', 'Space');
    const paused = await waitFor('group', (x) => x.includes('playback paused'), 10_000);
    await new Promise((r) => setTimeout(r, 600));
    expect(screen('group')).toBe(paused);
    expect(s).toMatch(/Stages\s+✓ opening ─ ▶ journey ─ · sharing/);
    expect(paused).toContain('Participants (6)');
    expect(paused).toMatch(/^\s+p1\s+journey\s+[\d.]+\s+[▁▂▃▄▅▆▇█]+.*attended by facilitator$/m);
    expect(paused).toMatch(/facilitator\s+free 0\s+attending 2/);
    tmux('send-keys', '-t', 'group', 'q');
    const after = await waitFor('group', (x) => EXITED.test(x), 10_000);
    expect(EXITED.exec(after)![1]).toBe('0');
  }, 90_000);
});
