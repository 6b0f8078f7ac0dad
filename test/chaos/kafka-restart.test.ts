import { describe, it } from 'vitest';
import { useChaosCluster } from './chaos-cluster.ts';
import { clusterScenariosEnabled, PENDING } from './cluster-wired.ts';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;
const title = 'chaos: the Kafka broker stopped and restarted during the download';

describe.skipIf(!clusterScenariosEnabled())(clusterScenariosEnabled() ? title : `${title} [${PENDING}]`, () => {
  const c = useChaosCluster('kafka-restart', { replicas: 3, peers: 6, fileBytes: SIZE, originRate: 2 * MiB, cdnUploadRate: '4MiB', peerUpload: '1MiB' });

  it('keeps the swarm going, and Kafka ends up with every committed event in order', async () => {
    await c.startPeers();
    await c.waitProgress(0.25);
    await c.services.kafka.stop();
    console.log(`[chaos kafka-restart] Kafka stopped at ${Math.round(c.progress() * 100)}%`);
    // Kafka is not on the write path: the download must progress while the broker is down.
    await c.waitProgress(c.progress() + 0.15);
    await c.services.kafka.start();
    console.log(`[chaos kafka-restart] Kafka started again at ${Math.round(c.progress() * 100)}%`);
    await c.finishPeers();
    await c.check({ maxOriginBytes: Math.ceil(SIZE * 1.02) });
  });
});
