/**
 * The terminal UI (ink + React). Load it only when a TUI is shown:
 *
 * ```ts
 * const tui = await import('../tui/index.js');
 * await tui.showSimulation({ ir, trace });
 * ```
 *
 * Nothing else in the CLI imports this folder, so `check`, `fmt`, … never
 * load ink or React.
 */
import { createElement } from 'react';
import { render, renderToString, type Instance } from 'ink';
import type { IR, SourceSpan } from '@kapspec/runtime';
import type { PropertyTestResult, Trace } from '@kapspec/simulator';
import { showT } from './format.js';
import { initialPlayState, makePlayback, playReducer } from './playback.js';
import { SimulationScreen, SimulationView, type SimulationViewProps } from './simulation.js';
import { StatsView, type StatsViewProps, type TableRow } from './stats-view.js';
import { TestView, type PropertyProgress, type TestFailure, type TestViewProps } from './test-view.js';

export { SimulationView, type SimulationViewProps } from './simulation.js';
export { TestView, type TestViewProps, type PropertyProgress, type PropertyRunStatus, type TestFailure } from './test-view.js';
export { StatsView, type StatsViewProps, type TableLine, type TableRow, tableLayout, tableLines, wrapNotes } from './stats-view.js';
export { SPEEDS, DEFAULT_SPEED } from './playback.js';

/** Where the UI draws and reads keys. Default: the process's streams. */
export interface TerminalStreams {
  readonly stdout?: NodeJS.WriteStream;
  readonly stdin?: NodeJS.ReadStream;
  readonly stderr?: NodeJS.WriteStream;
}

function inkOptions(s: TerminalStreams) {
  return {
    ...(s.stdout ? { stdout: s.stdout } : {}),
    ...(s.stdin ? { stdin: s.stdin } : {}),
    ...(s.stderr ? { stderr: s.stderr } : {}),
    exitOnCtrlC: true,
    patchConsole: false,
  };
}

// ── simulate ─────────────────────────────────────────────────────────────

export interface ShowSimulationOptions extends TerminalStreams {
  readonly ir: IR;
  /** The simulated trace (its header names the session). */
  readonly trace: Trace;
  /** Simulated minutes per real second (default `DEFAULT_SPEED`, 10; snapped to `SPEEDS` by + / −). */
  readonly speed?: number;
  /** Start paused (→ steps one happening at a time). */
  readonly paused?: boolean;
  /**
   * Return when the playback reaches the end instead of waiting for q.
   * Default false; true without a raw-mode stdin and under CI (`CI` set),
   * where ink draws only the final frame.
   */
  readonly exitOnEnd?: boolean;
  /** Real milliseconds between playback ticks (default 100). */
  readonly tickMs?: number;
}

/**
 * The live session view. Resolves when the user quits (q, Esc or Ctrl-C) —
 * or at the end of the trace with `exitOnEnd`, or when stdin cannot be put in
 * raw mode (no keys to wait for). The last frame stays on the terminal.
 */
export async function showSimulation(options: ShowSimulationOptions): Promise<void> {
  const props: SimulationViewProps = {
    ir: options.ir,
    trace: options.trace,
    ...(options.speed !== undefined ? { speed: options.speed } : {}),
    ...(options.paused !== undefined ? { paused: options.paused } : {}),
    // Under CI ink draws only the last frame, at exit: do not wait for keys after the end there.
    ...(options.exitOnEnd !== undefined ? { exitOnEnd: options.exitOnEnd } : inCi() ? { exitOnEnd: true } : {}),
    ...(options.tickMs !== undefined ? { tickMs: options.tickMs } : {}),
  };
  const instance = render(createElement(SimulationView, props), inkOptions(options));
  await instance.waitUntilExit();
}

/**
 * One frame of the session view as text (no terminal): the view after the
 * records up to session minute `at` (default: the whole trace). For docs and
 * snapshots.
 */
export function renderSimulationFrame(ir: IR, trace: Trace, options: { at?: number; columns?: number } = {}): string {
  const playback = makePlayback(ir, trace);
  let state = initialPlayState(playback, { paused: false, speed: 1 });
  const until = options.at ?? playback.end;
  state = playReducer(playback, state, { type: 'tick', ms: Math.max(0, until - state.clock) * 1000 });
  state = { ...state, playing: false };
  const columns = options.columns ?? 100;
  return renderToString(createElement(SimulationScreen, { playback, state, columns }), { columns });
}

// ── test ─────────────────────────────────────────────────────────────────

export interface ShowTestOptions extends TerminalStreams {
  readonly title?: string;
  /** The properties, each with runs done so far (0) of the total. */
  readonly properties: readonly PropertyProgress[];
  readonly source?: string;
  readonly file?: string;
}

export interface TestUi {
  /** Redraws the progress. */
  update(properties: readonly PropertyProgress[]): void;
  /** Draws the final progress and the counterexamples, then leaves the terminal (resolves once it has). */
  finish(final: { properties: readonly PropertyProgress[]; failures?: readonly TestFailure[]; summary?: string }): Promise<void>;
}

