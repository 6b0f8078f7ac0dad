import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ensureTopic } from '../../../supernode/bus/kafka-topic.ts';
import { silentLog } from '../../../edge/log/log-sink.ts';

type Metadata = Awaited<ReturnType<Admin['fetchTopicMetadata']>>;

/** An admin whose metadata answers come from `answers` in turn (an Error is thrown); it counts the calls. */
function fakeAdmin(answers: (Error | Metadata)[], created = true) {
  const calls = { create: 0, metadata: 0 };
  const admin = {
    createTopics: async () => (calls.create++, created),
    fetchTopicMetadata: async () => {
      const answer = answers[Math.min(calls.metadata++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Admin;
  return { admin, calls };
}

const protocolError = (type: string) => Object.assign(new Error(type), { type });
const withLeaders = (...leaders: number[]): Metadata => ({
  topics: [{ name: 't', partitions: leaders.map((leader, partitionId) => ({ partitionId, leader, replicas: [], isr: [], offlineReplicas: [], partitionErrorCode: 0 })) }],
});
const spec = { topic: 't', partitions: 2, replicationFactor: 1, timeoutMs: 5_000, log: silentLog };

describe('ensureTopic', () => {
  it('waits through "does not host this topic-partition" and partitions without a leader', async () => {
    const { admin, calls } = fakeAdmin([protocolError('UNKNOWN_TOPIC_OR_PARTITION'), withLeaders(1, -1), withLeaders(1, 1)], false);
    await ensureTopic(admin, spec);
    expect(calls.metadata).toBe(3);
  });

  it('recognises the error inside kafkajs\' retry wrapper (its cause)', async () => {
    const wrapped = Object.assign(new Error('retries exceeded'), { cause: protocolError('LEADER_NOT_AVAILABLE') });
    const { admin, calls } = fakeAdmin([wrapped, withLeaders(1, 1)]);
    await ensureTopic(admin, spec);
    expect(calls.metadata).toBe(2);
  });

  it('fails at once on any other error, and after the timeout when leaders never come', async () => {
    await expect(ensureTopic(fakeAdmin([protocolError('TOPIC_AUTHORIZATION_FAILED')]).admin, spec)).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    await expect(ensureTopic(fakeAdmin([withLeaders(-1, 1)]).admin, { ...spec, timeoutMs: 300 })).rejects.toThrow(/no leader for every partition/);
  });
});
