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
  /** The result table, with section titles between its rows; shown once given. */
  readonly rows?: readonly TableRow[];
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

/**
 * Text lines (the notes under the stats table) wrapped at word boundaries
 * to `width` columns, each continuation indented two more than its line, so
 * a terminal does not break words; lines that fit are kept as they are.
 */
export function wrapNotes(text: string, width: number): string {
  const out: string[] = [];
  const trailing = text.endsWith('\n');
  for (const line of (trailing ? text.slice(0, -1) : text).split('\n')) {
    if (line.length <= width) {
      out.push(line);
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const first = ' '.repeat(indent);
    const next = ' '.repeat(indent + 2);
    // The first line may use the two columns the continuations are indented by.
    const head = wrapWords(line.trimStart(), Math.max(1, width - indent))[0]!;
    const rest = line.trimStart().slice(head.length).trimStart();
    out.push(first + head, ...(rest === '' ? [] : wrapWords(rest, Math.max(1, width - indent - 2)).map((l) => next + l)));
  }
  return `${out.join('\n')}${trailing ? '\n' : ''}`;
}

/** The gap between columns. */
const GAP = '  ';
/** A text column is never wrapped narrower than this (nor than its header). */
const MIN_TEXT_COLUMN = 16;

/** A row of cells, or the title of the section of rows that follow. */
export type TableRow = readonly string[] | { readonly title: string };

/** One line of a laid-out table, and what it is (the view styles each kind). */
export interface TableLine {
  readonly text: string;
  readonly kind: 'header' | 'rule' | 'title' | 'row';
}

const isTitle = (r: TableRow): r is { readonly title: string } => !Array.isArray(r);

/**
 * Rows as aligned text lines: columns padded to their widest cell, numbers
 * right-aligned; a section title on a line of its own, after a blank line.
 * When the table is wider than `width`, the text columns (the figure's name,
 * the published figure) wrap onto continuation lines, the widest first, so
 * that the numbers keep their place on screen.
 */
export function tableLayout(header: readonly string[] | undefined, all: readonly TableRow[], width = Infinity): TableLine[] {
  const rows = all.filter((r): r is readonly string[] => !isTitle(r));
  const withHeader = header ? [header, ...rows] : rows;
  const n = Math.max(0, ...withHeader.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, c) => Math.max(0, ...withHeader.map((r) => (r[c] ?? '').length)));
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
  const rowLines = (r: readonly string[], kind: 'header' | 'row'): TableLine[] => {
    const cells = widths.map((w, c) => (numeric[c] ? [r[c] ?? ''] : wrapWords(r[c] ?? '', w)));
    const height = Math.max(1, ...cells.map((x) => x.length));
    return Array.from({ length: height }, (_, k) => ({ text: line(cells.map((x) => x[k] ?? '')), kind }));
  };
  const out: TableLine[] = [];
  if (header) {
    out.push(...rowLines(header, 'header'));
    out.push({ text: widths.map((w) => '─'.repeat(w)).join(GAP), kind: 'rule' });
  }
  for (const r of all) {
    if (!isTitle(r)) out.push(...rowLines(r, 'row'));
    else {
      if (out.length > 0 && out.at(-1)!.kind !== 'rule') out.push({ text: '', kind: 'title' });
      for (const t of wrapWords(r.title, Number.isFinite(width) ? Math.max(MIN_TEXT_COLUMN, width) : r.title.length || 1)) out.push({ text: t, kind: 'title' });
    }
  }
  return out;
}

/** `tableLayout` as plain text lines. */
export function tableLines(header: readonly string[] | undefined, rows: readonly TableRow[], width = Infinity): string[] {
  return tableLayout(header, rows, width).map((l) => l.text);
}

export function StatsView({ title, done, total, unit = 'runs', header, rows, note, columns = 100 }: StatsViewProps) {
  const width = Math.max(10, Math.min(50, columns - 30));
  const pct = total > 0 ? Math.floor((100 * Math.min(done, total)) / total) : 0;
  const lines = rows ? tableLayout(header, rows, columns) : [];
  return (
    <Box flexDirection="column" width={columns}>
      <Text bold>{title ?? 'kapspec stats'}</Text>
      <Text wrap="truncate">
        <Text color={rows ? 'green' : 'cyan'}>{bar(done, total, width)}</Text>
        <Text>{` ${padLeft(String(pct), 3)}%  ${done}/${total} ${unit}`}</Text>
      </Text>
      {rows ? (
        <Box flexDirection="column" marginTop={1}>
          {lines.map((l, i) =>
            // An empty line (before a section title): ink draws no empty Text.
            l.text === '' ? (
              <Box key={i} height={1} />
            ) : (
              <Text key={i} bold={l.kind === 'header' || l.kind === 'title'} dimColor={l.kind === 'rule'} wrap="truncate">
                {l.text}
              </Text>
            ),
          )}
        </Box>
      ) : null}
      {note ? <Text dimColor>{note}</Text> : null}
    </Box>
  );
}
