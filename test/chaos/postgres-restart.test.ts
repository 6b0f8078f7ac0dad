import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { TOKEN } from '../e2e/swarm/swarm-fixture.ts';
import { THREE_REPLICAS, useChaosCluster } from './chaos-cluster.ts';

/** Long enough for every lease to lapse (2 s TTL), short of the peers' 60 s give-up. */
const OUTAGE_MS = 6000;
const title = 'chaos: PostgreSQL restarted during the download';

describe(title, () => {
  const c = useChaosCluster('postgres-restart', THREE_REPLICAS);

  it('answers 503 with a retry hint meanwhile; the peers back off and resume', async () => {
    await c.startPeers();
    await c.waitProgress(0.3);
    const downAt = Date.now();
    await c.services.postgres.stop();
    console.log(`[chaos postgres-restart] PostgreSQL stopped at ${Math.round(c.progress() * 100)}%`);

    // A join must be recorded before it is answered: with the store down, every replica says
    // 503 and when to come back, rather than failing the peer or hanging.
    for (const r of c.answering()) {
      const res = await fetch(`${r.base}/api/v1/tasks/${c.taskId}/peers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ peerId: `probe-${randomUUID().slice(0, 8)}`, hostId: 'probe', address: '127.0.0.1:9' }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => ({}))) as { retryAfterMs?: number };
      expect(res.status, `${r.id} while PostgreSQL is down`).toBe(503);
      expect(body.retryAfterMs ?? res.headers.get('retry-after'), `${r.id}'s retry hint`).toBeTruthy();
    }

    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    await c.services.postgres.start();
    console.log(`[chaos postgres-restart] PostgreSQL started again after ${Date.now() - downAt} ms`);
    await c.finishPeers();
    await c.check();
  });
});
