import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import { DamselflyError } from '../../../core/errors.ts';
import type { ProxyRule } from './proxy-config.ts';

/** Where one proxied request goes, and what the swarm needs to name its task. */
export interface ProxyRoute {
  via: 'p2p' | 'direct';
  /** The URL to fetch: the client's, rewritten by the matching rule (useHTTPS, redirect). */
  url: URL;
  filter?: string[];
  tag?: string;
}

// Bounds on what a client may put in the steering headers: a task id is built from them, so a
// megabyte tag or ten thousand filtered names is abuse, answered 400 rather than carried along.
const dragonflyHeaders = z.object({
  'x-dragonfly-use-p2p': z.enum(['true', 'false']).optional(),
  'x-dragonfly-filtered-query-params': z
    .string()
    .max(4096)
    .transform((v) => v.split(',').map((n) => n.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^\s&=#]+$/, 'a query parameter name')).max(64))
    .optional(),
  'x-dragonfly-tag': z.string().max(256).regex(/^[\x21-\x7e ]*$/, 'printable ASCII').optional(),
});

/**
 * Decides a request's route, Dragonfly's way: the first rule whose regex matches the URL decides
 * (P2P unless `direct`) and rewrites it (useHTTPS, redirect) whichever way it goes; no rule →
 * direct; `X-Dragonfly-Use-P2P` overrides the decision, not the rewrite. Only GET goes through
 * the swarm: a task is a body anyone may be handed, which other methods do not fetch.
 */
export function routeRequest(method: string, requested: URL, headers: IncomingHttpHeaders, rules: readonly ProxyRule[]): ProxyRoute {
  const steering = readSteering(headers);
  const rule = rules.find((r) => r.regex.test(requested.href));
  const url = new URL(requested);
  if (rule?.useHTTPS && url.protocol === 'http:') url.protocol = 'https:';
  if (rule?.redirect) url.host = rule.redirect;
  const wanted = steering['x-dragonfly-use-p2p'] !== undefined ? steering['x-dragonfly-use-p2p'] === 'true' : rule !== undefined && !rule.direct;
  if (!wanted || method !== 'GET') return { via: 'direct', url };
  return {
    via: 'p2p',
    url,
    ...(steering['x-dragonfly-filtered-query-params']?.length ? { filter: steering['x-dragonfly-filtered-query-params'] } : {}),
    ...(steering['x-dragonfly-tag'] ? { tag: steering['x-dragonfly-tag'] } : {}),
  };
}

function readSteering(headers: IncomingHttpHeaders) {
  const parsed = dragonflyHeaders.safeParse({
    'x-dragonfly-use-p2p': headers['x-dragonfly-use-p2p']?.toString().toLowerCase(),
    'x-dragonfly-filtered-query-params': headers['x-dragonfly-filtered-query-params']?.toString(),
    'x-dragonfly-tag': headers['x-dragonfly-tag']?.toString(),
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new DamselflyError('DF_ERR_VALIDATION', `${String(issue.path[0])}: ${issue.message}`);
}
