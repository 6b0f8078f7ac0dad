import { looksSecret, REDACTED } from '../../core/ids/redact-url.ts';

/**
 * What may be said about origin credentials in a log line or an answer, on either side (dfget,
 * the supernode, the daemon): which headers were sent, with the value of anything that could be
 * a credential masked, and URLs with their userinfo and token-like query values masked
 * (core/ids/redact-url.ts, which the task's events use too). Masking is by name; masking by
 * value, for text an origin sends back, is edge/log/secret-mask.ts.
 */
export { looksSecret, REDACTED, redactUrl } from '../../core/ids/redact-url.ts';

export function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name] = looksSecret(name) ? REDACTED : value;
  return out;
}

