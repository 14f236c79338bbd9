// `pnpm bench`: every benchmark, on the built packages (plain node, never
// inside vitest: it would load development builds). Each prints ratios to a
// baseline measured in the same process; absolute numbers vary by machine.
import { benchLanguage } from './language.mjs';
import { printTable } from './measure.mjs';
import { benchRuntime } from './runtime.mjs';
import { benchSimulator } from './simulator.mjs';
import { benchStartup } from './startup.mjs';

const only = process.argv[2];
const benches = { language: benchLanguage, runtime: benchRuntime, startup: benchStartup, simulator: benchSimulator };
console.log(`kapspec benchmarks (node ${process.version})`);
for (const [name, bench] of Object.entries(benches)) {
  if (only && only !== name) continue;
  // A bench returns a table or a list of tables, possibly asynchronously.
  for (const table of [await bench()].flat()) printTable(table);
}
