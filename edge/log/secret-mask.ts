import { REDACTED, redactUrl, urlSecrets } from '../../core/ids/redact-url.ts';

/**
 * Origin credentials (header values, the task URL's userinfo and query tokens) are sent to the
 * origin and nowhere else. Code never logs them on purpose; this is the second line, by value:
 * text that leaves an origin client (an error detail, an excerpt of an origin's error body,
 * which some servers echo the request into) has every secret replaced before it is thrown,
 * stored or logged — in the encodings an echo commonly takes: as sent, JSON-escaped (`\/`,
 * `\"`, `\uXXXX`), percent-encoded (`%2F`, `+` for a space), mixed, and base64 (of the value,
 * and of `user:pass`, which is what a Basic header or a URL's userinfo becomes).
 *
 * Mask first, then cut: `excerpt` masks the whole text read and only then shortens it, reading
 * `margin` characters past the cut so that a secret straddling it is whole when masked.
 */
export interface SecretSource {
  headers?: Record<string, string>;
  /** The task URL as fetched: its userinfo and token-like query values are secrets too. */
  url?: string;
}

/** Shorter values ("1", "no") are not secrets, and masking them would garble every message. */
const MIN_SECRET_LENGTH = 4;

export class SecretMask {
  private readonly patterns: RegExp[];
  /** The longest text one secret can take in any encoding matched (chars). */
  readonly margin: number;

  constructor(source: SecretSource) {
    const forms = [...new Set(secretValues(source).flatMap(encodedForms))].filter((s) => s.length >= MIN_SECRET_LENGTH);
    // Longest first, so that a value is masked whole before its credential part is searched.
    forms.sort((a, b) => b.length - a.length);
    this.patterns = forms.map((s) => new RegExp(anyEncodingOf(s), 'g'));
    this.margin = forms.reduce((m, s) => Math.max(m, widestEncodingOf(s)), 0);
  }

  mask(text: string): string {
    let out = text.replace(URL_IN_TEXT, (u) => redactUrl(u));
    for (const p of this.patterns) out = out.replace(p, REDACTED);
    return out;
  }

  /**
   * At most `max` characters of `text`, masked, whitespace folded. `truncated`: `text` was cut
   * (more followed it), so its last `margin` characters may hold the start of a secret that
   * cannot be recognised: they are dropped after masking, before the cut to `max`.
   */
  excerpt(text: string, max: number, truncated: boolean): string {
    let masked = this.mask(text);
    if (truncated) masked = masked.slice(0, Math.max(0, masked.length - this.margin));
    return this.mask(masked.replace(/\s+/g, ' ')).trim().slice(0, max);
  }
}

export function maskSecrets(text: string, headers: Record<string, string>, url?: string): string {
  return new SecretMask({ headers, ...(url === undefined ? {} : { url }) }).mask(text);
}

/** URLs quoted in a message lose their credentials whoever wrote the message. */
const URL_IN_TEXT = /\bhttps?:\/\/[^\s"'<>\\]+/gi;

/** The secrets themselves: each header value, its credential part, a Basic header decoded, cookie values, the URL's. */
function secretValues({ headers = {}, url }: SecretSource): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const v = value.trim();
    out.push(v);
    const [scheme = '', ...rest] = v.split(/\s+/);
    const credential = rest.join(' ');
    out.push(credential);
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(credential, 'base64').toString('utf8');
      out.push(decoded, decoded.slice(decoded.indexOf(':') + 1));
    }
    if (/^cookie$/i.test(name)) for (const pair of v.split(';')) out.push(pair.trim(), pair.slice(pair.indexOf('=') + 1).trim());
  }
  if (url !== undefined) out.push(...urlSecrets(url));
  return out.filter((s) => s.length >= MIN_SECRET_LENGTH);
}

/** The secret, and its base64 forms (standard and URL-safe, without padding, which a longer text's encoding would not share). */
function encodedForms(secret: string): string[] {
  const b64 = Buffer.from(secret, 'utf8').toString('base64').replace(/=+$/, '');
  return [secret, b64, b64.replace(/\+/g, '-').replace(/\//g, '_')];
}

const UNRESERVED = /[A-Za-z0-9\-._~]/;
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
/** A hex number matched in either case: "2f" → "2[fF]". */
const anyCaseHex = (h: string) => [...h].map((c) => (/[a-f]/i.test(c) ? `[${c.toLowerCase()}${c.toUpperCase()}]` : c)).join('');
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

/** A regular expression matching `secret` with each character as it is, percent-encoded, or JSON-escaped. */
function anyEncodingOf(secret: string): string {
  let pattern = '';
  for (const ch of secret) {
    if (UNRESERVED.test(ch)) {
      pattern += ch;
      continue;
    }
    const options = [escapeRegExp(ch)];
    options.push([...Buffer.from(ch, 'utf8')].map((b) => `%${anyCaseHex(hex(b, 2))}`).join(''));
    const units = [...Array(ch.length).keys()].map((i) => ch.charCodeAt(i));
    options.push(units.map((u) => `\\\\u${anyCaseHex(hex(u, 4))}`).join(''));
    if (ch === '/' || ch === '"' || ch === '\\') options.push(`\\\\${escapeRegExp(ch)}`);
    if (ch === ' ') options.push('\\+');
    pattern += `(?:${options.join('|')})`;
  }
  return pattern;
}

/** The longest text anyEncodingOf(secret) can match. */
function widestEncodingOf(secret: string): number {
  let n = 0;
  for (const ch of secret) n += UNRESERVED.test(ch) ? 1 : Math.max(3 * Buffer.byteLength(ch, 'utf8'), 6 * ch.length);
  return n;
}
