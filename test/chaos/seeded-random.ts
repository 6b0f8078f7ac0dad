/**
 * A reproducible random source for the chaos scenarios: mulberry32 over a 32-bit seed. The seed
 * comes from DAMSELFLY_CHAOS_SEED when set (to replay a failure), else from the clock; the
 * scenario prints it first thing, so every failing run names the seed that replays it.
 */
export interface SeededRandom {
  seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
}

export function seededRandom(name: string): SeededRandom {
  const given = process.env.DAMSELFLY_CHAOS_SEED;
  const seed = given ? Number(given) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
  console.log(`[chaos ${name}] seed ${seed} (replay with DAMSELFLY_CHAOS_SEED=${seed})`);
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { seed, next, between: (min, max) => min + (max - min) * next() };
}
