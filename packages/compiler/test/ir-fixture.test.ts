/**
 * The IR file the runtime's embedding test loads
 * (packages/runtime/test/fixtures/individual-iv.ir.json) is the compiled
 * examples/individual-iv.kap. This fails when the committed file is stale;
 * `pnpm fixtures:update` (vitest -u) rewrites it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadIR } from '@kapspec/runtime';
import { expect, it } from 'vitest';
import { compile } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

it('packages/runtime/test/fixtures/individual-iv.ir.json is examples/individual-iv.kap compiled', async () => {
  const file = 'examples/individual-iv.kap';
  const { ir, diagnostics } = compile(readFileSync(join(root, file), 'utf8'), { file });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const text = `${JSON.stringify(ir, null, 2)}\n`;
  expect(loadIR(text)).toEqual(ir);
  await expect(text).toMatchFileSnapshot(join(root, 'packages/runtime/test/fixtures/individual-iv.ir.json'));
});
