import { describe, expect, it } from 'vitest';
import { THREE_REPLICAS, useChaosCluster } from './chaos-cluster.ts';

const title = 'chaos: the Kafka broker stopped and restarted during the download';

describe(title, () => {
  const c = useChaosCluster('kafka-restart', THREE_REPLICAS);

  it('keeps the swarm going, and Kafka ends up with every committed event in order', async () => {
    await c.startPeers();
    await c.waitProgress(0.25);
    await c.services.kafka.stop();
    console.log(`[chaos kafka-restart] Kafka stopped at ${Math.round(c.progress() * 100)}%`);
    // Kafka is not on the write path: the download must progress while the broker is down.
    await c.waitProgress(c.progress() + 0.05);
    await c.services.kafka.start();
    console.log(`[chaos kafka-restart] Kafka started again at ${Math.round(c.progress() * 100)}%`);
    await c.finishPeers();
    await c.check();
  });

  it('then every replica stops cleanly on SIGTERM', async () => {
    expect(await c.stopReplicas()).toEqual(c.replicas.map((r) => ({ replica: r.id, code: 0 })));
  });
});
