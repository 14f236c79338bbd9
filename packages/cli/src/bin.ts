#!/usr/bin/env node
// The `kapspec` executable: real process I/O around main(). Keep it tiny.
import { nodeIo } from './io.js';
import { main } from './main.js';

// `kapspec check … | head`: a closed pipe is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw error;
  });
}

process.exitCode = await main(process.argv.slice(2), nodeIo());
