import { Kafka, Partitioners, type Admin, type KafkaConfig, type Message, type PartitionMetadata, type Producer } from 'kafkajs';
import { MalformedEvent, type StoredEvent } from '../../core/events/index.ts';
import { settlesWithin } from '../settles-within.ts';
import type { EventBus, SubscribeOptions } from './event-bus.ts';
import { KAFKA_LOG_LEVEL, kafkaLogCreator } from './kafka-log.ts';
import { toKafkaMessage } from './kafka-message.ts';
import { KafkaSockets } from './kafka-sockets.ts';
import { ensureTopic } from './kafka-topic.ts';
import { readKeyFromPartition } from './kafka-stream-reader.ts';
import { startKafkaSubscription } from './kafka-subscription.ts';
import { silentLog, type LogSink } from '../../edge/log/log-sink.ts';
import { DamselflyError } from '../../core/errors.ts';

/** Bytes of message values per produce request: under the broker's default message.max.bytes (1 MB) with room for keys and headers. */
const SEND_BYTES = 768 * 1024;

export const DEFAULT_TOPIC = 'damselfly.task-events';

export interface KafkaEventBusOptions {
  brokers: string[];
  topic?: string;
  /** Used only when the topic does not exist yet. */
  partitions?: number;
  replicationFactor?: number;
  clientId?: string;
  logger?: LogSink;
  /** Longest a readStream may take before failing (it joins a throw-away consumer group). */
  readTimeoutMs?: number;
  /** Passed to kafkajs unchanged (TLS/SASL in production; tests inject a socket factory). */
  client?: Omit<KafkaConfig, 'brokers' | 'clientId' | 'logLevel' | 'logCreator'>;
  /** How long close() (and a subscription's stop) waits for kafkajs' own disconnect before cutting the connections. */
  closeTimeoutMs?: number;
}

/**
 * The EventBus on Kafka via kafkajs. Topic partitioned by task: key = stream id, so a task's
 * events stay in one partition, in stream order.
 *
 * Ordering across retries: the producer runs with `maxInFlightRequests: 1` and `acks: -1`.
 * With more than one request in flight, a failed request retried after a later one succeeded
 * would land after it and break per-task order; with one in flight a retry can only re-send
 * (a duplicate the consumers drop by version), never reorder. The relay also awaits each
 * publish before the next. We do not use Kafka transactions or kafkajs' experimental
 * idempotent producer: consumers are idempotent instead (supernode/read-model/deduplicator.ts).
 */
export class KafkaEventBus implements EventBus {
  private readonly stops = new Set<() => Promise<void>>();
  private closed = false;

  private constructor(
    /** The client's settings, for the subscriptions' own clients. */
    private readonly config: KafkaConfig,
    private readonly kafka: Kafka,
    /** The connections of `kafka` (producer, admin, stream reads): cut by close() if they linger. */
    private readonly sockets: KafkaSockets,
    private readonly admin: Admin,
    private readonly producer: Producer,
    readonly topic: string,
    private readonly log: LogSink,
    private readonly readTimeoutMs: number,
    private readonly closeTimeoutMs: number,
  ) {}

