/**
 * @kapspec/cli as a library: run the command line in-process with your own
 * I/O (tests, embedding). The `kapspec` executable is dist/bin.js.
 */
export { main, createProgram } from './main.js';
export { EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, type CommandContext } from './context.js';
export { nodeIo, writeFileAtomic, describeIoError, useColor, type Io, type OutputStream } from './io.js';
