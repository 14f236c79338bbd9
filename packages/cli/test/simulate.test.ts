import { parseTrace } from '@kapspec/simulator';
import { describe, expect, it, vi } from 'vitest';
import { BAD } from './fixtures.js';
import { ANSI, run } from './memory-io.js';
import { example } from './sim-fixtures.js';

vi.setConfig({ testTimeout: 60_000 });

const IV = 'examples/individual-iv.kap';
const GROUP = 'examples/group-im.kap';
const files = { [IV]: example(IV), [GROUP]: example(GROUP) };
const rows = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('t+'));

describe('kapspec simulate', () => {
  it('prints a header, the timeline and a one-line summary; exit 0, nothing on stderr', async () => {
    const r = await run(['simulate', IV], { files });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Protocol "Individual IV ketamine-assisted psychotherapy", session dosing: seed 1, calibrated model, 1 participant.');
    expect(lines[1]).toMatch(/^p1: age [\d.]+, [\d.]+ kg; baseline SBP /);
    expect(r.stdout).toContain('\ntime      stage               what happened\n');
    expect(rows(r.stdout)[0]).toBe('t+0       predose             predose begins');
    expect(r.stdout).toMatch(/measured SBP \d+ \(true [\d.]+\)/);
    expect(lines[lines.length - 1]).toBe('');
    expect(lines[lines.length - 2]).toMatch(/^Outcome: (discharged|deferred|ended|escalated) at t\+[\d.]+ min.* \(.*examples\/individual-iv\.kap:\d+\)\.$/);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('the default seed is 1, and a seed gives the same text every time', async () => {
    const a = await run(['simulate', IV], { files });
    const b = await run(['simulate', IV, '--seed', '1'], { files });
    expect(b.stdout).toBe(a.stdout);
    const c = await run(['simulate', IV, '--seed', '2'], { files });
    const d = await run(['simulate', IV, '--seed', '2'], { files });
    expect(c.stdout).toBe(d.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    expect(c.stdout.split('\n')[0]).toContain('seed 2');
  });

  it('--out writes the JSONL trace atomically and says so on stderr', async () => {
    const r = await run(['simulate', IV, '--out', 'out/session.jsonl'], { files });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('wrote out/session.jsonl\n');
    expect(r.memory.writes).toEqual(['/work/out/session.jsonl']);
    const parsed = parseTrace(r.memory.files.get('/work/out/session.jsonl')!);
    if ('error' in parsed) throw new Error(parsed.error.message);
    expect(parsed.trace.header).toMatchObject({ kapspecTrace: 1, session: 'dosing', seed: 1, model: 'calibrated' });
    // The timeline is the trace's.
    const plain = await run(['simulate', IV], { files });
    expect(r.stdout).toBe(plain.stdout);
  });

  it('--profile: the calibrated model with that IV response profile (as stats --profile), recorded in the trace; yale by default', async () => {
    const header = async (extra: string[]) => {
      const r = await run(['simulate', IV, '--seed', '7', ...extra, '--out', 't.jsonl'], { files });
      expect(r.code).toBe(0);
      const parsed = parseTrace(r.memory.files.get('/work/t.jsonl')!);
      if ('error' in parsed) throw new Error(parsed.error.message);
      return parsed.trace;
    };
    const yale = await header([]);
    const cohort = await header(['--profile', 'cohort741']);
    expect(yale.header.parameters['profile']).toBe('yale');
    expect(cohort.header.parameters['profile']).toBe('cohort741');
    // The same participant, a smaller blood pressure response.
    expect(cohort.header.participants).toEqual(yale.header.participants);
    const peak = (t: typeof yale) => Math.max(...t.records.flatMap((x) => (x.type === 'truth' && x.values['sbp'] !== undefined ? [x.values['sbp']] : [])));
    expect(peak(cohort)).toBeLessThan(peak(yale));
    const bad = await run(['simulate', IV, '--profile', 'nope'], { files });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--profile.*nope.*yale, cohort741/);
    // Not an option of the adversarial model: said, not ignored.
    const adversarial = await run(['simulate', IV, '--model', 'adversarial', '--profile', 'cohort741'], { files });
    expect(adversarial.code).toBe(2);
    expect(adversarial.stderr).toBe('kapspec simulate: --profile is an option of the calibrated model (the adversarial model draws its own blood pressure surges)\n');
  });

  it('an --out that cannot be written: exit 2, one line', async () => {
    const r = await run(['simulate', IV, '--out', 'locked.jsonl'], { files, unwritable: ['locked.jsonl'] });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('kapspec simulate: cannot write locked.jsonl: permission denied\n');
  });

  it('--session picks another session; an unknown one lists the sessions', async () => {
    const s = await run(['simulate', IV, '--session', 'screening'], { files });
    expect(s.code).toBe(0);
    expect(s.stdout.split('\n')[0]).toContain('session screening');
    const u = await run(['simulate', IV, '--session', 'nope'], { files });
    expect(u).toMatchObject({ code: 2, stdout: '' });
    expect(u.stderr).toBe(`kapspec simulate: ${IV} has no session \`nope\`; its sessions are \`screening\`, \`preparation\`, \`dosing\`, \`integration\`\n`);
  });

  it('a group: the smallest group by default, --participants within the declared range', async () => {
    const r = await run(['simulate', GROUP], { files });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('\ntime      stage               who  what happened\n');
    const n = await run(['simulate', GROUP, '--participants', '5'], { files });
    expect(n.code).toBe(0);
    expect(n.stdout.split('\n')[0]).toContain('5 participants');
    expect(n.stdout).toMatch(/^t\+\S+ +\S+ +p5 /m);
    const over = await run(['simulate', GROUP, '--participants', '99'], { files });
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/^kapspec simulate: examples\/group-im\.kap is for groups of \d+ to \d+: --participants 99 is outside that range\n$/);
  });

  it('--participants on an individual protocol must be 1', async () => {
    const r = await run(['simulate', IV, '--participants', '2'], { files });
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: `kapspec simulate: ${IV} is an individual protocol: --participants must be 1, got 2\n` });
  });

  it('--model adversarial: one sample of the adversarial generator for the seed', async () => {
    const a = await run(['simulate', IV, '--model', 'adversarial', '--seed', '5'], { files });
    expect(a.code).toBe(0);
    expect(a.stdout.split('\n')[0]).toContain('seed 5, adversarial model');
    const b = await run(['simulate', IV, '--model', 'adversarial', '--seed', '5'], { files });
    expect(b.stdout).toBe(a.stdout);
  });

  it.each([
    [['--seed', '-1'], "option '--seed <n>' argument '-1' is invalid. expected an integer from 0 to 4294967295"],
    [['--seed', 'abc'], "option '--seed <n>' argument 'abc' is invalid. expected an integer from 0 to 4294967295"],
    [['--seed', '4294967296'], "option '--seed <n>' argument '4294967296' is invalid. expected an integer from 0 to 4294967295"],
    [['--participants', '0'], "option '--participants <n>' argument '0' is invalid. expected a whole number of at least 1"],
    [['--model', 'chaos'], "option '--model <model>' argument 'chaos' is invalid. Allowed choices are calibrated, adversarial."],
  ])('a bad option value %j: exit 2, usage line', async (args, message) => {
    const r = await run(['simulate', IV, ...args], { files });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kapspec simulate: ${message}\nRun \`kapspec simulate --help\` for usage.\n`);
  });

  it('a protocol with errors: diagnostics on stderr, exit 2 (DESIGN: simulate exits 0 or 2)', async () => {
    const r = await run(['simulate', 'bad.kap'], { files: { 'bad.kap': BAD } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error[KAP1009]');
    expect(r.stderr).toMatch(/kapspec simulate: bad\.kap has errors \(3 errors.*\); nothing simulated\n$/);
  });

  it('--staff-leave-rate: staff come and go in the timeline (calibrated model); refused with the adversarial model', async () => {
    const r = await run(['simulate', IV, '--seed', '3', '--staff-leave-rate', '1'], { files });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ a (therapist|medical_provider) is called away\n/);
    const a = await run(['simulate', IV, '--model', 'adversarial', '--staff-leave-rate', '1'], { files });
    expect(a.code).toBe(2);
    expect(a.stderr).toBe('kapspec simulate: --staff-leave-rate and --staff-absence are options of the calibrated model (the adversarial model draws its own staff absences)\n');
  });

  it('a missing file: exit 2', async () => {
    const r = await run(['simulate', 'nope.kap']);
    expect(r).toMatchObject({ code: 2, stdout: '', stderr: 'kapspec: cannot read nope.kap: no such file\n' });
  });

  it('colour only on a terminal, never with NO_COLOR; --no-tui prints the same timeline', async () => {
    const tty = await run(['simulate', IV], { files, stdoutTTY: true });
    expect(tty.code).toBe(0);
    expect(tty.stdout).toMatch(ANSI);
    const noColor = await run(['simulate', IV], { files, stdoutTTY: true, env: { NO_COLOR: '1' } });
    const pipe = await run(['simulate', IV], { files });
    expect(noColor.stdout).toBe(pipe.stdout);
    const noTui = await run(['simulate', IV, '--no-tui'], { files, stdoutTTY: true, env: { NO_COLOR: '1' } });
    expect(noTui.stdout).toBe(pipe.stdout);
  });

  it('--help shows real examples, the default seed and the exit codes', async () => {
    const r = await run(['simulate', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: kapspec simulate [options] <file>');
    expect(r.stdout).toContain('Examples:\n  $ kapspec simulate examples/individual-iv.kap');
    expect(r.stdout).toMatch(/The seed defaults to\s+1/);
    expect(r.stdout).toContain('--no-tui');
    expect(r.stdout).toContain('Exit codes: 0');
  });
});
