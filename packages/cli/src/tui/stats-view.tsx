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
  /** What a run is, for the progress line: `sessions`, `participants` (a course each). Default `runs`. */
  readonly unit?: string;
  /** The header row of the table. */
  readonly header?: readonly string[];
  /** The result table; shown once given. */
  readonly rows?: readonly (readonly string[])[];
  readonly note?: string;
  readonly columns?: number;
}

const NUMERIC = /^[-+]?[\d.,]+(%| ?[a-z/]+)?$|^[-+]?[\d.]+\s*[–-]\s*[\d.]+%?$/i;

/** Words of `s` on lines of at most `width` characters (a word longer than that is cut). */
function wrapWords(s: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of s.split(' ')) {
    while (word.length > width) {
      if (line !== '') lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}

/** The gap between columns. */
const GAP = '  ';
/** A text column is never wrapped narrower than this (nor than its header). */
const MIN_TEXT_COLUMN = 16;

/**
 * Rows as aligned text lines: columns padded to their widest cell, numbers
 * right-aligned. When the table is wider than `width`, the text columns (the
 * figure's name, the published figure) wrap onto continuation lines, the
 * widest first, so that the numbers keep their place on screen.
 */
export function tableLines(header: readonly string[] | undefined, rows: readonly (readonly string[])[], width = Infinity): string[] {
  const all = header ? [header, ...rows] : rows;
  const n = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, c) => Math.max(0, ...all.map((r) => (r[c] ?? '').length)));
  // A column is numeric when every non-empty body cell is: it is right-aligned, its header too.
  const numeric = widths.map((_, c) => c > 0 && rows.some((r) => (r[c] ?? '') !== '') && rows.every((r) => (r[c] ?? '') === '' || NUMERIC.test(r[c]!)));
  // Narrow the widest text column, one character at a time, while the table is too wide.
  const floor = widths.map((w, c) => Math.min(w, Math.max(MIN_TEXT_COLUMN, (header?.[c] ?? '').length)));
  let excess = widths.reduce((a, w) => a + w, 0) + GAP.length * Math.max(0, n - 1) - width;
  while (excess > 0) {
    let widest = -1;
    for (let c = 0; c < n; c++) if (!numeric[c] && widths[c]! > floor[c]! && (widest < 0 || widths[c]! > widths[widest]!)) widest = c;
    if (widest < 0) break;
    widths[widest]!--;
    excess--;
  }
  const line = (r: readonly string[]) =>
    widths
      .map((w, c) => (numeric[c] ? padLeft(r[c] ?? '', w) : pad(r[c] ?? '', w)))
      .join(GAP)
      .trimEnd();
  // A row whose text cells are wider than their columns takes several lines, each cell continuing in its column.
  const rowLines = (r: readonly string[]) => {
    const cells = widths.map((w, c) => (numeric[c] ? [r[c] ?? ''] : wrapWords(r[c] ?? '', w)));
    const height = Math.max(1, ...cells.map((x) => x.length));
    return Array.from({ length: height }, (_, k) => line(cells.map((x) => x[k] ?? '')));
  };
  const out: string[] = [];
  if (header) {
    out.push(...rowLines(header));
    out.push(widths.map((w) => '─'.repeat(w)).join(GAP));
  }
  for (const r of rows) out.push(...rowLines(r));
  return out;
}

export function StatsView({ title, done, total, unit = 'runs', header, rows, note, columns = 100 }: StatsViewProps) {
  const width = Math.max(10, Math.min(50, columns - 30));
  const pct = total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 0;
  const lines = rows ? tableLines(header, rows, columns) : [];
  return (
    <Box flexDirection="column" width={columns}>
      <Text bold>{title ?? 'kapspec stats'}</Text>
      <Text wrap="truncate">
        <Text color={rows ? 'green' : 'cyan'}>{bar(done, total, width)}</Text>
        <Text>{` ${padLeft(String(pct), 3)}%  ${done}/${total} ${unit}`}</Text>
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
