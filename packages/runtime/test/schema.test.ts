import { expect, it } from 'vitest';
import { irSchema } from '../src/schema.js';

it('ir.schema.json is the published schema (refresh: pnpm fixtures:update)', async () => {
  await expect(`${JSON.stringify(irSchema, null, 2)}\n`).toMatchFileSnapshot('../ir.schema.json');
});

it('every $ref resolves', () => {
  const defs = new Set(Object.keys(irSchema.$defs));
  const refs = [...JSON.stringify(irSchema).matchAll(/"\$ref":"#\/\$defs\/(\w+)"/g)].map((m) => m[1]!);
  expect(refs.length).toBeGreaterThan(20);
  expect(refs.filter((r) => !defs.has(r))).toEqual([]);
});
