import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type NewEvent, type StoredEvent } from '../../core/events/index.ts';
import type { EventBus } from '../../supernode/bus/event-bus.ts';
import { Deduplicator } from '../../supernode/read-model/deduplicator.ts';

/**
 * The contract every EventBus adapter keeps (memory and Kafka run this same suite):
 * round trip in order, per-stream order across many interleaved streams, at-least-once
 * delivery to consumer groups (redelivery after a failing handler, resume from committed
 * offsets), and that the consumer-side Deduplicator turns that into exactly-once per stream.
 *
 * Tests share one bus (and, for Kafka, one topic per test file), so each uses fresh stream
 * ids and group ids and only looks at its own streams.
 */
export function eventBusConformance(name: string, open: () => Promise<EventBus>): void {
  describe(`EventBus conformance: ${name}`, () => {
    let bus: EventBus;
    beforeAll(async () => {
      bus = await open();
    });
    afterAll(async () => {
      await bus?.close();
    });

    it('round-trips a stream published over several calls, in order and unchanged', async () => {
      const events = storedStream(`rt-${randomUUID()}`, 50);
      await bus.publish(events.slice(0, 10));
      await bus.publish(events.slice(10, 11));
      await bus.publish(events.slice(11));
      expect(await bus.readStream(events[0]!.streamId)).toEqual(events);
      expect(await bus.readStream(`absent-${randomUUID()}`)).toEqual([]);
    });

    it('keeps per-stream order across many interleaved streams', async () => {
      const streams = manyStreams('order', 20, 25);
      for (const batch of chunks(interleave(streams), 37)) await bus.publish(batch);
      for (const stream of streams) {
        const read = await bus.readStream(stream[0]!.streamId);
        expect(read.map((e) => e.version)).toEqual(range(1, 25));
        expect(read.map((e) => e.eventId)).toEqual(stream.map((e) => e.eventId));
      }
    });

    it('delivers every event to a group at least once, each stream in order', async () => {
      const streams = manyStreams('sub', 10, 20);
      const all = interleave(streams);
      await bus.publish(all.slice(0, 100));
      const seen = collector(all);
      const stop = await bus.subscribe(`g-${randomUUID()}`, async (batch) => seen.add(batch));
      await bus.publish(all.slice(100));
      await seen.complete();
      await stop();
      seen.expectEachStreamInOrder(streams);
    });

    it('redelivers a batch whose handler failed; the Deduplicator makes it exactly-once', async () => {
      const streams = manyStreams('redeliver', 5, 30);
      const all = interleave(streams);
      await bus.publish(all);
      const seen = collector(all);
      const dedupe = new Deduplicator();
      const applied: StoredEvent[] = [];
      let crashed = false;
      const stop = await bus.subscribe(`g-${randomUUID()}`, async (batch) => {
        seen.add(batch);
        applied.push(...dedupe.filter(batch));
        // Fails after having applied the batch, the worst case for idempotence.
        if (!crashed && batch.some((e) => seen.mine(e))) {
          crashed = true;
          throw new Error('handler crashed after applying');
        }
      });
      await seen.complete();
      await stop();
      const mine = applied.filter((e) => seen.mine(e));
      expect(mine).toHaveLength(all.length);
      for (const stream of streams) {
        expect(mine.filter((e) => e.streamId === stream[0]!.streamId).map((e) => e.version)).toEqual(range(1, 30));
      }
      expect(crashed).toBe(true);
      expect(seen.deliveries()).toBeGreaterThan(all.length);
      expect(dedupe.counts.duplicates).toBeGreaterThan(0);
    });

    it('resumes a group from its committed offsets', async () => {
      const group = `g-${randomUUID()}`;
      const first = manyStreams('resume-a', 4, 10);
      await bus.publish(interleave(first));
      const seenA = collector(interleave(first));
      let stop = await bus.subscribe(group, async (batch) => seenA.add(batch));
      await seenA.complete();
      await stop();

      const second = manyStreams('resume-b', 4, 10);
      await bus.publish(interleave(second));
      const seenB = collector(interleave(second));
      const replayedOld: StoredEvent[] = [];
      stop = await bus.subscribe(group, async (batch) => {
        seenB.add(batch);
        replayedOld.push(...batch.filter((e) => seenA.mine(e)));
      });
      await seenB.complete();
      await stop();
      expect(replayedOld).toEqual([]);
    });

    it('forgets an ephemeral group when it stops: the same id starts over from the log\'s start', async () => {
      const group = `geph-${randomUUID()}`;
      const events = storedStream(`eph-${randomUUID()}`, 8);
      await bus.publish(events);
      const mine = (batch: StoredEvent[]) => batch.filter((e) => e.streamId === events[0]!.streamId);
      const first: StoredEvent[] = [];
      let stop = await bus.subscribe(group, async (batch) => void first.push(...mine(batch)), { ephemeral: true });
      await waitFor(() => first.length >= events.length, 'the ephemeral group to read the stream');
      await stop();
      // A kept group would resume after its committed offsets and see nothing of the stream again.
      const again: StoredEvent[] = [];
      stop = await bus.subscribe(group, async (batch) => void again.push(...mine(batch)), { ephemeral: true });
      await waitFor(() => again.length >= events.length, 'the same group id to read the stream from the start again');
      await stop();
      expect(again.slice(0, events.length).map((e) => e.version)).toEqual(events.map((e) => e.version));
    });

    it('starts a new group at the end of the log when asked: only what is published after it joined', async () => {
      const before = storedStream(`end-before-${randomUUID()}`, 5);
      await bus.publish(before);
      const seen: StoredEvent[] = [];
      const stop = await bus.subscribe(`gend-${randomUUID()}`, async (batch) => void seen.push(...batch), { from: 'end' });
      // Joining a Kafka group takes a moment: publish markers until one arrives.
      const markers = storedStream(`end-after-${randomUUID()}`, 60);
      for (let i = 0; i < markers.length && !seen.some((e) => e.streamId === markers[0]!.streamId); i++) {
        await bus.publish([markers[i]!]);
        await new Promise((r) => setTimeout(r, 500));
      }
      await stop();
      expect(seen.some((e) => e.streamId === markers[0]!.streamId)).toBe(true);
      expect(seen.filter((e) => e.streamId === before[0]!.streamId)).toEqual([]);
    });

    it('gives each group its own copy of the log', async () => {
      const streams = manyStreams('groups', 3, 10);
      await bus.publish(interleave(streams));
      const a = collector(interleave(streams));
      const b = collector(interleave(streams));
      const stops = await Promise.all([
        bus.subscribe(`ga-${randomUUID()}`, async (batch) => a.add(batch)),
        bus.subscribe(`gb-${randomUUID()}`, async (batch) => b.add(batch)),
      ]);
      await Promise.all([a.complete(), b.complete()]);
      await Promise.all(stops.map((stop) => stop()));
    });
  });
}

