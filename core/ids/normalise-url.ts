import { DamselflyError } from '../errors.ts';

/**
 * The URL as it enters the task id: WHATWG-parsed (so the scheme and host are lowercased and a
 * default port is dropped), the fragment removed (it never reaches the origin), and the query
 * parameters named in `filter` removed (typically expiring signatures, so that the same object
 * fetched with two signed URLs is one task — Dragonfly's `--filter`).
 *
 * The remaining query is kept byte for byte and in its original order: re-encoding it (as
 * URLSearchParams would, e.g. %20 → +) could merge URLs the origin treats as different.
 */
export function normaliseUrl(url: string, filter: readonly string[] = []): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new DamselflyError('DF_ERR_VALIDATION', `not a URL: ${url.slice(0, 200)}`, { cause: e });
  }
  parsed.hash = '';
  const query = parsed.search.slice(1);
  parsed.search = '';
  const base = parsed.toString();
  if (query === '') return base;
  const drop = new Set(filter);
  const kept = query.split('&').filter((pair) => pair !== '' && !drop.has(paramName(pair)));
  return kept.length === 0 ? base : `${base}?${kept.join('&')}`;
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  const raw = eq < 0 ? pair : pair.slice(0, eq);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    // A malformed %-escape cannot be decoded; compare the raw name so it is still filterable.
    return raw;
  }
}
