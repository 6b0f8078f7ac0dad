import { usageError } from '../../core/errors.ts';

/**
 * Durations as the CLI takes them (--linger): "500ms", "30s", "2m", "1h", or combinations
 * such as "1m30s" (Go's time.ParseDuration style, as Dragonfly users write them); a plain
 * number is milliseconds. Returns milliseconds; anything else throws a one-line error.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const parts = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(t) ? t.match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) : null;
  if (!parts) throw usageError(`invalid duration "${text}" (expected e.g. 500ms, 30s, 2m, 1h or milliseconds)`);
  let ms = 0;
  for (const part of parts) {
    const [, value, unit] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part)!;
    ms += Number(value) * UNIT_MS[unit!]!;
  }
  if (!Number.isSafeInteger(Math.round(ms))) throw usageError(`duration "${text}" is too long`);
  return Math.round(ms);
}