/** A valid task stream's events, not yet stored: TaskCreated, SourceProbed, then seeds and joins. */
export function sampleEvents(streamId: string, count: number, firstVersion = 1): NewEvent[] {
  const out: NewEvent[] = [];
  for (let v = firstVersion; v < firstVersion + count; v++) {
    const base = { eventId: randomUUID(), schemaVersion: SCHEMA_VERSION };
    const at = 1_700_000_000_000 + v;
    if (v === 1) {
      out.push({ ...base, type: 'TaskCreated', data: { taskId: streamId, url: `https://origin.test/${streamId}`, digest: null, identifier: null, range: null, filter: [], at } });
    } else if (v === 2) {
      out.push({ ...base, type: 'SourceProbed', data: { contentLength: 1 << 30, pieceSize: 4 << 20, pieceCount: 256, acceptRanges: true, etag: null, lastModified: null, at } });
    } else if (v % 2 === 1) {
      out.push({ ...base, type: 'PiecesSeeded', data: { pieces: [{ piece: v % 256, size: 4 << 20, digest: (v % 256).toString(16).padStart(64, '0') }], at } });
    } else {
      out.push({ ...base, type: 'PeerJoined', data: { peerId: `peer-${v}`, hostId: `host-${v}`, address: `127.0.0.1:${40000 + v}`, at } });
    }
  }
  return out;
}

/** `sampleEvents` as a store would return them (versions from 1, positions, an epoch). */
export function storedStream(streamId: string, count: number, epoch = 1): StoredEvent[] {
  return sampleEvents(streamId, count).map((e, i) => ({ ...e, streamId, version: i + 1, position: i + 1, epoch, recordedAt: 1_700_000_000_000 + i }));
}

export function manyStreams(prefix: string, streams: number, perStream: number): StoredEvent[][] {
  const run = randomUUID().slice(0, 8);
  return Array.from({ length: streams }, (_, s) => storedStream(`${prefix}-${run}-${s}`, perStream));
}

/** Round-robin over the streams: the order a busy store's global feed has. */
export function interleave(streams: StoredEvent[][]): StoredEvent[] {
  const out: StoredEvent[] = [];
  const longest = Math.max(...streams.map((s) => s.length));
  for (let i = 0; i < longest; i++) for (const s of streams) if (s[i]) out.push(s[i]!);
  return out;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** Polls until `done()` holds, failing with `what` after `timeoutMs`. */
export async function waitFor(done: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records what a subscriber received of `expected` (ignoring other tests' events). */
export function collector(expected: StoredEvent[]) {
  const ids = new Set(expected.map((e) => e.eventId));
  const received: StoredEvent[] = [];
  const distinct = new Set<string>();
  return {
    mine: (e: StoredEvent) => ids.has(e.eventId),
    add(batch: StoredEvent[]) {
      for (const e of batch) {
        if (!ids.has(e.eventId)) continue;
        received.push(e);
        distinct.add(e.eventId);
      }
    },
    deliveries: () => received.length,
    complete: () => waitFor(() => distinct.size === ids.size, `${ids.size} events (have ${distinct.size})`),
    /** First deliveries of each stream come in version order (redeliveries may repeat a tail). */
    expectEachStreamInOrder(streams: StoredEvent[][]) {
      for (const stream of streams) {
        const id = stream[0]!.streamId;
        const firstSeen: number[] = [];
        let last = 0;
        for (const e of received) {
          if (e.streamId !== id) continue;
          if (e.version > last) {
            expect(e.version).toBe(last + 1);
            last = e.version;
            firstSeen.push(e.version);
          }
        }
        expect(firstSeen).toEqual(range(1, stream.length));
      }
    },
  };
}
