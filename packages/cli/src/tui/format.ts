/** Small text helpers shared by the views. */

/** `t+35 min`, `t+2.5 min` */
export function showT(t: number): string {
  return `t+${showNumber(t)} min`;
}

export function showNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const r = Math.round(v * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

export function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

export function padLeft(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

/** Cuts `s` to `n` characters (with an ellipsis when cut). */
export function clip(s: string, n: number): string {
  if (n <= 0) return '';
  return s.length <= n ? s : n === 1 ? '…' : `${s.slice(0, n - 1)}…`;
}

/** A bar of `width` cells, `done/total` of them filled. */
export function bar(done: number, total: number, width: number): string {
  const f = total > 0 ? Math.max(0, Math.min(1, done / total)) : 0;
  const full = Math.floor(f * width);
  return '█'.repeat(full) + '░'.repeat(Math.max(0, width - full));
}
