import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { replyProblem } from './fastify-problems.ts';
import type { Problem } from './problem.ts';

/** A check a protected route runs before anything else: a problem refuses the request, undefined lets it through. */
export type RouteGate = (req: FastifyRequest, reply: FastifyReply) => Problem | undefined;

/**
 * Puts `gates` in front of every route whose path pattern `protects` accepts, on the route
 * itself (an onRequest hook added when the route is registered). Whatever form the request
 * target takes — percent-encoded, doubled slashes, absolute-form `http://host/…` — the gates
 * run exactly when the router picked a protected route: the decision is never made on the
 * raw URL, which the router normalises differently. Install it before the routes.
 */
export function guardRoutes(app: FastifyInstance, protects: (routePath: string) => boolean, gates: RouteGate[]): void {
  const guard: onRequestHookHandler = async (req, reply) => {
    for (const gate of gates) {
      const problem = gate(req, reply);
      if (problem) return replyProblem(reply, problem);
    }
  };
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!protects(route.url)) return;
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [guard, ...own];
  });
}
