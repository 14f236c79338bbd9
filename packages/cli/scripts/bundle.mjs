// Bundles the `kapspec` executable into packages/cli/bundle/: one file for
// start-up (commander and the program), with every command's heavy imports
// (the language front end with chevrotain, the compiler, later the simulator
// and the terminal UI) split into chunks loaded only when that command runs.
// Loading chevrotain's many small ESM modules one by one cost most of a
// second; a bundle loads in a fraction of that (see `pnpm bench startup`).
import { chmodSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cli = fileURLToPath(new URL('../', import.meta.url));

// Chunk names carry content hashes: start from an empty folder so old chunks do not pile up.
rmSync(`${cli}bundle`, { recursive: true, force: true });

await build({
  absWorkingDir: cli,
  // `kapspec stats --workers K` starts bundle/stats-worker.js (the simulator's worker entry; stats.ts
  // locates it next to the chunk that holds it: `new URL('./stats-worker.js', import.meta.url)`);
  // `kapspec test` on a terminal starts bundle/test-worker.js the same way (search-worker.ts).
  entryPoints: { kapspec: 'src/bin.ts', 'stats-worker': '@kapspec/simulator/stats-worker', 'test-worker': '@kapspec/simulator/test-worker' },
  outdir: 'bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Bundle the workspace packages from their TypeScript sources.
  conditions: ['@kapspec/source'],
  minifySyntax: true,
  // ink imports React's devtools only when asked to; it is not installed.
  external: ['react-devtools-core'],
  // React's production build: smaller and faster to load than the development one.
  define: { 'process.env.NODE_ENV': '"production"' },
  sourcemap: 'linked',
  // CommonJS dependencies (commander) call require() for node built-ins.
  banner: { js: "import { createRequire as __kapspecRequire } from 'node:module';\nconst require = __kapspecRequire(import.meta.url);" },
  logLevel: 'warning',
});
chmodSync(`${cli}bundle/kapspec.js`, 0o755);
