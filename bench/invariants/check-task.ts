import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { KafkaEventBus } from '../../supernode/bus/kafka-event-bus.ts';
import { acknowledgedPieces, ackViolations, parseAckLog, type AckLine } from './acknowledged-reports.ts';
import { checkedEvent, type CheckedEvent } from './checked-event.ts';
import { kafkaViolations } from './kafka-invariants.ts';
import { epochStarts, streamViolations, type StreamRules } from './stream-invariants.ts';
import type { Violation } from './violation.ts';

export interface TaskCheck extends StreamRules {
  taskId: string;
  databaseUrl: string;
  kafka: { brokers: string[]; topic: string };
  /** Every peer's --ack-log file (each must exist). */
  ackLogs: string[];
  /** Every peer's downloaded file. */
  outputs: string[];
  /** sha256 (hex) of the origin's content. */
  expectedSha256: string;
  /** Bytes the origin sent, and the most it may have sent (about the file size, plus what the scenario's faults allow). */
  originBytes: number;
  maxOriginBytes: number;
  /** How long Kafka may take to catch up with PostgreSQL (the relay publishes after the commit); default 60 s. */
  relayTimeoutMs?: number;
}

export interface TaskCheckReport {
  violations: Violation[];
  events: CheckedEvent[];
  stats: {
    events: number;
    epochs: { epoch: number; version: number; replicaId?: string }[];
    acknowledgedPieces: number;
    kafkaMessages: number;
    kafkaDuplicates: number;
    originBytes: number;
  };
}

/**
 * The chaos suite's invariant checker for one task, against the real PostgreSQL and Kafka: the
 * stream (stream-invariants.ts), the acknowledged reports (acknowledged-reports.ts), Kafka
 * against PostgreSQL (kafka-invariants.ts), the peers' files against the origin's digest, and
 * the origin's bytes against a bound. Returns every violation found; never throws for one.
 * Run it while the replicas still run: Kafka is polled until its relay has caught up.
 */
export async function checkTask(c: TaskCheck): Promise<TaskCheckReport> {
  const violations: Violation[] = [];
  const { postgres, kafka } = await readBoth(c, violations);
  violations.push(...streamViolations(postgres, c));

  const acks: AckLine[] = [];
  for (const path of c.ackLogs) {
    if (!existsSync(path)) {
      violations.push({ invariant: 'ack-log', message: `ack log ${path} is missing: the peer logged no acknowledged report` });
      continue;
    }
    const parsed = parseAckLog(readFileSync(path, 'utf8'), path);
    acks.push(...parsed.acks);
    violations.push(...parsed.violations);
  }
  violations.push(...ackViolations(c.taskId, postgres, acks));

  const compared = kafka ? kafkaViolations(postgres, kafka) : undefined;
  if (compared) violations.push(...compared.violations);

  for (const path of c.outputs) {
    const digest = existsSync(path) ? await sha256File(path) : undefined;
    if (digest !== c.expectedSha256) {
      violations.push({ invariant: 'file-identical', message: `${path} ${digest ? `has sha256 ${digest}` : 'is missing'}, the origin's is ${c.expectedSha256}` });
    }
  }
  if (c.originBytes > c.maxOriginBytes) {
    violations.push({ invariant: 'origin-bytes', message: `the origin sent ${c.originBytes} bytes, more than the ${c.maxOriginBytes} allowed` });
  }
  return {
    violations,
    events: postgres,
    stats: {
      events: postgres.length,
      epochs: epochStarts(postgres),
      acknowledgedPieces: acknowledgedPieces(c.taskId, acks),
      kafkaMessages: kafka?.length ?? 0,
      kafkaDuplicates: compared?.duplicates ?? 0,
      originBytes: c.originBytes,
    },
  };
}

/**
 * PostgreSQL's stream, then Kafka's copy of it, re-read until Kafka holds every event id that
 * PostgreSQL held just before (or the timeout passes: the comparison then reports what is
 * missing). A failed Kafka read is retried until then too: a broker just restarted may still be
 * loading its group coordinator, which says nothing about what the topic holds.
 */
async function readBoth(c: TaskCheck, violations: Violation[]): Promise<{ postgres: CheckedEvent[]; kafka?: CheckedEvent[] }> {
  const deadline = Date.now() + (c.relayTimeoutMs ?? 60_000);
  let bus: KafkaEventBus | undefined;
  try {
    bus = await KafkaEventBus.open({ brokers: c.kafka.brokers, topic: c.kafka.topic, readTimeoutMs: 30_000 });
  } catch (err) {
    violations.push({ invariant: 'kafka-read', message: `cannot open Kafka topic ${c.kafka.topic}: ${(err as Error).message}` });
  }
  try {
    for (;;) {
      const postgres = await readPostgres(c.databaseUrl, c.taskId, violations);
      if (!bus) return { postgres };
      let kafka: CheckedEvent[] | undefined;
      try {
        kafka = (await bus.readStream(c.taskId)).map((e) => ({ version: e.version, epoch: e.epoch, eventId: e.eventId, event: { type: e.type, data: e.data } as CheckedEvent['event'] }));
      } catch (err) {
        if (Date.now() > deadline) {
          violations.push({ invariant: 'kafka-read', message: `reading task ${c.taskId} from Kafka topic ${c.kafka.topic} failed: ${(err as Error).message}` });
          return { postgres };
        }
      }
      const inKafka = new Set(kafka?.map((e) => e.eventId));
      if (kafka && (postgres.every((e) => inKafka.has(e.eventId)) || Date.now() > deadline)) return { postgres, kafka };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await bus?.close();
  }
}

/**
 * The stream read from the events table's own columns, not through the event store under test.
 * Rows that fail the event schema are reported and left out (the version check then shows the hole).
 */
export async function readPostgres(databaseUrl: string, taskId: string, violations: Violation[]): Promise<CheckedEvent[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ version: number; epoch: string; event_id: string; type: string; data: unknown }>(
      'SELECT version, epoch, event_id, type, data FROM events WHERE stream_id = $1 ORDER BY version',
      [taskId],
    );
    const out: CheckedEvent[] = [];
    for (const row of rows) {
      const checked = checkedEvent({ version: row.version, epoch: Number(row.epoch), eventId: row.event_id, type: row.type, data: row.data }, 'PostgreSQL');
      if ('invariant' in checked) {
        if (!violations.some((v) => v.message === checked.message)) violations.push(checked);
      } else out.push(checked);
    }
    return out;
  } finally {
    await client.end();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
