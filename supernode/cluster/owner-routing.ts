import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import { computeTaskId } from '../../core/ids/index.ts';
import { DamselflyError } from '../../core/errors.ts';
import type { RegisterTaskRequest } from '../../core/wire/peer-api.ts';
import { taskFieldsOf } from '../swarm/swarm-service.ts';
import type { ShardOwnership } from './shard-ownership.ts';

/** Marks a forwarded request (value: the forwarding replica), so that it is never forwarded twice. */
export const FORWARDED_HEADER = 'x-damselfly-forwarded-by';
/** On a forwarded request: the address the client's request came from (the forwarding replica's TCP peer). */
export const CLIENT_IP_HEADER = 'x-damselfly-client-ip';

/**
 * Where other peers are sent to reach a joining peer's uploader. `from-request` (the default):
 * the IP the join came from, with the port the peer declared, so that a client can name no host
 * but its own; `declared`: the host:port as the peer declared it, for peers behind NAT or a
 * proxy that know their reachable address (docs/security.md, "Peers: the trust model").
 */
export type PeerAddressMode = 'from-request' | 'declared';
export type PeerAddressOf = (req: FastifyRequest, declared: string) => Promise<string>;

/**
 * Peers may talk to any replica: a request for a task whose shard another replica holds is
 * forwarded to that owner (one hop, by the address in its heartbeat) and the owner's answer is
 * passed back unchanged. Forwarding rather than redirecting keeps peers simple (they need only
 * the list of replicas) and costs one loopback/LAN hop on the control plane, never on the data.
 *
 * When nobody holds the shard (a takeover in progress), the owner cannot be reached, or the
 * request was already forwarded once (the views of two replicas disagree for a moment), the
 * answer is a retryable 503 DF_ERR_NOT_OWNER with a short retry hint: the peer asks again.
 */
export function ownerRouting(o: { ownership: ShardOwnership; selfAddress: () => string; peerAddress?: PeerAddressMode }) {
  const agent = new Agent({ connect: { timeout: 1000 }, headersTimeout: 60_000, bodyTimeout: 60_000 });

  async function preHandler(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const taskId = taskIdOf(req);
    if (o.ownership.claim(taskId)) return undefined; // ours: the route handles it here
    const address = o.ownership.ownerAddressOf(taskId);
    if (req.headers[FORWARDED_HEADER] || !address || address === o.selfAddress()) throw notOwner(taskId, 'no replica holds its shard right now');
    let res;
    try {
      res = await request(`http://${address}${req.url}`, {
        method: req.method as 'GET' | 'POST' | 'DELETE',
        dispatcher: agent,
        headers: {
          ...(req.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
          [FORWARDED_HEADER]: o.ownership.replicaId,
          [CLIENT_IP_HEADER]: sourceIp(req),
        },
        body: req.body === undefined ? undefined : JSON.stringify(req.body),
      });
    } catch (err) {
      throw notOwner(taskId, `its owner at ${address} does not answer (${(err as Error).message})`);
    }
    const body = await res.body.text();
    reply.code(res.statusCode);
    for (const h of ['content-type', 'retry-after'] as const) {
      const v = res.headers[h];
      if (typeof v === 'string') reply.header(h, v);
    }
    // Already serialised by the owner: sent as is, past this route's serializer.
    return reply.serializer((payload: unknown) => payload as string).send(body);
  }

  /**
   * The join's client IP: the TCP peer, or on a forwarded request the IP the forwarding replica
   * names — believed only if the request's TCP peer is an address of that replica as its
   * heartbeat advertises it (live replicas only). Not the cluster token: dfget holds the same
   * token, so it would let any peer name any IP. Anything else is refused, never guessed (the
   * forwarder's own IP would send the swarm to the wrong host).
   */
  async function clientIp(req: FastifyRequest): Promise<string> {
    const source = sourceIp(req);
    const by = req.headers[FORWARDED_HEADER];
    if (by === undefined) return source;
    const claimed = req.headers[CLIENT_IP_HEADER];
    const replica = o.ownership.status().replicas.find((r) => r.replicaId === by);
    if (typeof claimed !== 'string' || isIP(claimed) === 0) throw untrusted(`it names no client address (${CLIENT_IP_HEADER})`);
    if (!replica) throw untrusted(`${String(by)} is not a live replica`);
    const addresses = await addressesOf(hostOf(replica.address));
    if (!addresses.includes(source)) throw untrusted(`it came from ${source}, not from ${replica.replicaId} at ${replica.address} (set --advertise to an address the replicas connect from, or run with --peer-address declared)`);
    return plainIp(claimed);
  }

  const peerAddressOf: PeerAddressOf = async (req, declared) => (o.peerAddress === 'declared' ? declared : withClientHost(declared, await clientIp(req)));

  return { preHandler, peerAddressOf, close: () => agent.close() };
}

/** The from-request address of a peer that talks to this replica directly (no forwarding: a lone supernode, tests). */
export const directPeerAddress: PeerAddressOf = async (req, declared) => withClientHost(declared, sourceIp(req));

/**
 * `declared` with its host replaced by the client's IP. A client on loopback keeps a loopback
 * host it declared (127.0.0.1 and ::1 are the same machine, and its uploader may listen on either).
 */
export function withClientHost(declared: string, ip: string): string {
  const colon = declared.lastIndexOf(':');
  const port = declared.slice(colon + 1);
  if (isLoopback(ip) && isLoopback(hostOf(declared))) return declared;
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function sourceIp(req: FastifyRequest): string {
  return plainIp(req.socket.remoteAddress ?? '');
}

/** An IPv4-mapped IPv6 address as the IPv4 it is; a zone index dropped (no other host could use it). */
function plainIp(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(bare) ? bare.slice(7) : bare.toLowerCase();
}

function hostOf(hostPort: string): string {
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function isLoopback(host: string): boolean {
  const ip = plainIp(host);
  return ip === '::1' || ip === 'localhost' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

/** The IPs of a replica's advertised host (a literal, or what its name resolves to here). */
async function addressesOf(host: string): Promise<string[]> {
  if (isIP(host) !== 0) return [plainIp(host)];
  try {
    return (await lookup(host, { all: true })).map((a) => plainIp(a.address));
  } catch (err) {
    throw untrusted(`the replica's host ${host} does not resolve (${(err as Error).message})`);
  }
}

function untrusted(why: string): DamselflyError {
  return new DamselflyError('DF_ERR_FORWARD_UNTRUSTED', `a request marked as forwarded: ${why}`, { retryAfterMs: 500 });
}

function taskIdOf(req: FastifyRequest): string {
  const params = req.params as { taskId?: string } | undefined;
  if (params?.taskId) return params.taskId;
  return computeTaskId(taskFieldsOf(req.body as RegisterTaskRequest));
}

function notOwner(taskId: string, why: string): DamselflyError {
  return new DamselflyError('DF_ERR_NOT_OWNER', `task ${taskId}: ${why}`, { retryAfterMs: 250 });
}
