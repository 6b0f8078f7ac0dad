import { Kafka, type Consumer, type EachBatchPayload, type KafkaConfig } from 'kafkajs';
import type { StoredEvent } from '../../core/events/index.ts';
import { RepeatLimiter } from '../../edge/log/repeat-limiter.ts';
import { settlesWithin } from '../settles-within.ts';
import { deliverWithRetry, type BatchHandler } from './deliver-with-retry.ts';
import { fromKafkaMessage } from './kafka-message.ts';
import { KafkaSockets } from './kafka-sockets.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';

export interface KafkaSubscription {
  /** The bus's client settings: the subscription makes a client of its own, whose connections it can cut. */
  config: KafkaConfig;
  topic: string;
  groupId: string;
  handle: BatchHandler;
  log: LogSink;
  /** How long a stop waits for the consumer to leave its group before cutting its connections. */
  leaveTimeoutMs?: number;
  /** Where the group starts when it has no committed offsets: the topic's beginning, or its end. */
  fromBeginning: boolean;
  /** First wait before replacing a crashed consumer; doubles while the replacements crash too. */
  restartDelayMs?: number;
}

/** The longest wait between two replacements (as the relay's backoff: a broker back is seen within seconds). */
const MAX_RESTART_DELAY_MS = 5_000;

/**
 * A consumer-group member that hands each fetched batch (one partition's messages, in offset
 * order) to `handle` and commits the offset after it only once `handle` resolved. A crash or
 * stop before the commit means the batch is delivered again: at-least-once.
 *
 * A malformed message is logged and fails the batch, which is then retried: the partition
 * stalls visibly (an operator must act) rather than skipping an event.
 *
 * Resolves once the consumer is connected and subscribed; joining the group goes on in the
 * background (after a broker restart the broker can hold a join until the group's pre-restart
 * member's session ends). It outlives broker outages: a consumer that crashed — whatever
 * kafkajs thinks of the error, e.g. "Failed to find group coordinator", after which kafkajs
 * itself would not restart — is replaced by a new one in the same group, with a growing delay.
 * The returned stop never hangs and leaves nothing running (see KafkaSockets).
 */
export async function startKafkaSubscription(s: KafkaSubscription): Promise<() => Promise<void>> {
  const sockets = new KafkaSockets();
  const kafka = new Kafka({ ...s.config, socketFactory: sockets.factory(s.config.socketFactory) });
  const restartDelayMs = s.restartDelayMs ?? 250;
  let stopping = false;
  let current: Consumer | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  /** Replacements since the group was last joined (the delay doubles with each). */
  let replacements = 0;
  // While the broker is away every replacement fails: one warning, then one per 10 s.
  const failures = new RepeatLimiter(10_000);

  const start = async (): Promise<void> => {
    const consumer = kafka.consumer({
      groupId: s.groupId,
      // maxWaitTimeInMs bounds how long a stop waits for an idle fetch to return.
      maxWaitTimeInMs: 500,
      // A member that vanished without leaving (a crashed consumer, or every member across a
      // broker restart) holds up its successor's join until this session ends: 10 s rather
      // than kafkajs' 30 s. Heartbeats go out between batches and while a batch is retried.
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 4 << 20,
      // kafkajs' default retries; its own restart after a crash is off, replaced below: it
      // skips the errors it deems fatal, and it restarts even a consumer being stopped.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    current = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (stopping || current !== consumer) return;
      s.log.error({ err: payload.error, groupId: s.groupId }, 'kafka consumer crashed');
      replaceLater();
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (replacements === 0) return;
      failures.reset('start failed');
      s.log.info({ groupId: s.groupId, replacements }, 'kafka consumer back in its group');
      replacements = 0;
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [s.topic], fromBeginning: s.fromBeginning });
    } catch (err) {
      await consumer.disconnect().catch((e: Error) => s.log.debug({ err: e, groupId: s.groupId }, 'disconnecting a consumer that failed to start'));
      throw err;
    }
    // A replacement started by the timer may meet a stop() halfway.
    if (stopping) {
      await consumer.disconnect();
      return;
    }
    // Not awaited: run() resolves once the group is joined (or the join crashed: CRASH above).
    consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => deliverBatch(consumer, payload) }).catch((err: Error) => {
      if (stopping || current !== consumer) return;
      s.log.error({ err, groupId: s.groupId }, 'kafka consumer failed to run');
      // A consumer that crashed may fail to disconnect too; it is replaced either way (logged above).
      void consumer.disconnect().catch(() => undefined).finally(replaceLater);
    });
  };

  const replaceLater = (): void => {
    const waitMs = Math.min(MAX_RESTART_DELAY_MS, restartDelayMs * 2 ** Math.min(replacements, 16));
    replacements += 1;
    s.log.debug({ groupId: s.groupId, waitMs }, 'starting a new kafka consumer');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopping) return;
      start().catch((err: Error) => {
        if (stopping) return;
        const held = failures.pass('start failed');
        if (held !== undefined) s.log.warn({ err, groupId: s.groupId, ...(held > 0 ? { repeated: held } : {}) }, 'could not start a new kafka consumer');
        replaceLater();
      });
    }, waitMs);
  };

  const deliverBatch = async (consumer: Consumer, { batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> => {
    if (batch.isEmpty()) return;
    const where = `kafka ${s.topic} p${batch.partition} group ${s.groupId}`;
    const handleDecoded = async () => {
      const events: StoredEvent[] = [];
      for (const m of batch.messages) events.push(fromKafkaMessage(m, batch.partition));
      await s.handle(events);
    };
    const handled = await deliverWithRetry(handleDecoded, {
      isRunning: () => !stopping && isRunning() && !isStale(),
      heartbeat: () =>
        heartbeat().catch((err) => {
          // A failed heartbeat means a rebalance; isStale() turns true and the batch is
          // left to the partition's next owner.
          s.log.debug({ err, where }, 'heartbeat failed while retrying a batch');
        }),
      log: s.log,
      where,
      events: batch.messages.length,
    });
    if (!handled) return;
    const last = batch.lastOffset();
    resolveOffset(last);
    await consumer.commitOffsets([{ topic: s.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
  };

  try {
    await start();
  } catch (err) {
    sockets.close('the kafka subscription failed to start');
    throw err;
  }
  return async () => {
    stopping = true;
    clearTimeout(restartTimer);
    const leaveTimeoutMs = s.leaveTimeoutMs ?? 2_000;
    // Politely first: leaving the group spares its other members a session timeout.
    const leaving = current?.disconnect() ?? Promise.resolve();
    const outcome = await settlesWithin(leaving, leaveTimeoutMs);
    if (outcome === 'late') s.log.warn({ groupId: s.groupId, leaveTimeoutMs }, 'kafka consumer did not leave its group in time (a join held by the broker?); cutting its connections');
    else if (outcome instanceof Error) s.log.warn({ err: outcome, groupId: s.groupId }, 'kafka consumer failed to disconnect; cutting its connections');
    // Always: whatever kafkajs still runs of this subscription fails now and cannot reconnect.
    sockets.close('the kafka subscription was stopped');
    if (outcome === 'late') await settlesWithin(leaving, leaveTimeoutMs);
  };
}
