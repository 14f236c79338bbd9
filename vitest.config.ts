import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against each package's TypeScript source, not its dist: every
// @kapspec/* package exports a "@kapspec/source" condition pointing at
// src/index.ts (see TOOLCHAIN.md gotcha 4). Node tests run in Vite's SSR
// environment, so the condition goes in ssr.resolve.conditions; it is set in
// resolve.conditions too (client environment: ink/jsdom style tests).
// The rest of each list is Vite's default (vite's defaultServerConditions /
// defaultClientConditions; vite is not a direct dependency, so it is spelled
// out here).
const source = '@kapspec/source';
const serverConditions = [source, 'module', 'node', 'development|production'];
const clientConditions = [source, 'module', 'browser', 'development|production'];

const dir = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: { conditions: clientConditions },
  ssr: { resolve: { conditions: serverConditions } },
  test: {
    // Glob projects would not inherit the options above: inline projects with
    // `extends: true` and an absolute root (TOOLCHAIN.md gotcha 3).
    projects: [
      {
        extends: true,
        root: dir('./packages/language/'),
        test: { name: 'language', include: ['test/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true,
        root: dir('./packages/runtime/'),
        test: { name: 'runtime', include: ['test/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true,
        root: dir('./packages/compiler/'),
        test: { name: 'compiler', include: ['test/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true,
        root: dir('./packages/simulator/'),
        test: { name: 'simulator', include: ['test/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true,
        root: dir('./packages/cli/'),
        test: { name: 'cli', include: ['test/**/*.test.{ts,tsx}'] },
      },
      {
        extends: true,
        root: dir('./'),
        test: { name: 'e2e', include: ['test/**/*.test.ts'] },
      },
    ],
  },
});
