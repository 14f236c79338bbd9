// Run as a separate process by determinism.test.ts: prints the SHA-256 of
// the serialized trace of individual-iv with the noisy scenario and seed argv[2].
import { createHash } from 'node:crypto';
import { serializeTrace, simulate } from '../src/index.js';
import { exampleIR, noisyScenario } from './helpers.js';

const seed = Number(process.argv[2] ?? '7');
const text = serializeTrace(simulate(exampleIR('individual-iv'), { session: 'dosing', scenario: noisyScenario(), seed }));
process.stdout.write(`${createHash('sha256').update(text).digest('hex')}\n`);
