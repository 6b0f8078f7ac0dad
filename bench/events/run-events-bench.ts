import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { stateHash } from '../../core/task/index.ts';
import { AppendWorkload } from './append-workload.ts';
import { openKafkaTarget } from './kafka-target.ts';
import { ensureLocalServices } from '../local-services.ts';
import { measurePglite, type PgliteFigures } from './pglite-figures.ts';
import { openPostgresTarget, type PostgresSettings } from './postgres-target.ts';
import { measureRelay, type RelaySplit } from './relay-figure.ts';
import { rebuildByTransition, rebuildFromBus, rebuildFromStore, rebuildInMemory, type Rebuilt } from './replay-paths.ts';
import { buildTaskHistory } from './task-history.ts';
import { medianOf, type Throughput } from './throughput.ts';

export interface EventsBenchOptions {
  /** Events appended by the concurrent writers. */
  events: number;
  /** Events of the one big stream that is replayed. */
  streamEvents: number;
  /** Events appended one per transaction. */
  sequential: number;
  writers: number;
  /** Events per append of each concurrent writer. */
  batch: number;
  /** Events per append when one writer appends the big stream. */
  bigBatch: number;
  pgliteEvents: number;
}

export interface EventsBenchResult {
  appendPerSecond: number;
  appendBatchedPerSecond: number;
  relayPerSecond: number;
  replayPostgresPerSecond: number;
  replayKafkaPerSecond: number;
  replayMemoryPerSecond: number;
  appendConcurrentSingleEventPerSecond: number;
  appendBigBatchPerSecond: number;
  replayMemoryTransitionPerSecond: number;
  pgliteAppendPerSecond: number | null;
  pgliteAppendBatchedPerSecond: number | null;
  /** Which workload appendBatchedPerSecond is. */
  appendBatchedIs: string;
  stateHash: string;
  figures: Record<string, Throughput | undefined>;
  config: EventsBenchOptions;
  history: { events: number; pieceCount: number; peers: number; averageEventBytes: number };
  postgres: PostgresSettings;
  kafka: { topicPartitions: number; acks: number };
  /** Where the relay's time went: reading the feed from Postgres vs publishing to Kafka. */
  relaySplit: RelaySplit;
  /** loadAverage1m: the 1-minute load at the start; above the core count, the figures are shared. */
  machine: { cpus: number; cpuModel: string; node: string; loadAverage1m: number };
}

/**
 * The whole benchmark, in one fresh database and one fresh topic that are dropped at the end.
 * Order matters only for the relay: it runs last among the Postgres figures, so its backlog is
 * every event appended before it (about `sequential + events + writers + streamEvents`).
 */
