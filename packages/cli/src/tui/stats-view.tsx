/**
 * The view of `kapspec stats` on a terminal: a progress bar while the Monte
 * Carlo runs go, then the result table (rows of cells given as strings).
 */
import { Box, Text } from 'ink';
import { bar, pad, padLeft } from './format.js';

export interface StatsViewProps {
  readonly title?: string;
  /** Runs done of `total`. */
  readonly done: number;
  readonly total: number;
  /** The header row of the table. */
  readonly header?: readonly string[];
  /** The result table; shown once given. */
  readonly rows?: readonly (readonly string[])[];
  readonly note?: string;
  readonly columns?: number;
}

const NUMERIC = /^[-+]?[\d.,]+(%| ?[a-z/]+)?$|^[-+]?[\d.]+\s*[–-]\s*[\d.]+%?$/i;

/** Rows as aligned text lines: columns padded to their widest cell, numbers right-aligned. */
export function tableLines(header: readonly string[] | undefined, rows: readonly (readonly string[])[]): string[] {
  const all = header ? [header, ...rows] : rows;
  const n = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, c) => Math.max(0, ...all.map((r) => (r[c] ?? '').length)));
  // A column is numeric when every non-empty body cell is: it is right-aligned, its header too.
  const numeric = widths.map((_, c) => c > 0 && rows.some((r) => (r[c] ?? '') !== '') && rows.every((r) => (r[c] ?? '') === '' || NUMERIC.test(r[c]!)));
  const line = (r: readonly string[]) =>
    widths
      .map((w, c) => (numeric[c] ? padLeft(r[c] ?? '', w) : pad(r[c] ?? '', w)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  if (header) {
    out.push(line(header));
    out.push(widths.map((w) => '─'.repeat(w)).join('  '));
  }
  for (const r of rows) out.push(line(r));
  return out;
}

export function StatsView({ title, done, total, header, rows, note, columns = 100 }: StatsViewProps) {
  const width = Math.max(10, Math.min(50, columns - 30));
  const pct = total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 0;
  const lines = rows ? tableLines(header, rows) : [];
  return (
    <Box flexDirection="column" width={columns}>
      <Text bold>{title ?? 'kapspec stats'}</Text>
      <Text wrap="truncate">
        <Text color={rows ? 'green' : 'cyan'}>{bar(done, total, width)}</Text>
        <Text>{` ${padLeft(String(pct), 3)}%  ${done}/${total} runs`}</Text>
      </Text>
      {rows ? (
        <Box flexDirection="column" marginTop={1}>
          {lines.map((l, i) => (
            <Text key={i} bold={header !== undefined && i === 0} dimColor={header !== undefined && i === 1} wrap="truncate">
              {l}
            </Text>
          ))}
        </Box>
      ) : null}
      {note ? <Text dimColor>{note}</Text> : null}
    </Box>
  );
}
