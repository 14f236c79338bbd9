/** Unicode sparklines: one block character per sample, ' ' where there is no value. */

export const BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** The scale of a sparkline: the values' range, widened to include the given marks (thresholds). */
export function scaleOf(values: readonly (number | undefined)[], marks: readonly number[] = []): { lo: number; hi: number } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v === undefined || !Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (const m of marks) {
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  if (!Number.isFinite(lo)) return { lo: 0, hi: 1 };
  return { lo, hi };
}

/** The block for `v` on the scale `lo..hi` (the lowest block when the scale is flat). */
export function block(v: number, lo: number, hi: number): string {
  if (!(hi > lo)) return BLOCKS[0];
  const x = (v - lo) / (hi - lo);
  const i = Math.max(0, Math.min(BLOCKS.length - 1, Math.round(x * (BLOCKS.length - 1))));
  return BLOCKS[i]!;
}

export function sparkline(values: readonly (number | undefined)[], scale: { lo: number; hi: number } = scaleOf(values)): string {
  let s = '';
  for (const v of values) s += v === undefined || !Number.isFinite(v) ? ' ' : block(v, scale.lo, scale.hi);
  return s;
}

/** Splits a line of cells into runs of the same key (for colouring runs of a sparkline). */
export function runs<K>(cells: readonly string[], keys: readonly K[]): { text: string; key: K }[] {
  const out: { text: string; key: K }[] = [];
  cells.forEach((c, i) => {
    const k = keys[i]!;
    const last = out[out.length - 1];
    if (last && last.key === k) last.text += c;
    else out.push({ text: c, key: k });
  });
  return out;
}
