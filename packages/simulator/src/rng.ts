/**
 * A deterministic pseudo-random source implementing `Rng` (model.ts), and the
 * distributions models draw from.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
 * 128-bit state, passes PractRand), seeded through splitmix32 from a 64-bit
 * key. Only 32-bit integer arithmetic (`|0`, `>>>`, `Math.imul`), so the
 * stream is bit-identical on every machine. The distributions use
 * `Math.log`, `Math.sqrt` and `Math.cos`; V8 implements `log` and `cos` with
 * its own port of fdlibm (not the platform's libm), so they are identical
 * across machines running the same Node major version.
 *
 * Streams: an `Rng` is identified by a 64-bit key (two 32-bit words). The
 * root key comes from the 32-bit seed; `fork(label)` derives a child key from
 * the parent's *key* and a stable hash of `label` — not from the parent's
 * current position — so a fork gives the same stream however many numbers
 * were drawn from the parent before, and adding a draw in one part of a model
 * never shifts the numbers of another part that uses its own fork.
 */
import type { Rng } from './model.js';

/** splitmix32 finaliser: a bijective 32-bit mix. */
function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/**
 * A stable 32-bit hash of a string (FNV-1a over UTF-16 code units, then
 * mixed), with a `salt` so two independent hashes of one label can be taken.
 */
export function hashString(s: string, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h ^ s.length);
}

// The two hashes of a fork label. Models fork the same few labels in every session
// (`measure:p1`, `adverse`, …): hashed once each, up to a bound.
// (A label used once, like a run's index, never goes in: `runSeed` hashes its own. A big map is a
// slow map, and every fork of every session looks its label up.)
const LABEL_CACHE_LIMIT = 4096;
const labelCache = new Map<string, readonly [number, number]>();
const SALT_HI = 0x5bd1e995;
const SALT_LO = 0x27d4eb2f;
function labelHashes(label: string): readonly [number, number] {
  let h = labelCache.get(label);
  if (h === undefined) {
    h = [hashString(label, SALT_HI), hashString(label, SALT_LO)];
    if (labelCache.size < LABEL_CACHE_LIMIT) labelCache.set(label, h);
  }
  return h;
}

// `${prefix}:${name}` labels, built once each: a label built afresh in every session is a new
// string that every lookup must hash again.
const labels = new Map<string, Map<string | number, string>>();
/** The fork label `${prefix}:${name}`, the same string object every time (bounded like the hashes). */
export function forkLabel(prefix: string, name: string | number): string {
  let byName = labels.get(prefix);
  if (byName === undefined) labels.set(prefix, (byName = new Map()));
  let label = byName.get(name);
  if (label === undefined) {
    label = `${prefix}:${name}`;
    if (byName.size < LABEL_CACHE_LIMIT) byName.set(name, label);
  }
  return label;
}

class Sfc32 implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(
    private readonly hi: number,
    private readonly lo: number,
  ) {
    // splitmix32 sequence from the key fills the 128-bit state.
    // (Written out: a closure here would be allocated for every fork.)
    const s = (hi ^ Math.imul(lo, 0x85ebca6b)) | 0;
    let a = mix32(((s + 0x9e3779b9) | 0) ^ lo);
    let b = mix32(((s + 2 * 0x9e3779b9) | 0) ^ lo);
    let c = mix32(((s + 3 * 0x9e3779b9) | 0) ^ lo);
    let d = 1;
    // Twelve steps of `u32` discarded, on locals (a fork is made for every stream of every session).
    for (let i = 0; i < 12; i++) {
      const t = (((a + b) | 0) + d) | 0;
      d = (d + 1) | 0;
      a = b ^ (b >>> 9);
      b = (c + (c << 3)) | 0;
      c = (c << 21) | (c >>> 11);
      c = (c + t) | 0;
    }
    this.a = a;
    this.b = b;
    this.c = c;
    this.d = d;
  }

  private u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  next(): number {
    return this.u32() / 4294967296;
  }

  fork(label: string): Rng {
    const [h1, h2] = labelHashes(label);
    return this.forkHashed(h1, h2);
  }

  /** `fork` of a label with these two hashes. */
  forkHashed(h1: number, h2: number): Sfc32 {
    return new Sfc32(mix32(this.hi ^ h1) ^ Math.imul(this.lo, 0x9e3779b1), mix32(this.lo ^ h2 ^ mix32(this.hi)));
  }
}

/**
 * The root stream of a simulation. `seed` is taken as a 32-bit unsigned
 * integer (`seed >>> 0`); seeds that differ only above bit 31 or in a
 * fraction give the same stream.
 */
export function createRng(seed: number): Rng {
  return rootOf(seed);
}

function rootOf(seed: number): Sfc32 {
  const s = seed >>> 0;
  return new Sfc32(mix32(s), mix32(s ^ 0x6a09e667));
}

/**
 * The seed of run (or Monte Carlo session) `i` under root `seed`: the first
 * number of the root stream's fork `run:<i>`, as a 32-bit integer. `kapspec
 * test` and `stats` give run i this seed, so `kapspec simulate --seed` of it
 * replays that run. (A label used once: hashed here, not cached.)
 */
export function runSeed(seed: number, i: number): number {
  const label = `run:${i}`;
  const child = rootOf(seed).forkHashed(hashString(label, SALT_HI), hashString(label, SALT_LO));
  return Math.floor(child.next() * 4294967296) >>> 0;
}

/** Uniform in [a, b). */
export function uniform(rng: Rng, a: number, b: number): number {
  return a + (b - a) * rng.next();
}

/** True with probability `p` (p <= 0: never; p >= 1: always). */
export function bernoulli(rng: Rng, p: number): boolean {
  return rng.next() < p;
}

/**
 * Normal(mean, sd) by Box–Muller. Draws two uniforms per call and uses one
 * of the pair: no cached second value, so the stream position depends only on
 * the number of calls.
 */
export function normal(rng: Rng, mean: number, sd: number): number {
  const a = rng.next();
  return normalOf(a, rng.next(), mean, sd);
}

/** `normal` from its two uniforms in [0, 1), as drawn: `normal(rng, mean, sd)` is exactly `normalOf(rng.next(), rng.next(), mean, sd)`. */
export function normalOf(a: number, b: number, mean: number, sd: number): number {
  const u1 = 1 - a; // (0, 1]: log is finite
  return mean + sd * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * b);
}

/**
 * A first uniform `a` at most this keeps `normalOf(a, b, 0, sd)` within
 * [-r, r] whatever `b`: there |noise| <= sd·√(−2 ln(1 − a)) <= r, so
 * 1 − a must be at least exp(−(r/sd)²/2). Worked out with margins far above
 * the rounding of the few floating-point operations involved: r shrunk by a
 * relative 1e-6, and that least 1 − a raised by 4e-16 (1 − a and 1 − the
 * result are each rounded by up to 1.1e-16, which matters once exp(…) is
 * tiny). -1 (no uniform) when r is under 1e-3 sd, where the relative margin
 * would drown in cancellation.
 */
export function normalFirstAtMost(r: number, sd: number): number {
  if (!(sd > 0) || !(r >= 1e-3 * sd)) return -1;
  const k = (r * (1 - 1e-6)) / sd;
  const most = 1 - (Math.exp(-0.5 * k * k) + 4e-16);
  return most > 0 ? most : -1;
}

/** Exponential with `rate` (events per unit time): mean 1 / rate. */
export function exponential(rng: Rng, rate: number): number {
  return -Math.log(1 - rng.next()) / rate;
}
