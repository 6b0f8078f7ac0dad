import type { Admin } from 'kafkajs';
import type { LogSink } from '../../edge/log/log-sink.ts';
import { DamselflyError } from '../../core/errors.ts';

export interface TopicSpec {
  topic: string;
  /** Used only when the topic does not exist yet. */
  partitions: number;
  replicationFactor: number;
  /** How long the topic may take to have a leader for every partition. */
  timeoutMs: number;
  log: LogSink;
}

/**
 * Errors a broker answers while a topic is being created or its leaders elected. KRaft
 * brokers learn of a new topic from the metadata log a moment after the controller accepts
 * it, so "does not host this topic-partition" right after a successful create is normal;
 * kafkajs' own `waitForLeaders` retries only LEADER_NOT_AVAILABLE, and a replica that lost
 * the create race (TOPIC_ALREADY_EXISTS) does not wait at all. Seen in CI: replicas started
 * together on a fresh topic exited with UNKNOWN_TOPIC_OR_PARTITION.
 */
const TOPIC_NOT_READY = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_FOR_PARTITION', 'NOT_CONTROLLER']);

function notReady(err: unknown): boolean {
  for (let e = err as { type?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.type && TOPIC_NOT_READY.has(e.type)) return true;
  }
  return false;
}

/**
 * Creates the topic if it is missing and returns once every partition has a leader, so the
 * first publish and the first partition lookup find it. Concurrent callers (replicas starting
 * together) are fine: the loser of the create race waits for the same leaders.
 */
export async function ensureTopic(admin: Admin, spec: TopicSpec): Promise<void> {
  const deadline = Date.now() + spec.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.createTopics({
        topics: [{ topic: spec.topic, numPartitions: spec.partitions, replicationFactor: spec.replicationFactor }],
        waitForLeaders: false,
      });
      const { topics } = await admin.fetchTopicMetadata({ topics: [spec.topic] });
      const partitions = topics.find((t) => t.name === spec.topic)?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
      if (Date.now() >= deadline) throw new DamselflyError('DF_ERR_UNAVAILABLE', `kafka topic ${spec.topic} has no leader for every partition after ${spec.timeoutMs} ms`);
    } catch (err) {
      if (!notReady(err) || Date.now() >= deadline) throw err;
      if (attempt === 1) spec.log.info({ topic: spec.topic, reason: (err as Error).message }, 'waiting for the kafka topic to be ready');
    }
    await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 1_000)));
  }
}
