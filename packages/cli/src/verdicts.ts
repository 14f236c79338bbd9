/**
 * Property verdicts as `test` and `replay` print them: one line per
 * property — status, name, runs, `.kap` line — then a count. Off a terminal
 * the status is a word (PASS, FAIL, INCONCLUSIVE) so logs grep well; on a
 * terminal a mark (✓ ✗ ?), in colour unless NO_COLOR.
 */
import type { SourceSpan } from '@kapspec/runtime';
import { spanLine } from './protocol.js';

export type Status = 'passed' | 'failed' | 'inconclusive';

export interface VerdictRow {
  readonly name: string;
  readonly status: Status;
  readonly runs: number;
  readonly span?: SourceSpan | undefined;
  /** Shown after the line, indented (e.g. an inconclusive verdict's reason). */
  readonly note?: string | undefined;
}

export interface VerdictStyle {
  /** Marks instead of words. */
  readonly tty: boolean;
  readonly color: boolean;
  /** The `.kap` path, for spans without a file. */
  readonly file: string;
}

const WORD: Record<Status, string> = { passed: 'PASS', failed: 'FAIL', inconclusive: 'INCONCLUSIVE' };
const MARK: Record<Status, string> = { passed: '✓', failed: '✗', inconclusive: '?' };
const COLOR: Record<Status, string> = { passed: '32', failed: '1;31', inconclusive: '33' };

export function statusText(status: Status, style: VerdictStyle): string {
  const s = style.tty ? MARK[status] : WORD[status];
  return style.color ? `\u001b[${COLOR[status]}m${s}\u001b[0m` : s;
}

export function verdictLines(rows: readonly VerdictRow[], style: VerdictStyle): string[] {
  const statusWidth = style.tty ? 1 : Math.max(...rows.map((r) => WORD[r.status].length), 4);
  const nameWidth = Math.max(0, ...rows.map((r) => r.name.length));
  const runsWidth = Math.max(0, ...rows.map((r) => runsText(r.runs).length));
  return rows.flatMap((r) => {
    const pad = ' '.repeat(statusWidth - (style.tty ? 1 : WORD[r.status].length));
    const where = spanLine(r.span, style.file) ?? '(built-in)';
    const line = `${statusText(r.status, style)}${pad}  ${r.name.padEnd(nameWidth)}  ${runsText(r.runs).padStart(runsWidth)}  ${where}`;
    return r.note ? [line, `${' '.repeat(statusWidth + 2)}${r.note}`] : [line];
  });
}

function runsText(n: number): string {
  return `${n} run${n === 1 ? '' : 's'}`;
}

/** `3 properties: 2 passed, 1 failed`. */
export function countLine(rows: readonly { status: Status }[]): string {
  const n = (s: Status) => rows.filter((r) => r.status === s).length;
  const parts = [`${n('passed')} passed`, `${n('failed')} failed`];
  if (n('inconclusive') > 0) parts.push(`${n('inconclusive')} inconclusive`);
  return `${rows.length} propert${rows.length === 1 ? 'y' : 'ies'}: ${parts.join(', ')}`;
}
