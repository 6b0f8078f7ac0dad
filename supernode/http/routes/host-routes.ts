import { z } from 'zod';
import { DamselflyError } from '../../../core/errors.ts';
import { HOST_TTL_MS, HostAnnouncement, HostId, HostList, HostParams, HostView, MAX_HOSTS_PER_PAGE } from '../../../core/wire/host-api.ts';
import { problemResponses } from '../../../edge/http/problem-responses.ts';
import { directPeerAddress, type PeerAddressOf } from '../../cluster/owner-routing.ts';
import type { HostLimits, HostRecord, HostStore } from '../../hosts/host-store.ts';
import type { App } from '../server.ts';

const security = [{ bearer: [] }];

/**
 * At most this many hosts are stored (a row is well under 1 KiB: ~10 MB at the cap), and those
 * unseen for an hour are forgotten once the table is full — so a flood of made-up ids, even
 * with the token, ends in 503s rather than an ever-growing table.
 */
export const DEFAULT_HOST_LIMITS: HostLimits = { maxHosts: 10_000, forgetAfterMs: 3600_000 };

export const HostListQuery = z.object({
  all: z.enum(['true', 'false']).default('false')
    .describe('`true` also lists stale hosts (no heartbeat within the TTL, not removed), marked `alive: false`; hosts unseen for an hour are left out either way.'),
  limit: z.coerce.number().int().min(1).max(MAX_HOSTS_PER_PAGE).default(MAX_HOSTS_PER_PAGE).describe(`Hosts per page, 1 to ${MAX_HOSTS_PER_PAGE} (the default).`),
  after: HostId.optional().describe('`next` of the previous page: hosts whose id sorts after it.'),
});

export interface HostRouteOptions {
  /** A host is live while its last announcement is younger than this (default HOST_TTL_MS). */
  ttlMs?: number;
  limits?: HostLimits;
  /** Where the host's uploader is reached; the same rule as a join's (default: the request's source IP). */
  peerAddressOf?: PeerAddressOf;
}

/**
 * The host registry (issue 11): daemons announce their host and heartbeat with PUT, leave with
 * DELETE on SIGTERM; preheat and the console list them with GET. Hosts live in the shared store,
 * so any replica answers, without forwarding.
 */
export function registerHostRoutes(app: App, store: HostStore, o: HostRouteOptions = {}): void {
  const ttlMs = o.ttlMs ?? HOST_TTL_MS;
  const limits = o.limits ?? DEFAULT_HOST_LIMITS;
  const peerAddressOf = o.peerAddressOf ?? directPeerAddress;

  app.put('/api/v1/hosts/:hostId', {
    schema: {
      summary: 'Register a host, or refresh it (the daemon\'s heartbeat)',
      description: `Idempotent: the first call registers the host, the next ones refresh it. A host is live while its last call is younger than ${ttlMs} ms.`,
      security, params: HostParams, body: HostAnnouncement, response: { 200: HostView, ...problemResponses(400, 401, 413, 415, 503) },
    },
  }, async (req) => {
    const { proxyPort, version, ...host } = req.body;
    const uploadAddress = await peerAddressOf(req, host.uploadAddress);
    const stored = await store.announce(req.params.hostId, { ...host, uploadAddress, proxyPort: proxyPort ?? null, version: version ?? null }, limits);
    if (!stored) {
      throw new DamselflyError('DF_ERR_UNAVAILABLE', `the supernode keeps at most ${limits.maxHosts} hosts and none has been silent long enough to be forgotten`, { retryAfterMs: ttlMs });
    }
    return hostView(stored);
  });

  app.delete('/api/v1/hosts/:hostId', {
    schema: { summary: 'A host leaves (its daemon stops); removing an unknown host is no error', security, params: HostParams, response: { 204: z.null().describe('Removed'), ...problemResponses(400, 401, 503) } },
  }, async (req, reply) => {
    await store.remove(req.params.hostId);
    return reply.code(204).send(null);
  });

  app.get('/api/v1/hosts', {
    schema: {
      summary: 'List the live hosts, by id',
      description: `Hosts whose daemon announced itself within the last ${ttlMs} ms (with \`all=true\`, stale ones too). Page with \`next\`.`,
      security, querystring: HostListQuery, response: { 200: HostList, ...problemResponses(400, 401, 503) },
    },
  }, async (req): Promise<HostList> => {
    const { all, limit, after } = req.query;
    // One more than the page, to know whether a next page exists.
    const rows = await store.list({ ttlMs, seenWithinMs: all === 'true' ? Math.max(ttlMs, limits.forgetAfterMs) : ttlMs, limit: limit + 1, after });
    const page = rows.slice(0, limit);
    return { hosts: page.map(hostView), ttlMs, ...(rows.length > limit ? { next: page[page.length - 1]!.hostId } : {}) };
  });
}

export function hostView(r: HostRecord): HostView {
  const colon = r.uploadAddress.lastIndexOf(':');
  const host = r.uploadAddress.slice(0, colon);
  return {
    hostId: r.hostId,
    hostname: r.hostname,
    ip: host.startsWith('[') ? host.slice(1, -1) : host,
    uploadPort: Number(r.uploadAddress.slice(colon + 1)),
    uploadAddress: r.uploadAddress,
    proxyPort: r.proxyPort,
    freeDiskBytes: r.freeDiskBytes,
    totalDiskBytes: r.totalDiskBytes,
    version: r.version,
    registeredAt: r.registeredAt.toISOString(),
    lastSeen: r.lastSeen.toISOString(),
    alive: r.alive,
  };
}
