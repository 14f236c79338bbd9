// Start-up: `kapspec check` on an example, as a user runs it (a new node
// process), next to bare `node -e 0` (the baseline), as a ratio. The target
// is within 3× of the baseline.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const bin = `${root}packages/cli/bundle/kapspec.js`;

function median(args, runs = 11) {
  const times = [];
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
    if (i > 0) times.push(performance.now() - t0); // first run warms the disk cache
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function benchStartup() {
  const baseline = median(['-e', '0']);
  const version = median([bin, '--version']);
  const check = median([bin, 'check', 'examples/individual-iv.kap']);
  const ms = (t) => `${t.toFixed(0)} ms`;
  return {
    title: 'Start-up: a new process per command (median of 11)',
    header: ['', 'wall time', 'ratio to node -e 0'],
    rows: [
      ['node -e 0 (baseline)', ms(baseline), '1.00'],
      ['kapspec --version', ms(version), (version / baseline).toFixed(2)],
      ['kapspec check examples/individual-iv.kap', ms(check), (check / baseline).toFixed(2)],
    ],
  };
}
