/**
 * Worker-thread entry of `runStats` (stats.ts): receives the IR and options
 * as `workerData`, then chunks of session indices; answers each with the
 * chunk's accumulator, and progress messages while it runs. Built to
 * dist/stats-worker.js; the CLI bundle emits it as bundle/stats-worker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { statsWorkerHandler, type StatsWorkerData, type StatsWorkerReply, type StatsWorkerRequest } from './stats.js';

const port = parentPort;
if (port === null) throw new Error('stats-worker must run in a worker thread');
const post = (m: StatsWorkerReply) => port.postMessage(m);
let handle: (m: StatsWorkerRequest) => void;
try {
  handle = statsWorkerHandler(workerData as StatsWorkerData, post);
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ type: 'error', name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) });
  handle = () => undefined;
}
port.on('message', (m: StatsWorkerRequest) => {
  if (m.type === 'close') port.close();
  else handle(m);
});
