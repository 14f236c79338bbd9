import type { Io } from './io.js';

/** Exit codes of the command line contract (DESIGN.md). */
export const EXIT_OK = 0;
/** Findings: errors in a protocol, or `fmt --check` found files to change. */
export const EXIT_FINDINGS = 1;
/** Usage or I/O error: a wrong flag, an unknown command, a missing file. */
export const EXIT_USAGE = 2;

/** What a command's action needs: the Io, and a way to report its exit code. */
export interface CommandContext {
  readonly io: Io;
  /** Records an exit code; the most severe one (the highest) wins. */
  exit(code: number): void;
}
