/**
 * The view of `kapspec test` on a terminal: progress per property (runs done
 * of the total, status), then for every failed property its counterexample:
 * the offending `.kap` lines (the property's, and the rules that acted in the
 * window that shows the failure), then the clinical vignette.
 */
import type { ReactNode } from 'react';
import { Box, Text } from 'ink';
import type { SourceSpan } from '@kapspec/runtime';
import { bar, clip, pad, padLeft } from './format.js';

export type PropertyRunStatus = 'pending' | 'running' | 'passed' | 'failed' | 'inconclusive';

export interface PropertyProgress {
  readonly name: string;
  readonly kind?: 'assert' | 'builtin';
  /** The property text (asserts) or a one-line description (built-ins). */
  readonly text?: string;
  /** Runs that checked it so far, of `total`. */
  readonly runs: number;
  readonly total: number;
  readonly failures?: number;
  readonly inconclusive?: number;
  readonly status: PropertyRunStatus;
}

export interface TestFailure {
  readonly name: string;
  /** The property's `.kap` line (or the line a built-in checks). */
  readonly span?: SourceSpan;
  /** Other lines worth showing: the rules that acted inside the witness window. */
  readonly related?: readonly { readonly span: SourceSpan; readonly label: string }[];
  /** The clinical vignette (plain text, as `renderVignette` gives it). */
  readonly vignette: string;
  /** `kapspec replay …` for the counterexample. */
  readonly replay?: string;
}

const STATUS: Record<PropertyRunStatus, { mark: string; color: string | undefined }> = {
  pending: { mark: '·', color: undefined },
  running: { mark: '…', color: 'cyan' },
  passed: { mark: '✓', color: 'green' },
  failed: { mark: '✗', color: 'red' },
  inconclusive: { mark: '?', color: 'yellow' },
};

export function PropertyProgressRow({ p, nameWidth, barWidth }: { p: PropertyProgress; nameWidth: number; barWidth: number }) {
  const st = STATUS[p.status];
  const counts = [p.failures ? `${p.failures} failed` : '', p.inconclusive ? `${p.inconclusive} inconclusive` : ''].filter(Boolean).join(', ');
  return (
    <Text wrap="truncate">
      <Text color={st.color} bold>{`  ${st.mark} `}</Text>
      <Text bold={p.status === 'failed'}>{pad(p.name, nameWidth)}</Text>
      <Text>{'  '}</Text>
      <Text color={st.color}>{bar(p.runs, p.total, barWidth)}</Text>
      <Text>{` ${padLeft(String(p.runs), String(p.total).length)}/${p.total}  `}</Text>
      <Text color={st.color}>{pad(p.status.toUpperCase(), 12)}</Text>
      {counts ? <Text dimColor>{`${counts}  `}</Text> : null}
      {p.text ? <Text dimColor>{p.text}</Text> : null}
    </Text>
  );
}

