/**
 * Rendering diagnostics for people (text with a source excerpt and a caret
 * underline, like rustc or Elm) and for machines (the JSON of DESIGN.md,
 * 1-based lines and columns). Pure functions: the CLI does the writing.
 */
import type { Diagnostic } from './diagnostics.js';
import { LineIndex, type Position } from './span.js';

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

/** Tabs become spaces so that the caret lines up under the excerpt. */
function expandTabs(line: string): string {
  return line.replace(/\t/g, '    ');
}

function visualColumn(line: string, column: number): number {
  return expandTabs(line.slice(0, column - 1)).length;
}

export function renderDiagnostic(d: Diagnostic, source: string, options: RenderOptions, index = new LineIndex(source)): string {
  const c = (code: keyof typeof ANSI, s: string): string => (options.color ? `${ANSI[code]}${s}${ANSI.reset}` : s);
  const start = index.position(d.span.start);
  const end = index.position(d.span.end);
  const label = d.severity === 'error' ? c('red', `error[${d.code}]`) : c('yellow', `warning[${d.code}]`);
  const out: string[] = [`${label}: ${c('bold', d.message)}`];
  // One gutter width for the whole diagnostic, as rustc does: the widest line number shown.
  const related = (d.related ?? []).map((r) => ({ r, s: index.position(r.span.start), e: index.position(r.span.end) }));
  const gutter = Math.max(String(start.line).length, ...related.map((x) => String(x.s.line).length));
  const pad = ' '.repeat(gutter);
  out.push(`${pad}${c('blue', '-->')} ${options.file}:${start.line}:${start.column}`);
  out.push(...excerpt(start, end, '^', index, c, gutter));
  for (const { r, s: rs, e: re } of related) {
    out.push(`${pad} ${c('blue', '= note')}: ${r.message}`);
    out.push(`${pad}${c('blue', '-->')} ${options.file}:${rs.line}:${rs.column}`);
    out.push(...excerpt(rs, re, '-', index, c, gutter));
  }
  if (d.hint !== undefined) out.push(`${pad} ${c('cyan', '= hint')}: ${d.hint}`);
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
  const from = visualColumn(lineText, start.column);
  // A span running past its first line is underlined to the end of that line.
  const to = end.line === start.line ? visualColumn(lineText, end.column) : expandTabs(lineText).length;
  const width = Math.max(1, to - from);
  return [
    `${pad} ${c('blue', '|')}`,
    `${c('blue', `${String(start.line).padStart(gutter)} |`)} ${expandTabs(lineText)}`,
    `${pad} ${c('blue', '|')} ${' '.repeat(from)}${c(mark === '^' ? 'red' : 'blue', mark.repeat(width))}`,
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
