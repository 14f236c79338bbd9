/**
 * The protocol's thresholds on a measure, read from the IR: every comparison
 * of a measure (or `observed` measure) with a number in a rule's `when`
 * (`sbp > 180`, `spo2 < 90 for 1 min`, `180 < sbp`). The sparklines are drawn
 * against them and a reading beyond one is coloured.
 */
import type { CompareOp, Expr, Session } from '@kapspec/runtime';

export interface Threshold {
  readonly measure: string;
  /** Normalised so the measure is on the left: `sbp > 180`. */
  readonly op: '<' | '<=' | '>' | '>=';
  readonly value: number;
  /** The rules whose condition compares with it, in declaration order. */
  readonly rules: readonly string[];
}

const FLIP: Record<'<' | '<=' | '>' | '>=', '<' | '<=' | '>' | '>='> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function measureOf(e: Expr): string | undefined {
  if (e.kind === 'measure') return e.name;
  if (e.kind === 'observed') return e.measure;
  return undefined;
}

function collect(e: Expr | undefined, rule: string, out: Map<string, Map<string, { op: Threshold['op']; value: number; rules: string[] }>>): void {
  if (!e) return;
  switch (e.kind) {
    case 'binary': {
      const op = e.op as CompareOp;
      if (op === '<' || op === '<=' || op === '>' || op === '>=') {
        let m = measureOf(e.left);
        let n = e.right.kind === 'number' ? e.right.value : undefined;
        let o: Threshold['op'] = op;
        if (m === undefined || n === undefined) {
          m = measureOf(e.right);
          n = e.left.kind === 'number' ? e.left.value : undefined;
          o = FLIP[op];
        }
        if (m !== undefined && n !== undefined) {
          let byKey = out.get(m);
          if (!byKey) out.set(m, (byKey = new Map()));
          const key = `${o}${n}`;
          const found = byKey.get(key);
          if (found) {
            if (!found.rules.includes(rule)) found.rules.push(rule);
          } else byKey.set(key, { op: o, value: n, rules: [rule] });
          return;
        }
      }
      collect(e.left, rule, out);
      collect(e.right, rule, out);
      return;
    }
    case 'not':
    case 'neg':
      collect(e.operand, rule, out);
      return;
    case 'for':
    case 'during':
      collect(e.expr, rule, out);
      return;
    case 'call':
      for (const a of e.args) collect(a, rule, out);
      return;
    default:
      return;
  }
}

/** Thresholds by measure, each list sorted by value. */
export function ruleThresholds(session: Session): Map<string, Threshold[]> {
  const out = new Map<string, Map<string, { op: Threshold['op']; value: number; rules: string[] }>>();
  for (const r of session.rules) collect(r.when, r.id, out);
  const result = new Map<string, Threshold[]>();
  for (const [m, byKey] of out) {
    result.set(
      m,
      [...byKey.values()].sort((a, b) => a.value - b.value).map((x) => ({ measure: m, op: x.op, value: x.value, rules: x.rules })),
    );
  }
  return result;
}

/** Whether `value` is beyond the threshold (the rule's comparison holds). */
export function crosses(th: Threshold, value: number): boolean {
  switch (th.op) {
    case '>':
      return value > th.value;
    case '>=':
      return value >= th.value;
    case '<':
      return value < th.value;
    case '<=':
      return value <= th.value;
  }
}

/**
 * How alarming a value is against a measure's thresholds: 0 none crossed, 1
 * some crossed (but not the most extreme one in that direction), 2 the most
 * extreme crossed (or the only one).
 */
export function severity(ths: readonly Threshold[], value: number | undefined): 0 | 1 | 2 {
  if (value === undefined || ths.length === 0) return 0;
  const crossed = ths.filter((t) => crosses(t, value));
  if (crossed.length === 0) return 0;
  const up = ths.filter((t) => t.op === '>' || t.op === '>=');
  const down = ths.filter((t) => t.op === '<' || t.op === '<=');
  const maxUp = up.length ? Math.max(...up.map((t) => t.value)) : undefined;
  const minDown = down.length ? Math.min(...down.map((t) => t.value)) : undefined;
  if (crossed.some((t) => (t.op === '>' || t.op === '>=' ? t.value === maxUp : t.value === minDown))) return 2;
  return 1;
}

/** `>160 >180 >200` */
export function showThresholds(ths: readonly Threshold[]): string {
  return ths.map((t) => `${t.op}${fmt(t.value)}`).join(' ');
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
}
