import type { FastifyPluginAsync } from 'fastify';
import { createPieceServer } from '../../edge/pieces/index.ts';
import type { Throttle } from '../../edge/rate/index.ts';
import type { CdnStore } from './cdn-store.ts';
import { cdnPieceSource } from './cdn-piece-source.ts';

export interface PieceRouteOptions {
  store: CdnStore;
  /** The CDN's upload cap, shared by all its responses (the benchmark's --origin-upload). */
  throttle?: Throttle;
  /** Responses in flight at once; beyond it 503 with Retry-After (the peer asks again). */
  slots?: number;
  retryAfterMs?: number;
  now?: () => number;
}

/**
 * GET (and HEAD) /pieces/:taskId/:piece on the supernode's app: the shared piece server
 * (edge/pieces) over the CDN store. The reply is hijacked, so the response is exactly what
 * every peer's uploader sends: one implementation of the protocol, whatever the framework.
 */
export const pieceRoute: FastifyPluginAsync<PieceRouteOptions> = async (app, o) => {
  const pieces = createPieceServer({
    source: cdnPieceSource(o.store, { log: app.log, now: o.now }),
    throttle: o.throttle,
    slots: o.slots,
    retryAfterMs: o.retryAfterMs,
    log: app.log,
  });
  // Not in the OpenAPI document: it is the data plane every holder speaks (edge/pieces), fuzzed on its own (test/unit/http/pieces-fuzz.test.ts).
  app.get('/pieces/:taskId/:piece', { schema: { hide: true } }, (req, reply) => {
    reply.hijack();
    return pieces.handle(req.raw, reply.raw);
  });
};
