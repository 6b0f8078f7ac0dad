import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FailureReason } from '../../../core/events/task-events.ts';
import { MAX_REQUEST_BODY_BYTES, MAX_ROUND_REPORTS, RoundRequest } from '../../../core/wire/peer-api.ts';
import { createApp } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';

/**
 * The wire's limits agree: the largest round its schema accepts fits the supernode's body
 * limit, so a peer that keeps to the schema is never refused a round for its size.
 */
function largestRound(extraOk = 0) {
  const longestReason = [...FailureReason.options].sort((a, b) => b.length - a.length)[0]!;
  const big = Number.MAX_SAFE_INTEGER;
  return {
    ok: Array.from({ length: MAX_ROUND_REPORTS + extraOk }, () => ({ piece: big, source: 'a'.repeat(200), ms: big })),
    failed: Array.from({ length: MAX_ROUND_REPORTS }, () => ({ piece: big, source: 'b'.repeat(200), reason: longestReason })),
    want: 256,
    holdMs: 5000,
  };
}

describe('round limits', () => {
  it('a round at the schema’s maximum fits the body limit, and one entry more is refused by the schema', () => {
    const body = largestRound();
    expect(RoundRequest.safeParse(body).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_REQUEST_BODY_BYTES);
    expect(RoundRequest.safeParse(largestRound(1)).success).toBe(false);
  });

  it('the supernode’s HTTP server takes that largest round', async () => {
    const app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics() });
    try {
      app.post('/limits', async (req) => ({ ok: RoundRequest.parse(req.body).ok.length }));
      const res = await app.inject({ method: 'POST', url: '/limits', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(largestRound()) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ ok: MAX_ROUND_REPORTS });
    } finally {
      await app.close();
    }
  });
});
