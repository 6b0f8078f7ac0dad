import type { StoredEvent } from '../../../core/events/index.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';
import { Deduplicator } from '../../../supernode/read-model/deduplicator.ts';
import { range, sampleEvents } from '../../shared/event-bus-conformance.ts';
import type { TopicMessage } from './read-topic.ts';

/**
 * Appends `perStream` events to each of `streams` task streams, `chunk` events per append,
 * all streams concurrently (each stream's appends in order), so that transactions commit
 * interleaved as on a busy supernode. Returns the ids appended.
 */
export async function appendConcurrently(
  store: Pick<EventStore, 'append'>,
  streamIds: string[],
  perStream: number,
  opts: { chunk?: number; fromVersion?: number } = {},
): Promise<string[]> {
  const chunk = opts.chunk ?? 10;
  const from = opts.fromVersion ?? 0;
  const ids: string[] = [];
  await Promise.all(
    streamIds.map(async (streamId) => {
      const events = sampleEvents(streamId, perStream, from + 1);
      ids.push(...events.map((e) => e.eventId));
      for (let i = 0; i < perStream; i += chunk) {
        await store.append(streamId, from + i, events.slice(i, i + chunk), { epoch: 1 });
      }
    }),
  );
  return ids;
}

/** What the topic holds, checked: every id there, duplicates exact copies, order per stream. */
export function checkTopic(messages: TopicMessage[], expectedIds: string[], streams: Map<string, number>) {
  const byId = new Map<string, StoredEvent>();
  let duplicates = 0;
  for (const m of messages) {
    if (m.key !== m.event.streamId) throw new Error(`message key ${m.key} is not its stream ${m.event.streamId}`);
    const first = byId.get(m.event.eventId);
    if (first) {
      duplicates += 1;
      if (JSON.stringify(first) !== JSON.stringify(m.event)) throw new Error(`event ${m.event.eventId} re-published with different content`);
    } else byId.set(m.event.eventId, m.event);
  }
  const missing = expectedIds.filter((id) => !byId.has(id));
  // Keyed by task id: each stream must sit in exactly one partition.
  const partitionsOf = new Map<string, Set<number>>();
  for (const m of messages) partitionsOf.set(m.key, (partitionsOf.get(m.key) ?? new Set()).add(m.partition));
  const splitStreams = [...partitionsOf].filter(([, ps]) => ps.size > 1).map(([key]) => key);
  // Partition order is log order; after dedupe each stream must read 1..n.
  const applied = new Deduplicator().filter(messages.map((m) => m.event));
  const badStreams: string[] = [];
  for (const [streamId, n] of streams) {
    const versions = applied.filter((e) => e.streamId === streamId).map((e) => e.version);
    if (JSON.stringify(versions) !== JSON.stringify(range(1, n))) {
      badStreams.push(streamId);
      // Diagnostics for a failing run: where each of the stream's messages sits on the topic.
      const where = messages.filter((m) => m.event.streamId === streamId).map((m) => `v${m.event.version}@p${m.partition}o${m.offset}`);
      console.error(`stream ${streamId} out of order on the topic: ${where.join(' ')}`);
    }
  }
  return { distinct: byId.size, duplicates, missing, splitStreams, badStreams };
}
