import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import { computeTaskId } from '../../core/ids/index.ts';
import { DamselflyError } from '../../core/errors.ts';
import type { RegisterTaskRequest } from '../../core/wire/peer-api.ts';
import { taskFieldsOf } from '../swarm/swarm-service.ts';
import type { ShardOwnership } from './shard-ownership.ts';

/** Marks a forwarded request (value: the forwarding replica), so that it is never forwarded twice. */
export const FORWARDED_HEADER = 'x-damselfly-forwarded-by';

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
export function ownerRouting(o: { ownership: ShardOwnership; selfAddress: () => string }) {
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

  return { preHandler, close: () => agent.close() };
}

function taskIdOf(req: FastifyRequest): string {
  const params = req.params as { taskId?: string } | undefined;
  if (params?.taskId) return params.taskId;
  return computeTaskId(taskFieldsOf(req.body as RegisterTaskRequest));
}

function notOwner(taskId: string, why: string): DamselflyError {
  return new DamselflyError('DF_ERR_NOT_OWNER', `task ${taskId}: ${why}`, { retryAfterMs: 250 });
}