export async function runEventsBench(o: EventsBenchOptions, progress: (line: string) => void): Promise<EventsBenchResult> {
  const runId = randomUUID().replaceAll('-', '').slice(0, 12);
  const loadAtStart = loadavg()[0]!;
  progress('checking PostgreSQL and Kafka (infra/dev/up.sh)');
  const services = await ensureLocalServices();
  progress(`building a task history of ${o.streamEvents} events with core decide()`);
  const history = buildTaskHistory({ events: o.streamEvents });

  const pgTarget = await openPostgresTarget(services.databaseUrl, runId);
  const cleanups: (() => Promise<void>)[] = [pgTarget.drop];
  try {
    const kafka = await openKafkaTarget(services.kafkaBrokers, runId);
    cleanups.unshift(kafka.drop);
    const pgAppends = new AppendWorkload(pgTarget.store, history.events, runId);
    const bigStream = pgAppends.streamId('replay');
    const streamEvents = pgAppends.slice(bigStream, 0, o.streamEvents);

    progress('replay in memory (core replay, then XState transition)');
    const memory = await timedRebuild(() => rebuildInMemory(streamEvents), 5, true);
    const transition = await timedRebuild(() => rebuildByTransition(streamEvents), 3, true);

    progress(`Postgres: ${o.sequential} appends of 1 event, one writer`);
    const sequentialStream = pgAppends.streamId('sequential');
    const append = await pgAppends.sequential(sequentialStream, pgAppends.slice(sequentialStream, 0, o.sequential), 1);
    progress(`Postgres: ${o.events} events by ${o.writers} concurrent writers, ${o.batch} per append`);
    const appendConcurrent = await pgAppends.concurrent('concurrent', o.events, o.writers, o.batch);
    progress(`Postgres: ${o.writers * 20} events by ${o.writers} concurrent writers, 1 per append`);
    const appendConcurrentSingle = await pgAppends.concurrent('single', o.writers * 20, o.writers, 1);
    progress(`Postgres: the ${o.streamEvents}-event stream, ${o.bigBatch} per append`);
    const appendBigBatch = await pgAppends.sequential(bigStream, streamEvents, o.bigBatch);

    progress('replay from Postgres');
    const fromPostgres = await timedRebuild(() => rebuildFromStore(pgTarget.store, bigStream), 3);

    const backlog = append.events + appendConcurrent.events + appendConcurrentSingle.events + appendBigBatch.events;
    progress(`relay: ${backlog} events Postgres -> Kafka`);
    const { throughput: relayed, split } = await measureRelay(pgTarget.store, kafka.bus, `bench-${runId}`, backlog, {
      explainStall: () => pgTarget.oldestTransaction(),
    });

    progress('replay from Kafka');
    const fromKafka = await timedRebuild(() => rebuildFromBus(kafka.bus, bigStream), 3);

    const hashes = new Set([memory.hash, transition.hash, fromPostgres.hash, fromKafka.hash]);
    if (hashes.size !== 1) throw new Error(`replays disagree: state hashes ${[...hashes].join(', ')}`);

    let pglite: PgliteFigures | undefined;
    if (o.pgliteEvents > 0) {
      progress(`PGlite (embedded, on disk): ${Math.min(o.sequential, o.pgliteEvents)} single appends, ${o.pgliteEvents} by ${o.writers} writers`);
      pglite = await measurePglite(history.events, runId, { sequential: Math.min(o.sequential, o.pgliteEvents), concurrent: o.pgliteEvents, writers: o.writers, batch: o.batch });
    }

    const figures = {
      append,
      appendConcurrent,
      appendConcurrentSingle,
      appendBigBatch,
      relay: relayed,
      replayPostgres: fromPostgres.throughput,
      replayKafka: fromKafka.throughput,
      replayMemory: memory.throughput,
      replayMemoryTransition: transition.throughput,
      pgliteAppend: pglite?.append,
      pgliteAppendConcurrent: pglite?.appendConcurrent,
    };
    return {
      appendPerSecond: append.perSecond,
      appendBatchedPerSecond: appendConcurrent.perSecond,
      relayPerSecond: relayed.perSecond,
      replayPostgresPerSecond: fromPostgres.throughput.perSecond,
      replayKafkaPerSecond: fromKafka.throughput.perSecond,
      replayMemoryPerSecond: memory.throughput.perSecond,
      appendConcurrentSingleEventPerSecond: appendConcurrentSingle.perSecond,
      appendBigBatchPerSecond: appendBigBatch.perSecond,
      replayMemoryTransitionPerSecond: transition.throughput.perSecond,
      pgliteAppendPerSecond: pglite?.append.perSecond ?? null,
      pgliteAppendBatchedPerSecond: pglite?.appendConcurrent.perSecond ?? null,
      appendBatchedIs: `${o.writers} concurrent writers on distinct streams, ${o.batch} events per append (group commit)`,
      stateHash: memory.hash,
      figures,
      config: o,
      history: {
        events: history.events.length,
        pieceCount: history.pieceCount,
        peers: history.peers,
        averageEventBytes: Math.round(JSON.stringify(history.events).length / history.events.length),
      },
      postgres: pgTarget.settings,
      kafka: { topicPartitions: kafka.partitions, acks: -1 },
      relaySplit: split,
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', node: process.version, loadAverage1m: Math.round(loadAtStart * 100) / 100 },
    };
  } finally {
    progress('cleaning up (database, topic)');
    for (const cleanup of cleanups) {
      await cleanup().catch((err: Error) => process.stderr.write(`damselfly bench: cleanup failed: ${err.message}\n`));
    }
  }
}

/**
 * Median throughput of a rebuild, and the state hash it reached (hashed after the clock stops).
 * The pure folds get a warm-up run (else the JIT is measured); the I/O paths are measured as a
 * takeover meets them, cold connection and all.
 */
async function timedRebuild(
  rebuild: () => Promise<Rebuilt> | Rebuilt,
  repeats: number,
  warmUp = false,
): Promise<{ throughput: Throughput; hash: string }> {
  let last: Rebuilt | undefined;
  const throughput = await medianOf(
    repeats,
    async () => {
      last = await rebuild();
      return last.events;
    },
    warmUp,
  );
  return { throughput, hash: stateHash(last!.snapshot) };
}
