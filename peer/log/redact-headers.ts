/**
 * Origin headers (registry tokens, cookies, signed URLs' credentials) reach the origin and
 * nothing else: a log line may say which headers were sent, with the values of anything that
 * could be a credential masked. Masking is by name and errs on the side of hiding: a header
 * the list does not know is shown only if its name looks harmless.
 */
const SECRET_NAME = /auth|cookie|token|secret|key|session|signature|password|passwd|credential|jwt|bearer/i;
export const REDACTED = '[redacted]';

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = SECRET_NAME.test(name) ? REDACTED : value;
  return out;
}

/** A URL fit for a log line: credentials in the userinfo and token-like query values masked. */
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
  for (const name of [...u.searchParams.keys()]) if (SECRET_NAME.test(name)) u.searchParams.set(name, REDACTED);
  return u.toString();
}