/** Source lines with a gutter: marked lines in red with `>`, the first span's columns underlined with `^`. */
export function KapExcerpt({ source, file, spans, context = 1 }: { source: string; file?: string | undefined; spans: readonly { span: SourceSpan; label?: string }[]; context?: number }) {
  const lines = source.split(/\r?\n/);
  const marked = new Map<number, string | undefined>();
  for (const s of spans) if (!marked.has(s.span.line)) marked.set(s.span.line, s.label);
  const show = new Set<number>();
  for (const l of marked.keys()) for (let k = l - context; k <= l + context; k++) if (k >= 1 && k <= lines.length) show.add(k);
  const order = [...show].sort((a, b) => a - b);
  const gutter = String(order[order.length - 1] ?? 1).length;
  const primary = spans[0]?.span;
  const out: { key: string; node: ReactNode }[] = [];
  let prev = 0;
  for (const l of order) {
    if (prev && l > prev + 1) out.push({ key: `gap${l}`, node: <Text dimColor>{`  ${' '.repeat(gutter)} ⋮`}</Text> });
    prev = l;
    const text = (lines[l - 1] ?? '').trimEnd();
    const isMarked = marked.has(l);
    const label = marked.get(l);
    out.push({
      key: `l${l}`,
      node: (
        <Text wrap="truncate">
          <Text color={isMarked ? 'red' : undefined} bold={isMarked}>{`${isMarked ? '>' : ' '} ${padLeft(String(l), gutter)} │ `}</Text>
          <Text color={isMarked ? 'red' : undefined} dimColor={!isMarked}>{text}</Text>
          {label ? <Text dimColor>{`   ← ${label}`}</Text> : null}
        </Text>
      ),
    });
    if (primary && l === primary.line) {
      const width = Math.max(1, Math.min(primary.end - primary.start, text.length - (primary.column - 1)));
      out.push({ key: `c${l}`, node: <Text color="red">{`  ${' '.repeat(gutter)} │ ${' '.repeat(Math.max(0, primary.column - 1))}${'^'.repeat(width)}`}</Text> });
    }
  }
  const where = primary ? `${file ?? primary.file ?? '<file>'}:${primary.line}:${primary.column}` : (file ?? '');
  return (
    <Box flexDirection="column">
      {where ? <Text dimColor>{`  --> ${where}`}</Text> : null}
      {out.map((o) => (
        <Box key={o.key}>{o.node}</Box>
      ))}
    </Box>
  );
}

export function FailureBlock({ failure, source, file }: { failure: TestFailure; source?: string | undefined; file?: string | undefined }) {
  const spans = [...(failure.span ? [{ span: failure.span, label: 'the property' }] : []), ...(failure.related ?? [])];
  return (
    <Box flexDirection="column" marginTop={1}>
      <Text color="red" bold>{`✗ ${failure.name}: counterexample`}</Text>
      {source !== undefined && spans.length ? <KapExcerpt source={source} file={file} spans={spans} /> : null}
      <Box flexDirection="column" marginTop={1}>
        {failure.vignette
          .replace(/\n+$/, '')
          .split('\n')
          .map((l, i) => (
            <Text key={i}>{l.length ? l : ' '}</Text>
          ))}
      </Box>
      {failure.replay ? <Text color="cyan">{`Replay: ${failure.replay}`}</Text> : null}
    </Box>
  );
}

export interface TestViewProps {
  readonly title?: string;
  readonly properties: readonly PropertyProgress[];
  /** Counterexamples, shown once given (after the progress). */
  readonly failures?: readonly TestFailure[];
  /** The `.kap` text and its path: the offending lines are quoted from it. */
  readonly source?: string;
  readonly file?: string;
  /** A closing line (e.g. `3 properties: 2 passed, 1 failed`). */
  readonly summary?: string;
  readonly columns?: number;
}

export function TestView({ title, properties, failures = [], source, file, summary, columns = 100 }: TestViewProps) {
  const nameWidth = Math.min(32, Math.max(8, ...properties.map((p) => p.name.length)));
  const barWidth = Math.max(10, Math.min(30, columns - nameWidth - 40));
  const done = properties.filter((p) => p.status !== 'pending' && p.status !== 'running').length;
  return (
    <Box flexDirection="column" width={columns}>
      <Text wrap="truncate">
        <Text bold>{title ?? 'kapspec test'}</Text>
        <Text dimColor>{`  ${done}/${properties.length} properties decided`}</Text>
      </Text>
      {properties.map((p) => (
        <PropertyProgressRow key={p.name} p={{ ...p, name: clip(p.name, nameWidth) }} nameWidth={nameWidth} barWidth={barWidth} />
      ))}
      {failures.map((f) => (
        <FailureBlock key={f.name} failure={f} source={source} file={file} />
      ))}
      {summary ? (
        <Box marginTop={1}>
          <Text bold>{summary}</Text>
        </Box>
      ) : null}
    </Box>
  );
}
