/**
 * Credentials a URL can carry — the userinfo and token-like query parameters (presigned S3/GCS
 * URLs, Azure SAS, `?access_token=`) — are secrets like an Authorization header: the task's
 * events, logs and API answers carry the URL with them masked. Here, in core/, because the
 * decider stores the redacted URL in TaskCreated; edge/log/redact.ts builds on it for logs.
 *
 * Masking is by name and errs on the side of hiding: `key` also hides `monkey=1`, which costs a
 * log line some detail and never a secret.
 */
export const REDACTED = '[redacted]';

const SECRET_NAME = /auth|cookie|token|secret|key|session|signature|password|passwd|credential|jwt|bearer|^sig$|^pwd$|^code$/i;

/** Whether a header or query parameter of this name could carry a credential. */
export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * The URL with its userinfo replaced by `[redacted]` and the value of every token-like query
 * parameter by `[redacted]`. The rest of the query is kept byte for byte (as normaliseUrl keeps
 * it), so the same URL always redacts to the same text: replay and the state hash stay
 * deterministic. Idempotent. A URL that does not parse is replaced whole.
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return REDACTED; // not parseable: say nothing rather than leak it
  }
  if (u.username || u.password) {
    u.username = REDACTED;
    u.password = '';
  }
  const query = u.search.slice(1);
  if (query !== '') {
    u.search = query
      .split('&')
      .map((pair) => (looksSecret(paramName(pair)) ? `${pair.split('=', 1)[0]}=${REDACTED}` : pair))
      .join('&');
  }
  return u.toString();
}

/**
 * Whether the URL names credentials (userinfo or a token-like query parameter), whether their
 * values are still there or already redacted: a task whose stored URL says so can only be
 * fetched with the real URL, which only the registering peers and this replica's memory hold.
 */
export function urlCarriesCredentials(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.username !== '' || u.password !== '' || u.search.slice(1).split('&').some((pair) => pair !== '' && looksSecret(paramName(pair)));
}

/** The secret values a URL carries (the userinfo and token-like query values), decoded. */
export function urlSecrets(url: string): string[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (u.username || u.password) {
    const user = decode(u.username);
    const password = decode(u.password);
    out.push(`${user}:${password}`, user, password, `${u.username}:${u.password}`, u.username, u.password);
  }
  for (const pair of u.search.slice(1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || !looksSecret(paramName(pair))) continue;
    const raw = pair.slice(eq + 1);
    out.push(raw, decode(raw.replace(/\+/g, ' ')));
  }
  return out.filter((s) => s !== '');
}

function paramName(pair: string): string {
  const eq = pair.indexOf('=');
  return decode((eq < 0 ? pair : pair.slice(0, eq)).replace(/\+/g, ' '));
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // A malformed %-escape: the raw text is what there is to compare or to mask.
    return s;
  }
}
