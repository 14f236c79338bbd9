/**
 * Pinned fast-check seeds (the pattern of packages/language/test/seed.ts):
 * every property run uses `FC_SEED` when it is set and otherwise the seed
 * pinned here, and prints the seed it used.
 */
export const PINNED_SEED = 20261127;

export function propertySeed(name: string): number {
  const fromEnv = process.env['FC_SEED'];
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : PINNED_SEED;
  console.log(`[fast-check] ${name}: seed ${seed} (set FC_SEED to change)`);
  return seed;
}