  /** Connects, and creates the topic if it is missing. */
  static async open(opts: KafkaEventBusOptions): Promise<KafkaEventBus> {
    const log = opts.logger ?? silentLog;
    const topic = opts.topic ?? DEFAULT_TOPIC;
    const config: KafkaConfig = {
      connectionTimeout: 3_000,
      requestTimeout: 15_000,
      // Short client-side retries: the relay has its own capped backoff and must see a
      // broker outage within seconds, not after kafkajs' default half-minute of retries.
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
      ...opts.client,
      brokers: opts.brokers,
      clientId: opts.clientId ?? 'damselfly-supernode',
      logLevel: KAFKA_LOG_LEVEL,
      logCreator: kafkaLogCreator(log),
    };
    const sockets = new KafkaSockets();
    const kafka = new Kafka({ ...config, socketFactory: sockets.factory(config.socketFactory) });
    const admin = kafka.admin();
    const producer = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      maxInFlightRequests: 1,
      idempotent: false,
      allowAutoTopicCreation: false,
    });
    try {
      await admin.connect();
      await ensureTopic(admin, { topic, partitions: opts.partitions ?? 8, replicationFactor: opts.replicationFactor ?? 1, timeoutMs: 30_000, log });
      await producer.connect();
    } catch (err) {
      await Promise.allSettled([admin.disconnect(), producer.disconnect()]);
      sockets.close('the kafka event bus failed to open');
      throw err;
    }
    return new KafkaEventBus(config, kafka, sockets, admin, producer, topic, log, opts.readTimeoutMs ?? 60_000, opts.closeTimeoutMs ?? 2_000);
  }

  /**
   * Sends in order, in requests of at most SEND_BYTES of values. kafkajs makes one record batch
   * per partition of a request, and a broker refuses a batch above its message.max.bytes (1 MB
   * by default) — for good, since the relay would send the same batch again. One task's events
   * share a partition, and a sync's report is up to tens of KB: a relay backlog of 1,000 of
   * them is many MB.
   */
  async publish(events: StoredEvent[]): Promise<void> {
    let messages: Message[] = [];
    let bytes = 0;
    for (const event of events) {
      const message = toKafkaMessage(event);
      const size = Buffer.byteLength(message.value as string);
      if (messages.length > 0 && bytes + size > SEND_BYTES) {
        await this.producer.send({ topic: this.topic, acks: -1, messages });
        messages = [];
        bytes = 0;
      }
      messages.push(message);
      bytes += size;
    }
    if (messages.length > 0) await this.producer.send({ topic: this.topic, acks: -1, messages });
  }

  async subscribe(groupId: string, handle: (events: StoredEvent[]) => Promise<void>, opts: SubscribeOptions = {}): Promise<() => Promise<void>> {
    const stopConsumer = await startKafkaSubscription({
      config: this.config, topic: this.topic, groupId, handle, log: this.log, leaveTimeoutMs: this.closeTimeoutMs, fromBeginning: opts.from !== 'end',
    });
    const stop = async () => {
      this.stops.delete(stop);
      await stopConsumer();
      if (opts.ephemeral) await this.deleteGroup(groupId);
    };
    this.stops.add(stop);
    return stop;
  }

  async readStream(streamId: string): Promise<StoredEvent[]> {
    // Right after a broker restart kafkajs can fail a fresh consumer before it has joined its
    // group ("Consumer group was not initialized"): a read is cheap to start over, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        const partition = await this.partitionFor(streamId);
        return await readKeyFromPartition({
          kafka: this.kafka,
          admin: this.admin,
          topic: this.topic,
          partition,
          key: streamId,
          timeoutMs: this.readTimeoutMs,
        });
      } catch (err) {
        if (err instanceof MalformedEvent || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 500 * attempt));
      }
    }
  }

  /** Best effort, bounded: a group the broker keeps (it is away, or a member lingers) expires on its own. */
  private async deleteGroup(groupId: string): Promise<void> {
    const outcome = await settlesWithin(this.admin.deleteGroups([groupId]), this.closeTimeoutMs);
    if (outcome !== 'done') this.log.debug({ groupId, err: outcome === 'late' ? 'timed out' : outcome.message }, 'could not delete an ephemeral consumer group');
  }

  /**
   * The partition the producer sends `streamId` to: the same DefaultPartitioner (murmur2 of
   * the key modulo the partition count, as the Java client) over fresh metadata.
   */
  async partitionFor(streamId: string): Promise<number> {
    const partitionMetadata = await this.partitions();
    return partitioner({ topic: this.topic, partitionMetadata, message: { key: streamId, value: null } });
  }

  private async partitions(): Promise<PartitionMetadata[]> {
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [this.topic] });
    const meta = topics.find((t) => t.name === this.topic);
    if (!meta || meta.partitions.length === 0) throw new DamselflyError('DF_ERR_UNAVAILABLE', `kafka topic ${this.topic} has no partitions`);
    return meta.partitions;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.stops].map((stop) => stop()));
    const disconnecting = Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
    const outcome = await settlesWithin(disconnecting, this.closeTimeoutMs);
    if (outcome === 'late') this.log.warn({ closeTimeoutMs: this.closeTimeoutMs }, 'kafka producer did not disconnect in time; cutting its connections');
    // Always: nothing of this client may linger (and keep the process alive) after close().
    this.sockets.close('the kafka event bus was closed');
    if (outcome === 'late') await settlesWithin(disconnecting, this.closeTimeoutMs);
  }
}

// The keyed path of DefaultPartitioner is stateless (its round-robin counter is only used for
// keyless messages), so one instance serves every lookup.
const partitioner = Partitioners.DefaultPartitioner();
