import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../../../core/events/index.ts';
import { isDamselflyError } from '../../../core/errors.ts';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { MemoryEventBus } from '../../../supernode/bus/memory-event-bus.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { OutboxRelay } from '../../../supernode/relay/outbox-relay.ts';
import { openPostgresEventStore } from '../../../supernode/store/open-event-store.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { range, waitFor } from '../../shared/event-bus-conformance.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { startTcpProxy, viaProxy, type TcpProxy } from '../../../bench/harness/tcp-proxy.ts';
import { readTopic } from './read-topic.ts';
import { appendConcurrently, checkTopic } from './relay-fixtures.ts';
import { switchableSockets } from './switchable-sockets.ts';

const freshSchema = useFreshSchemas('relay_pg_down');

/** A logger that keeps what was logged at warn and above, and the info lines. */
function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_: object, msg?: string) => void lines.push({ level, msg: msg ?? '' });
  const log: LogSink = { debug() {}, info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines, count: (level: string, msg: string) => lines.filter((l) => l.level === level && l.msg === msg).length };
}

/** Appends that fail while the database is away: each must fail with DF_ERR_UNAVAILABLE. */
async function appendsFailUnavailable(store: EventStore, streamIds: string[], fromVersion: number): Promise<void> {
  const err = await appendConcurrently(store, streamIds, 5, { chunk: 5, fromVersion }).then(
    () => new Error('the appends committed while the database was cut'),
    (e: unknown) => e,
  );
  expect(isDamselflyError(err, 'DF_ERR_UNAVAILABLE'), String(err)).toBe(true);
}

/**
 * The outbox relay through a PostgreSQL outage (a TCP proxy between it and the shared server,
 * cut and restored) and, in the second test, a Kafka outage at the same time (a socket factory
 * with an off switch): it keeps running, backs off with one warning per outage, and afterwards
 * has published everything committed before and after, once per event id, in order per stream.
 */
describe('OutboxRelay through a PostgreSQL outage (real Postgres)', () => {
  let proxy: TcpProxy;
  beforeAll(async () => {
    const target = new URL(databaseUrl());
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('keeps running, logs once, and publishes everything exactly once in order after the database is back', async () => {
    const store = await openPostgresEventStore(viaProxy(databaseUrl(), proxy), { schema: freshSchema(), connectTimeoutMs: 2_000 });
    const bus = new MemoryEventBus();
    const { log, count } = recordingLog();
    const relay = new OutboxRelay({ store, bus, batchSize: 7, pollMs: 20, maxBackoffMs: 200, failureLogEveryMs: 600_000, logger: log }).start();
    try {
      const streamIds = Array.from({ length: 6 }, (_, i) => `pg-down-${i}-${randomUUID()}`);
      const before = await appendConcurrently(store, streamIds, 20, { chunk: 4 });
      relay.wake(before.length);
      await relay.flush(30_000);

      proxy.cut();
      await appendsFailUnavailable(store, streamIds, 20);
      await waitFor(() => relay.stats.failures >= 4, 'the relay to fail against the cut database');
      // Backing off, not spinning, and one warning for the whole outage.
      expect(count('warn', 'relay pass failed; backing off')).toBe(1);

      await proxy.restore();
      const after = await appendConcurrently(store, streamIds, 10, { chunk: 5, fromVersion: 20 });
      relay.wake(after.length);
      await relay.flush(30_000);
      expect(count('info', 'relay publishing again')).toBe(1);

      const published: StoredEvent[] = [];
      for (const s of streamIds) published.push(...(await bus.readStream(s)));
      expect(published.map((e) => e.eventId).sort()).toEqual([...before, ...after].sort());
      for (const s of streamIds) expect((await bus.readStream(s)).map((e) => e.version)).toEqual(range(1, 30));
      expect((await store.loadCursor('kafka-relay')).position).toBeGreaterThan(0);
    } finally {
      await relay.stop();
      await store.close();
    }
  });

  it('rides out PostgreSQL and Kafka down together and publishes everything to the topic once both are back', async () => {
    const topic = `damselfly.test.relay-pg-down.${randomUUID()}`;
    const network = switchableSockets();
    const store = await openPostgresEventStore(viaProxy(databaseUrl(), proxy), { schema: freshSchema(), connectTimeoutMs: 2_000 });
    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, client: { socketFactory: network.factory } });
    const { log, count } = recordingLog();
    const relay = new OutboxRelay({ store, bus, batchSize: 50, pollMs: 20, maxBackoffMs: 300, failureLogEveryMs: 600_000, logger: log }).start();
    try {
      const streamIds = Array.from({ length: 8 }, (_, i) => `both-down-${i}-${randomUUID()}`);
      const before = await appendConcurrently(store, streamIds, 10, { chunk: 5 });
      relay.wake(before.length);
      await relay.flush(30_000);

      proxy.cut();
      network.cut();
      await appendsFailUnavailable(store, streamIds, 10);
      await waitFor(() => relay.stats.failures >= 2, 'the relay to fail with both down');

      // The database returns first: appends commit again while the bus is still away.
      await proxy.restore();
      const during = await appendConcurrently(store, streamIds, 10, { chunk: 5, fromVersion: 10 });
      relay.wake(during.length);
      const failuresSoFar = relay.stats.failures;
      await waitFor(() => relay.stats.failures > failuresSoFar + 1, 'the relay to keep failing on Kafka');
      expect(relay.lag()).toBeGreaterThan(0);
      expect(count('warn', 'relay pass failed; backing off')).toBe(1);

      network.restore();
      await relay.flush(60_000);
      expect(relay.lag()).toBe(0);

      const messages = await readTopic(kafkaBrokers(), topic);
      const result = checkTopic(messages, [...before, ...during], new Map(streamIds.map((s) => [s, 20])));
      expect(result.missing).toEqual([]);
      expect(result.splitStreams).toEqual([]);
      expect(result.badStreams).toEqual([]);
      expect(result.distinct).toBe(160);
      // Nothing was in flight when either connection was cut, so nothing had to be sent twice.
      expect(result.duplicates).toBe(0);
    } finally {
      network.restore();
      await relay.stop();
      await bus.close();
      await store.close();
    }
  });
});
