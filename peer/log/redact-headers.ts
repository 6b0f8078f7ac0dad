/**
 * What a peer may log about origin credentials: the one implementation both sides use
 * (edge/log/redact.ts) — header values masked by name, URLs without userinfo or query tokens.
 */
export { REDACTED, redactHeaders, redactUrl } from '../../edge/log/redact.ts';
