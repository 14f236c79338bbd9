/** "Did you mean …?" suggestions by edit distance. */

/** Optimal-string-alignment distance (Levenshtein plus adjacent swaps). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  if (m === 0) return n;
  if (n === 0) return m;
  let prev2: number[] = new Array<number>(n + 1).fill(0);
  let prev: number[] = Array.from({ length: n + 1 }, (_, j) => j);
  let cur: number[] = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, (prev2[j - 2] as number) + 1);
      }
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n] as number;
}

/** Candidates considered per suggestion; keeps huge files linear. */
export const MAX_SUGGESTION_CANDIDATES = 2000;

/** Length of the longest common subsequence, case-sensitive: how much of the written word a candidate keeps. */
function kept(a: string, b: string): number {
  let prev = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    const cur = new Array<number>(b.length + 1).fill(0);
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? (prev[j - 1] as number) + 1 : Math.max(prev[j] as number, cur[j - 1] as number);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * The closest candidate within a distance that scales with the word's length
 * (1 for short words, up to 3), or undefined when nothing is close. Between
 * candidates equally close, the one keeping more of the word's letters as
 * written wins (`mHg` is `mmHg`, not `mcg`), then the first in code-point order.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  let bestKept = -1;
  let seen = 0;
  for (const c of candidates) {
    if (++seen > MAX_SUGGESTION_CANDIDATES) break;
    if (c === word) continue;
    if (Math.abs(c.length - word.length) > limit) continue;
    const d = c.toLowerCase() === lower ? 0.5 : editDistance(lower, c.toLowerCase());
    if (d > limit || d > bestDistance) continue;
    const k = kept(word, c);
    if (d < bestDistance || k > bestKept || (k === bestKept && c < (best as string))) {
      best = c;
      bestDistance = d;
      bestKept = k;
    }
  }
  return best;
}
