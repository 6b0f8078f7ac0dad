/**
 * Origin headers (Authorization, cookies, signed tokens) are sent to the origin and nowhere
 * else. Code never logs them on purpose; this is the second line: any text that leaves the
 * origin client (an error detail, an excerpt of an origin's error body, which some servers
 * echo the request into) has every header value, and the credential part of
 * "Scheme credential" values, replaced before it is thrown or logged.
 */
const REDACTED = '[redacted]';
/** Shorter values ("1", "no") are not secrets, and masking them would garble every message. */
const MIN_SECRET_LENGTH = 4;

export function secretsOf(headers: Record<string, string>): string[] {
  const secrets = new Set<string>();
  for (const value of Object.values(headers)) {
    const v = value.trim();
    if (v.length >= MIN_SECRET_LENGTH) secrets.add(v);
    const credential = v.split(/\s+/).slice(1).join(' ');
    if (credential.length >= MIN_SECRET_LENGTH) secrets.add(credential);
  }
  // Longest first, so that a value is masked whole before its credential part is searched.
  return [...secrets].sort((a, b) => b.length - a.length);
}

export function maskSecrets(text: string, headers: Record<string, string>): string {
  let out = text;
  for (const secret of secretsOf(headers)) out = out.split(secret).join(REDACTED);
  return out;
}

/** What may be said about a header set: its names, never its values. */
export function headerNames(headers: Record<string, string>): string[] {
  return Object.keys(headers).map((k) => k.toLowerCase());
}