/** The live `test` view: call `update` as runs complete, then `finish`. */
export function showTest(options: ShowTestOptions): TestUi {
  const base: TestViewProps = {
    properties: options.properties,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.file !== undefined ? { file: options.file } : {}),
    columns: columnsOf(options),
  };
  const instance: Instance = render(createElement(TestView, base), inkOptions(options));
  return {
    update(properties) {
      instance.rerender(createElement(TestView, { ...base, properties }));
    },
    async finish(final) {
      instance.rerender(createElement(TestView, { ...base, ...final }));
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}

/** Progress rows of finished results (every property at `total` runs, or the runs that checked it). */
export function progressOf(results: readonly PropertyTestResult[]): PropertyProgress[] {
  return results.map((r) => ({
    name: r.name,
    kind: r.kind,
    text: r.text,
    runs: r.runs,
    total: r.runs,
    failures: r.failures,
    inconclusive: r.inconclusive,
    status: r.status,
  }));
}

/** The counterexamples of failed results, with the rules that acted in each witness window. */
export function failuresOf(results: readonly PropertyTestResult[]): TestFailure[] {
  const out: TestFailure[] = [];
  for (const r of results) {
    const c = r.counterexample;
    if (r.status !== 'failed' || !c) continue;
    const span = c.result.span ?? r.span;
    out.push({
      name: r.name,
      ...(span ? { span } : {}),
      related: rulesInWindow(c.trace, c.result.witness, span),
      vignette: c.vignette,
      ...(r.replay !== undefined ? { replay: r.replay } : {}),
    });
  }
  return out;
}

/** Rules that fired inside the witness window, through the time the awaited condition held (their `.kap` lines), at most `max`, one per line. */
export function rulesInWindow(
  trace: Trace,
  witness: { from: number; to: number; resolvedAt?: number } | undefined,
  except?: SourceSpan,
  max = 4,
): { span: SourceSpan; label: string }[] {
  if (!witness) return [];
  const to = Math.max(witness.to, witness.resolvedAt ?? witness.to);
  const out: { span: SourceSpan; label: string }[] = [];
  const lines = new Set<number>(except ? [except.line] : []);
  for (const r of trace.records) {
    if (r.t < witness.from - 1e-6 || r.t > to + 1e-6 || r.type !== 'emit' || r.event.type !== 'rule') continue;
    const span = r.event['span'] as SourceSpan | undefined;
    if (!span || lines.has(span.line)) continue;
    lines.add(span.line);
    out.push({ span, label: `rule ${String(r.event['rule'])} fired at ${showT(r.t)}` });
    if (out.length >= max) break;
  }
  return out;
}

/** One-shot: the finished `test` view of `results` (progress, counterexamples, summary). */
export async function showTestReport(options: TerminalStreams & { title?: string; results: readonly PropertyTestResult[]; source?: string; file?: string; summary?: string }): Promise<void> {
  const props: TestViewProps = {
    properties: progressOf(options.results),
    failures: failuresOf(options.results),
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.file !== undefined ? { file: options.file } : {}),
    ...(options.summary !== undefined ? { summary: options.summary } : {}),
    columns: columnsOf(options),
  };
  const instance = render(createElement(TestView, props), inkOptions(options));
  instance.unmount();
  await instance.waitUntilExit();
}

// ── stats ────────────────────────────────────────────────────────────────

export interface ShowStatsOptions extends TerminalStreams {
  readonly title?: string;
  readonly total: number;
  /** What the progress counts (`sessions`, `participants`). Default `runs`. */
  readonly unit?: string;
}

export interface StatsUi {
  /** The terminal width the view lays itself out in (for what is printed after it). */
  readonly columns: number;
  progress(done: number): void;
  /** Draws the table, then leaves the terminal. */
  finish(table: { header?: readonly string[]; rows: readonly TableRow[]; note?: string; done?: number }): Promise<void>;
}

/** The live `stats` view: a progress bar (`progress` as runs complete), then the table (`finish`). */
export function showStats(options: ShowStatsOptions): StatsUi {
  const base: StatsViewProps = {
    done: 0,
    total: options.total,
    ...(options.title !== undefined ? { title: options.title } : {}),
    ...(options.unit !== undefined ? { unit: options.unit } : {}),
    columns: columnsOf(options),
  };
  const instance = render(createElement(StatsView, base), inkOptions(options));
  let done = 0;
  return {
    columns: base.columns!,
    progress(n) {
      done = n;
      instance.rerender(createElement(StatsView, { ...base, done }));
    },
    async finish(table) {
      instance.rerender(
        createElement(StatsView, {
          ...base,
          done: table.done ?? options.total,
          rows: table.rows,
          ...(table.header !== undefined ? { header: table.header } : {}),
          ...(table.note !== undefined ? { note: table.note } : {}),
        }),
      );
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}

/** What ink (is-in-ci) takes for a CI run: it then writes only the final frame. */
function inCi(): boolean {
  const on = (k: string) => k in process.env && process.env[k] !== '0' && process.env[k] !== 'false';
  return on('CI') || on('CONTINUOUS_INTEGRATION');
}

function columnsOf(s: TerminalStreams): number {
  const c = (s.stdout ?? process.stdout).columns;
  return Math.max(60, Math.min(160, typeof c === 'number' && c > 0 ? c : 100));
}
