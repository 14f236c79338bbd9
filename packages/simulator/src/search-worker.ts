/**
 * `testProtocol` in a worker thread, so that a terminal view can redraw its
 * progress while the search and the shrinking run: `testProtocolInWorker`
 * starts test-worker.ts (from the built dist or the CLI bundle, located like
 * stats-worker.js), hands it the IR and the options, relays its progress
 * messages to `onProgress` and resolves with its report.
 *
 * The report is the same as `testProtocol`'s in this thread (same options,
 * same seed: same report): the worker runs the very same function, and a
 * report is plain data (traces, results, coverage), which structured cloning
 * carries across unchanged. Options that are functions cannot cross: the
 * trace path is given as a prefix (`tracePrefix`) instead of `tracePath`.
 */
import { Worker } from 'node:worker_threads';
import type { IR } from '@kapspec/runtime';
import { SimulationError } from './driver.js';
import { AdversarialModelError } from './models/adversarial.js';
import { CalibratedModelError } from './models/calibrated.js';
import { TestError, testProtocol, type TestOptions, type TestProgress, type TestReport } from './search.js';
import { workerExecArgv } from './stats.js';

/** Options that can be sent to a worker: `TestOptions` without functions. */
export type TestWorkerOptions = Omit<TestOptions, 'tracePath' | 'onProgress'> & {
  /**
   * A counterexample's trace path is `<tracePrefix><property>-<seed>.jsonl`
   * (the property name made file-safe, as in `defaultTracePath`). Default:
   * `defaultTracePath`'s (`kapspec-`).
   */
  readonly tracePrefix?: string;
};

export interface TestWorkerData {
  readonly ir: IR;
  readonly options: TestWorkerOptions;
}

export type TestWorkerReply =
  | { readonly type: 'progress'; readonly progress: TestProgress }
  | { readonly type: 'result'; readonly report: TestReport }
  | { readonly type: 'error'; readonly name: string; readonly message: string; readonly stack?: string };

/** Progress messages at most this often (ms), besides those at the end of the search. */
export const TEST_PROGRESS_MS = 50;

/** `TestOptions` of worker options (the trace path function of `tracePrefix`). */
export function testOptionsOf(options: TestWorkerOptions): TestOptions {
  const { tracePrefix, ...rest } = options;
  return tracePrefix === undefined ? rest : { ...rest, tracePath: (property, seed) => `${tracePrefix}${property.replace(/[^A-Za-z0-9._-]/g, '-')}-${seed}.jsonl` };
}

/** What the worker does: run the search, post throttled progress, then the report (or the error). */
export function runTestWorker(data: TestWorkerData, post: (m: TestWorkerReply) => void): void {
  try {
    let last = 0;
    const report = testProtocol(data.ir, {
      ...testOptionsOf(data.options),
      onProgress: (progress) => {
        const now = Date.now();
        if (progress.run < progress.runs && now - last < TEST_PROGRESS_MS) return;
        last = now;
        post({ type: 'progress', progress });
      },
    });
    post({ type: 'result', report });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({ type: 'error', name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) });
  }
}

/** The worker entry file: next to this module, or in the built dist when this module runs from source (tests). */
export function testWorkerUrl(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../dist/test-worker.js', here) : new URL('./test-worker.js', here);
}

const ERRORS: Record<string, new (message: string) => Error> = { TestError, SimulationError, AdversarialModelError, CalibratedModelError };

/** The worker's error as this thread's error class (so `instanceof TestError` and the like still work). */
function revive(m: { name: string; message: string; stack?: string }): Error {
  const Class = ERRORS[m.name];
  const e = Class ? new Class(m.message) : new Error(m.message);
  if (!Class) e.name = m.name;
  if (m.stack !== undefined) e.stack = m.stack;
  return e;
}

/**
 * `testProtocol` in a worker thread: the same report, with `onProgress`
 * called (in this thread) as the worker reports progress.
 */
export function testProtocolInWorker(
  ir: IR,
  options: TestWorkerOptions & { readonly onProgress?: (progress: TestProgress) => void; readonly workerUrl?: URL | string },
): Promise<TestReport> {
  const { onProgress, workerUrl, ...rest } = options;
  const url = workerUrl ?? testWorkerUrl();
  return new Promise<TestReport>((resolve, reject) => {
    let settled = false;
    let worker: Worker;
    const finish = (result: { report: TestReport } | { error: Error }) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      if ('report' in result) resolve(result.report);
      else reject(result.error);
    };
    try {
      worker = new Worker(url, { workerData: { ir, options: rest } satisfies TestWorkerData, execArgv: workerExecArgv() });
    } catch (error) {
      reject(new TestError(`cannot start a test worker from ${String(url)}: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    worker.on('message', (m: TestWorkerReply) => {
      if (settled) return;
      if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'result') finish({ report: m.report });
      else finish({ error: revive(m) });
    });
    worker.on('error', (error) => finish({ error: error instanceof Error ? error : new Error(String(error)) }));
    worker.on('exit', (code) => finish({ error: new TestError(`the test worker stopped (exit code ${code}) before the search was complete`) }));
  });
}
