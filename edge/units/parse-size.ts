import { usageError } from '../../core/errors.ts';

/**
 * Sizes and rates with binary suffixes, as the CLI takes them: "64MiB", "2MiB" (a rate: bytes
 * per second), "512KiB", "1GiB"; K/M/G and KB/MB/GB are read as binary too (Dragonfly users
 * write "20M" for --totallimit, meaning MiB); a plain number is bytes. Anything else throws a
 * one-line error naming the input.
 */
const KiB = 1024;
const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: KiB, kb: KiB, kib: KiB,
  m: KiB ** 2, mb: KiB ** 2, mib: KiB ** 2,
  g: KiB ** 3, gb: KiB ** 3, gib: KiB ** 3,
  t: KiB ** 4, tb: KiB ** 4, tib: KiB ** 4,
};

export function parseSize(text: string | number): number {
  if (typeof text === 'number') {
    if (Number.isFinite(text) && text >= 0) return Math.floor(text);
    throw usageError(`invalid size ${text}`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw usageError(`invalid size "${text}" (expected e.g. 64MiB, 512KiB, 1GiB or a number of bytes)`);
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) throw usageError(`size "${text}" is too large`);
  return bytes;
}
