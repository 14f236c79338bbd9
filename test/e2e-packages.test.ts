/**
 * After install, every package is importable from plain Node by its name:
 * built JavaScript (the `default` export condition) plus type declarations.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/cli.js';

const packages = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));

describe('packages are importable from plain node', () => {
  it.each(packages)('@kapspec/%s', (dir) => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as {
      name: string;
      types: string;
    };
    expect(existsSync(join(ROOT, 'packages', dir, manifest.types)), `${manifest.name}: ${manifest.types}`).toBe(true);
    // From inside the CLI package, which depends on every other package (and can name itself).
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(manifest.name)}); console.log(Object.keys(m).length);`],
      { cwd: join(ROOT, 'packages', 'cli'), encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(0);
  }, 60_000);
});
