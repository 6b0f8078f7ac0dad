import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaEventBus } from '../../../supernode/bus/kafka-event-bus.ts';
import { KafkaSockets } from '../../../supernode/bus/kafka-sockets.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { kafkaBrokers } from '../../shared/env.ts';
import { collector, interleave, manyStreams, waitFor } from '../../shared/event-bus-conformance.ts';

const topic = `damselfly.test.subscription.${randomUUID()}`;

/** A LogSink that keeps the messages, to wait for what the subscription reports. */
function recordingLog(): LogSink & { messages: string[] } {
  const messages: string[] = [];
  const keep = (_: object, msg?: string) => void messages.push(msg ?? '');
  return { messages, debug: keep, info: keep, warn: keep, error: keep };
}

/**
 * A socket factory with an off switch, for one client only (the shared broker keeps running):
 * `cut()` destroys its connections and refuses new ones, as a broker that went away.
 */
function switchableSockets() {
  const open = new Set<net.Socket>();
  let down = false;
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    if (down) {
      const dead = new net.Socket();
      process.nextTick(() => dead.destroy(Object.assign(new Error('connect ECONNREFUSED (cut by the test)'), { code: 'ECONNREFUSED' })));
      return dead;
    }
    const socket = net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    cut() {
      down = true;
      for (const s of open) s.destroy(new Error('connection cut by the test'));
    },
    restore() {
      down = false;
    },
  };
}

describe('a Kafka subscription across broker trouble', () => {
  let pub: KafkaEventBus;
  let raw: Kafka;
  beforeAll(async () => {
    pub = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, partitions: 2, clientId: 'subscription-test' });
    raw = new Kafka({ brokers: kafkaBrokers(), clientId: 'subscription-test-raw', logLevel: logLevel.NOTHING });
  });
  afterAll(async () => {
    await pub?.close();
  });

  // After a broker restart the group still lists its member from before the restart, and the
  // broker holds a new member's JoinGroup until that one's session ends. kafkajs' disconnect
  // waits for the held request and then carries on joining: a supernode's stop hung on it
  // (the test's timeout, well inside that session, is what catches a hang).
  it('stops at once while the broker holds its join, and leaves no connection behind', async () => {
    const groupId = `held-${randomUUID()}`;
    // The member from "before the restart": joined, then gone without leaving the group.
    const goneSockets = new KafkaSockets();
    const gone = new Kafka({ brokers: kafkaBrokers(), clientId: 'subscription-test-gone', logLevel: logLevel.NOTHING, socketFactory: goneSockets.factory() });
    const member = gone.consumer({ groupId, sessionTimeout: 60_000, retry: { retries: 0, restartOnFailure: async () => false } });
    let joined = false;
    member.on(member.events.GROUP_JOIN, () => (joined = true));
    await member.connect();
    await member.subscribe({ topics: [topic], fromBeginning: true });
    await member.run({ eachBatch: async () => undefined });
    await waitFor(() => joined, 'the first member to join');
    goneSockets.close('the first member is gone');

    const made: net.Socket[] = [];
    const counting: ISocketFactory = ({ host, port, onConnect }) => {
      const socket = net.connect({ host, port }, onConnect);
      made.push(socket);
      return socket;
    };
    const log = recordingLog();
    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, clientId: 'subscription-test-held', logger: log, client: { socketFactory: counting } });
    const admin = raw.admin();
    try {
      const stop = await bus.subscribe(groupId, async () => undefined);
      // The join is held: the group waits (up to the gone member's 60 s session) for it to rejoin.
      await admin.connect();
      await waitUntil(async () => (await admin.describeGroups([groupId])).groups[0]?.state === 'PreparingRebalance', 'the held join');
      await stop();
      expect(log.messages).toContain('kafka consumer did not leave its group in time (a join held by the broker?); cutting its connections');
      await bus.close();
      // Before, kafkajs kept them (and the consumer, joining on once the broker answered).
      expect(made.filter((s) => !s.destroyed)).toEqual([]);
    } finally {
      await bus.close();
      await admin.disconnect();
      await member.disconnect().catch(() => undefined);
    }
  }, 30_000);

  it('replaces a consumer that crashed while the broker was unreachable, and goes on consuming', async () => {
    const link = switchableSockets();
    const log = recordingLog();
    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, clientId: 'subscription-test-outage', logger: log, client: { socketFactory: link.factory } });
    try {
      const before = manyStreams('before', 2, 5);
      const after = manyStreams('after', 2, 5);
      const seen = collector([...interleave(before), ...interleave(after)]);
      const seenBefore = collector(interleave(before));
      await pub.publish(interleave(before));
      const stop = await bus.subscribe(`outage-${randomUUID()}`, async (batch) => {
        seen.add(batch);
        seenBefore.add(batch);
      });
      await seenBefore.complete();
      link.cut();
      // kafkajs gives up after its retries: the consumer crashes (and kafkajs alone would leave it dead on some errors).
      await waitFor(() => log.messages.includes('kafka consumer crashed'), 'the consumer to crash');
      await waitFor(() => log.messages.includes('could not start a new kafka consumer'), 'a replacement to fail while cut off');
      link.restore();
      await pub.publish(interleave(after));
      await seen.complete();
      await stop();
    } finally {
      await bus.close();
    }
  }, 60_000);
});

/** waitFor with an asynchronous condition. */
async function waitUntil(done: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
