import type { EventsBenchResult } from './run-events-bench.ts';
import type { Throughput } from './throughput.ts';

/** The human output of `damselfly bench events`: one row per figure, the JSON key beside it. */
export function renderEventsTable(r: EventsBenchResult): string {
  const rows: [string, string, Throughput | undefined][] = [
    ['append, 1 event/txn, 1 writer', 'appendPerSecond', r.figures.append],
    [`append, ${r.config.writers} writers x ${r.config.batch} events (group commit)`, 'appendBatchedPerSecond', r.figures.appendConcurrent],
    [`append, ${r.config.writers} writers x 1 event (group commit)`, 'appendConcurrentSingleEventPerSecond', r.figures.appendConcurrentSingle],
    [`append, ${r.config.bigBatch} events/append, 1 writer`, 'appendBigBatchPerSecond', r.figures.appendBigBatch],
    ['relay Postgres -> Kafka (acks=-1)', 'relayPerSecond', r.figures.relay],
    ['replay from Postgres (read + fold)', 'replayPostgresPerSecond', r.figures.replayPostgres],
    ['replay from Kafka (read + fold)', 'replayKafkaPerSecond', r.figures.replayKafka],
    ['replay in memory (core replay)', 'replayMemoryPerSecond', r.figures.replayMemory],
    ['replay in memory (XState transition)', 'replayMemoryTransitionPerSecond', r.figures.replayMemoryTransition],
    ['PGlite append, 1 event/txn', 'pgliteAppendPerSecond', r.figures.pgliteAppend],
    [`PGlite append, ${r.config.writers} writers x ${r.config.batch} events`, 'pgliteAppendBatchedPerSecond', r.figures.pgliteAppendConcurrent],
  ];
  const shown = rows.filter((row): row is [string, string, Throughput] => row[2] !== undefined);
  const width = Math.max(...shown.map(([label]) => label.length));
  const lines = [
    `event persistence — ${r.machine.cpus} cores (load ${r.machine.loadAverage1m} at start), Node ${r.machine.node}; PostgreSQL ${r.postgres.version} ` +
      `(fsync=${r.postgres.fsync}, synchronous_commit=${r.postgres.synchronousCommit}); Kafka acks=-1`,
    `task history: ${r.history.events} events, ${r.history.pieceCount} pieces, ${r.history.peers} peers, ${r.history.averageEventBytes} bytes/event (JSON)`,
    '',
    `${'figure'.padEnd(width)}  ${'events'.padStart(7)}  ${'seconds'.padStart(8)}  ${'events/s'.padStart(9)}`,
  ];
  for (const [label, , t] of shown) {
    lines.push(`${label.padEnd(width)}  ${String(t.events).padStart(7)}  ${t.seconds.toFixed(3).padStart(8)}  ${String(t.perSecond).padStart(9)}`);
  }
  lines.push(
    '',
    `relay split: ${r.relaySplit.readSeconds} s reading Postgres, ${r.relaySplit.publishSeconds} s publishing to Kafka ` +
      `(batches of ${r.relaySplit.batchSize})` +
      (r.relaySplit.heldBackSeconds > 0.05 ? `; held back ${r.relaySplit.heldBackSeconds} s by another client's open transaction` : ''),
  );
  lines.push(`state hash (Postgres = Kafka = memory): ${r.stateHash}`);
  return `${lines.join('\n')}\n`;
}
