import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DamselflyError } from '../../../core/errors.ts';
import { TaskParams } from '../../../core/wire/fields.ts';
import { JoinRequest, LeaveRequest, RegisterTaskRequest, RoundRequest, RoundResponse, SyncRequest, SyncResponse, TaskView } from '../../../core/wire/peer-api.ts';
import { problemResponses } from '../../../edge/http/problem-responses.ts';
import type { App } from '../server.ts';
import type { SwarmService } from '../../swarm/swarm-service.ts';
import { directPeerAddress, type PeerAddressOf } from '../../cluster/owner-routing.ts';

const PeerParams = TaskParams.extend({ peerId: z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/) });
const TaskViewWithHash = TaskView.extend({ stateHash: z.string() });
const security = [{ bearer: [] }];

export type RouteGuard = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

/**
 * The peer API (core/wire/peer-api.ts is the contract): register, join, rounds, leave, status.
 * `preHandler` routes each request to the task's owner (supernode/cluster/owner-routing.ts);
 * without it (a single replica, tests) every task is handled here. `peerAddressOf` says where a
 * joining peer is reached (default: the join's source IP with the declared port).
 */
export function registerTaskRoutes(app: App, swarm: SwarmService, routing: { preHandler?: RouteGuard; peerAddressOf?: PeerAddressOf } = {}): void {
  const peerAddressOf = routing.peerAddressOf ?? directPeerAddress;
  // The zod-typed app's hook type is generic over its logger and type provider; a plain guard is enough here.
  const preHandler = routing.preHandler as never;
  app.post('/api/v1/tasks', {
    preHandler,
    schema: { summary: 'Register (or find) the task for a URL', security, body: RegisterTaskRequest, response: { 200: TaskView, ...problemResponses(400, 401, 403, 409, 413, 415, 503) } },
  }, async (req) => swarm.registerTask(req.body));

  app.get('/api/v1/tasks/:taskId', {
    preHandler,
    schema: { summary: 'Task status and state hash', security, params: TaskParams, response: { 200: TaskViewWithHash, ...problemResponses(400, 401, 403, 404, 503) } },
  }, async (req) => {
    const view = await swarm.view(req.params.taskId);
    if (view.status === 'absent') throw new DamselflyError('DF_ERR_NOT_FOUND', `unknown task ${req.params.taskId}`);
    return view;
  });

  app.post('/api/v1/tasks/:taskId/peers', {
    preHandler,
    schema: { summary: 'A peer joins the task', security, params: TaskParams, body: JoinRequest, response: { 200: TaskView, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) } },
  }, async (req) => swarm.join(req.params.taskId, { ...req.body, address: await peerAddressOf(req, req.body.address) }));

  app.post('/api/v1/tasks/:taskId/peers/:peerId/rounds', {
    preHandler,
    schema: {
      summary: 'Report finished pieces and receive the next assignments (answered after the events are committed)',
      security, params: PeerParams, body: RoundRequest, response: { 200: RoundResponse, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) },
    },
  }, async (req) => swarm.round(req.params.taskId, req.params.peerId, req.body));

  app.post('/api/v1/tasks/:taskId/peers/:peerId/syncs', {
    preHandler,
    // The hottest route: its answers (core's syncResponse, typed SyncResponse, and problems built
    // by problemOf) are written as JSON without zod checking them again on the way out, which
    // re-checked every digest of every answer. The schema still documents them.
    serializerCompiler: () => (data: unknown) => JSON.stringify(data),
    schema: {
      summary: 'Report verified pieces in a batch and receive the peer\'s parents (the sync protocol; answered after the events are committed)',
      security, params: PeerParams, body: SyncRequest, response: { 200: SyncResponse, ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) },
    },
  }, async (req) => {
    const join = req.body.join ? { ...req.body.join, address: await peerAddressOf(req, req.body.join.address) } : undefined;
    return swarm.sync(req.params.taskId, req.params.peerId, { ...req.body, join });
  });

  app.delete('/api/v1/tasks/:taskId/peers/:peerId', {
    preHandler,
    schema: { summary: 'A peer leaves the task', security, params: PeerParams, body: LeaveRequest, response: { 204: z.null().describe('Left'), ...problemResponses(400, 401, 403, 404, 409, 413, 415, 503) } },
  }, async (req, reply) => {
    await swarm.leave(req.params.taskId, req.params.peerId, req.body);
    return reply.code(204).send(null);
  });
}
