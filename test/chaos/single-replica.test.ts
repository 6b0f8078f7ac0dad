import { appendFileSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { checkTask } from '../../bench/invariants/index.ts';
import { useChaosCluster } from './chaos-cluster.ts';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;

/**
 * The harness and the checker on what exists without the cluster wiring: one replica on the
 * dedicated PostgreSQL and Kafka, six peers, the Kafka broker stopped and restarted in the
 * middle of the download (the relay must catch up, in order). The run must pass the checker;
 * then the same real data, deliberately damaged, must fail it — so a checker that silently
 * passes everything cannot go unnoticed.
 */
describe('chaos harness: one replica, Kafka restarted mid-download', () => {
  const c = useChaosCluster('single', { replicas: 1, peers: 6, fileBytes: SIZE, originRate: 2 * MiB, cdnUploadRate: '4MiB', peerUpload: '1MiB' });

  it('passes every invariant', async () => {
    await c.startPeers();
    await c.waitProgress(0.2);
    await c.services.kafka.stop();
    // Kafka is not on the write path: the download goes on while the broker is down.
    const during = c.progress();
    await c.waitProgress(Math.min(1, during + 0.1));
    await c.services.kafka.start();
    await c.finishPeers();
    await c.check();
  });

  it('fails on the same data once it is damaged', async () => {
    const base = { taskId: c.taskId, databaseUrl: c.databaseUrl, kafka: { brokers: c.services.kafkaBrokers, topic: c.topic }, expectedSha256: c.origin.sha256, relayTimeoutMs: 5000 };
    const clean = await checkTask({ ...base, ackLogs: c.ackLogs, outputs: [c.peers[0]!.output], originBytes: c.origin.bytesServed(), maxOriginBytes: SIZE * 2 });
    expect(clean.violations).toEqual([]);

    // A gap in the stream (and Kafka then holds an event PostgreSQL lacks), a corrupt copy, an
    // acknowledged report that no event records, and an origin over its bound.
    const events = await c.events();
    // A report whose first piece no other event records (a re-join re-reports what a peer holds).
    const okKeys = ({ event }: (typeof events)[number]) => (event.type === 'PiecesReported' ? event.data.ok.flatMap((g) => g.pieces.map((piece) => `${event.data.peerId} ${piece} ${g.source}`)) : []);
    const counts = new Map<string, number>();
    for (const e of events) for (const k of okKeys(e)) counts.set(k, (counts.get(k) ?? 0) + 1);
    const victim = events.find((e) => okKeys(e).length > 0 && counts.get(okKeys(e)[0]!) === 1)!;
    const db = new pg.Client({ connectionString: c.databaseUrl });
    await db.connect();
    try {
      await db.query('DELETE FROM events WHERE stream_id = $1 AND version = $2', [c.taskId, victim.version]);
    } finally {
      await db.end();
    }
    appendFileSync(c.peers[1]!.output, 'x');
    appendFileSync(c.ackLogs[0]!, `${JSON.stringify({ taskId: c.taskId, peerId: 'nobody', ok: [{ piece: 0, source: 'cdn' }], failed: [] })}\n`);
    const broken = await checkTask({ ...base, ackLogs: c.ackLogs, outputs: [c.peers[0]!.output, c.peers[1]!.output], originBytes: c.origin.bytesServed(), maxOriginBytes: SIZE / 2 });
    const found = new Set(broken.violations.map((v) => v.invariant));
    expect([...found].sort()).toEqual(['acknowledged-report', 'contiguous-versions', 'file-identical', 'kafka-phantom', 'origin-bytes']);
    expect(broken.violations.find((v) => v.invariant === 'contiguous-versions')!.message).toContain(`expected version ${victim.version}`);
    // The fabricated ack, and the real acks whose only record was the deleted event.
    const unrecorded = broken.violations.filter((v) => v.invariant === 'acknowledged-report').map((v) => v.message);
    expect(unrecorded).toContainEqual(expect.stringContaining("peer nobody's report of piece 0"));
    const [peerId, piece, source] = okKeys(victim)[0]!.split(' ');
    expect(unrecorded).toContainEqual(expect.stringContaining(`peer ${peerId}'s report of piece ${piece} (from ${source})`));
  });

  it('stops cleanly on SIGTERM after the broker restart', async () => {
    // The warm-copy consumer's JoinGroup, held by the restarted broker until the group's
    // pre-restart member expired, once kept the process alive until it was killed.
    expect(await c.stopReplicas()).toEqual([{ replica: 'r1', code: 0 }]);
  });
});
