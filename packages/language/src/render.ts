/**
 * Rendering diagnostics for people (text with a source excerpt and a caret
 * underline, like rustc or Elm) and for machines (the JSON of DESIGN.md,
 * 1-based lines and columns). Pure functions: the CLI does the writing.
 */
import type { Diagnostic } from './diagnostics.js';
import { LineIndex, type Position } from './span.js';
import { escaped, isInvisible, visible } from './visible.js';

export interface RenderOptions {
  /** The file name shown in `file:line:col`. */
  readonly file: string;
  /** ANSI colours; the CLI turns them on only on a TTY without NO_COLOR. */
  readonly color?: boolean;
}

export interface JsonRange {
  readonly start: Position;
  readonly end: Position;
}

export interface JsonDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly file: string;
  readonly range: JsonRange;
  readonly hint?: string;
  readonly related?: readonly { readonly message: string; readonly range: JsonRange }[];
}

const ANSI = {
  red: '\u001b[31m',
  yellow: '\u001b[33m',
  blue: '\u001b[34m',
  cyan: '\u001b[36m',
  bold: '\u001b[1m',
  reset: '\u001b[0m',
};

export function diagnosticToJson(d: Diagnostic, source: string, file: string, index = new LineIndex(source)): JsonDiagnostic {
  const range = (s: { start: number; end: number }): JsonRange => ({
    start: index.position(s.start),
    end: index.position(s.end),
  });
  return {
    severity: d.severity,
    code: d.code,
    message: d.message,
    file,
    range: range(d.span),
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
    ...(d.related && d.related.length > 0
      ? { related: d.related.map((r) => ({ message: r.message, range: range(r.span) })) }
      : {}),
  };
}

export function diagnosticsToJson(
  diagnostics: readonly Diagnostic[],
  source: string,
  file: string,
): JsonDiagnostic[] {
  const index = new LineIndex(source);
  return diagnostics.map((d) => diagnosticToJson(d, source, file, index));
}

/** Widest source excerpt, in columns; a longer line is shown as a window around the span. */
export const EXCERPT_WIDTH = 100;

/**
 * A source line as shown: tabs become four spaces and characters a terminal
 * would not show as themselves become `\u{1b}`, so that nothing raw reaches
 * the terminal and the caret lines up under the excerpt. `at[i]` is where
 * the character at UTF-16 index `i` starts in the shown text (`at[length]`
 * is the shown length).
 */
function shownLine(line: string): { text: string; at: number[] } {
  let text = '';
  const at: number[] = [];
  for (const ch of line) {
    const shown = ch === '\t' ? '    ' : isInvisible(ch) ? escaped(ch) : ch;
    for (let k = 0; k < ch.length; k++) at.push(text.length);
    text += shown;
  }
  at.push(text.length);
  return { text, at };
}

/**
 * The part of a shown line to print: all of it when it fits, else a window
 * of `EXCERPT_WIDTH` columns from a third of the width before the span's
 * start, with `…` where the line is cut. Cuts fall between shown characters,
 * never inside an escape. Returns the text and the span's start and end in it.
 */
function windowed(shown: { text: string; at: number[] }, from: number, to: number): { text: string; from: number; to: number } {
  const { text, at } = shown;
  if (text.length <= EXCERPT_WIDTH) return { text, from, to };
  const starts = new Set(at);
  let a = Math.max(0, Math.min(from - Math.floor(EXCERPT_WIDTH / 3), text.length - EXCERPT_WIDTH));
  while (a > 0 && !starts.has(a)) a--;
  let b = Math.min(text.length, a + EXCERPT_WIDTH);
  while (b < text.length && b > a && !starts.has(b)) b--;
  const head = a > 0 ? '…' : '';
  const tail = b < text.length ? '…' : '';
  const shift = head.length - a;
  const clip = (x: number): number => Math.min(Math.max(x, a), b) + shift;
  return { text: `${head}${text.slice(a, b)}${tail}`, from: clip(from), to: clip(to) };
}

export function renderDiagnostic(d: Diagnostic, source: string, options: RenderOptions, index = new LineIndex(source)): string {
  const c = (code: keyof typeof ANSI, s: string): string => (options.color ? `${ANSI[code]}${s}${ANSI.reset}` : s);
  const start = index.position(d.span.start);
  const end = index.position(d.span.end);
  const label = d.severity === 'error' ? c('red', `error[${d.code}]`) : c('yellow', `warning[${d.code}]`);
  // Messages and hints may quote the source; nothing invisible is printed raw.
  const out: string[] = [`${label}: ${c('bold', visible(d.message))}`];
  // One gutter width for the whole diagnostic, as rustc does: the widest line number shown.
  const related = (d.related ?? []).map((r) => ({ r, s: index.position(r.span.start), e: index.position(r.span.end) }));
  const gutter = Math.max(String(start.line).length, ...related.map((x) => String(x.s.line).length));
  const pad = ' '.repeat(gutter);
  const file = visible(options.file);
  out.push(`${pad}${c('blue', '-->')} ${file}:${start.line}:${start.column}`);
  out.push(...excerpt(start, end, '^', index, c, gutter));
  for (const { r, s: rs, e: re } of related) {
    out.push(`${pad} ${c('blue', '= note')}: ${visible(r.message)}`);
    out.push(`${pad}${c('blue', '-->')} ${file}:${rs.line}:${rs.column}`);
    out.push(...excerpt(rs, re, '-', index, c, gutter));
  }
  if (d.hint !== undefined) out.push(`${pad} ${c('cyan', '= hint')}: ${visible(d.hint)}`);
  return out.join('\n');
}

function excerpt(
  start: Position,
  end: Position,
  mark: string,
  index: LineIndex,
  c: (code: keyof typeof ANSI, s: string) => string,
  gutter: number,
): string[] {
  const lineText = index.lineText(start.line);
  const pad = ' '.repeat(gutter);
  const shown = shownLine(lineText);
  const column = (col: number): number => shown.at[Math.min(col - 1, lineText.length)] ?? shown.text.length;
  // A span running past its first line is underlined to the end of that line.
  const window = windowed(shown, column(start.column), end.line === start.line ? column(end.column) : shown.text.length);
  const width = Math.max(1, window.to - window.from);
  return [
    `${pad} ${c('blue', '|')}`,
    `${c('blue', `${String(start.line).padStart(gutter)} |`)} ${window.text}`,
    `${pad} ${c('blue', '|')} ${' '.repeat(window.from)}${c(mark === '^' ? 'red' : 'blue', mark.repeat(width))}`,
  ];
}

export function renderDiagnostics(diagnostics: readonly Diagnostic[], source: string, options: RenderOptions): string {
  const index = new LineIndex(source);
  return diagnostics.map((d) => renderDiagnostic(d, source, options, index)).join('\n\n');
}

/** "2 errors, 1 warning" */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.length - errors;
  const plural = (n: number, w: string): string => `${n} ${w}${n === 1 ? '' : 's'}`;
  return `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
}
