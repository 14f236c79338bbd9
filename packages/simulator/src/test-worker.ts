/**
 * Worker-thread entry of `testProtocolInWorker` (search-worker.ts): runs
 * `testProtocol` on the IR and options of `workerData`, posting progress
 * messages and then the report. Built to dist/test-worker.js; the CLI bundle
 * emits it as bundle/test-worker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runTestWorker, type TestWorkerData } from './search-worker.js';

const port = parentPort;
if (port === null) throw new Error('test-worker must run in a worker thread');
runTestWorker(workerData as TestWorkerData, (m) => port.postMessage(m));
