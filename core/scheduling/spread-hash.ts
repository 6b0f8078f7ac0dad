/**
 * Cheap deterministic hashing used to break ties in the scheduler. core/ may not use
 * Math.random(), yet peers that ask at the same time must not all pick the same piece or the
 * same source: hashing (requester, piece) gives each requester its own fixed, well-mixed order.
 */

/** 32-bit FNV-1a of a string (UTF-16 code units; ids are ASCII in practice). */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * MurmurHash3's finaliser: a bijection on 32-bit integers that spreads every input bit. FNV-1a
 * alone mixes the last bytes poorly, so `mix32(seed ^ piece)` is what orders pieces.
 */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
