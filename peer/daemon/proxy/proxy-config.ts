import { z } from 'zod';
import { usageError } from '../../../core/errors.ts';
import { isHostPort } from '../../../core/wire/host-port.ts';

/**
 * The `proxy:` section of the daemon's YAML config file, after Dragonfly's `proxy.rules` and
 * `proxy.hijackHTTPS`. Regexes are compiled here, once at start-up: a rule that does not compile
 * is a usage error naming it, never a surprise on the first request. Patterns are JavaScript
 * regexes, unanchored like Go's `MatchString`: `regex: blobs/sha256` matches anywhere in the URL.
 */
const regexField = z.string().min(1).transform((source, ctx) => {
  try {
    return new RegExp(source);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `invalid regular expression ${JSON.stringify(source)}: ${(e as Error).message}` });
    return z.NEVER;
  }
});

/** `redirect` replaces the URL's host (and port, if it names one): a hostname or host:port, no scheme or path. */
const redirectField = z
  .string()
  .refine((v) => isHostPort(v) || isHostPort(`${v}:80`), 'expected a host or host:port to send the request to instead, without scheme or path');

export const ProxyRuleSchema = z.strictObject({
  regex: regexField,
  /** Fetch past the swarm. */
  direct: z.boolean().default(false),
  /** Rewrite http:// to https:// for the fetch (the client still speaks plain HTTP to the daemon). */
  useHTTPS: z.boolean().default(false),
  redirect: redirectField.optional(),
});

export const HijackHostSchema = z.strictObject({
  /** Matched against the CONNECT target, `host:port`. */
  regex: regexField,
  /** Do not verify the origin's certificate when the daemon fetches directly (self-signed origins). */
  insecure: z.boolean().default(false),
});

export const ProxyConfig = z.strictObject({
  rules: z.array(ProxyRuleSchema).default([]),
  hijackHTTPS: z
    .strictObject({
      /** Paths of the CA certificate and key (PEM); without them the daemon generates a CA in its data dir once. */
      cert: z.string().min(1).optional(),
      key: z.string().min(1).optional(),
      hosts: z.array(HijackHostSchema).default([]),
    })
    .refine((h) => (h.cert === undefined) === (h.key === undefined), { message: 'cert and key go together', path: ['cert'] })
    .optional(),
});

export type ProxyConfig = z.infer<typeof ProxyConfig>;
export type ProxyRule = z.infer<typeof ProxyRuleSchema>;
export type HijackHost = z.infer<typeof HijackHostSchema>;

/** The section through the schema; a mistake is a usage error naming its place, `proxy.rules[1].regex: …`. */
export function parseProxyConfig(raw: unknown, section = 'proxy'): ProxyConfig {
  const parsed = ProxyConfig.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const place = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  throw usageError(`${section}${place}: ${issue.message}`);
}
