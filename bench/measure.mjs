// Median wall time of `fn` in milliseconds, after warm-up. Ratios between
// results measured in the same process are what the benchmarks report.
export function measure(fn, { warmup = 2, runs = 7 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function printTable({ title, rows, header = ['', 'throughput', 'ratio to baseline'] }) {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  for (const r of all) console.log('  ' + r.map((c, i) => String(c).padEnd(widths[i])).join('   '));
}
