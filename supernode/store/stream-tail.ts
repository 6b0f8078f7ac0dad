import type { StoredEvent } from '../../core/events/index.ts';
import type { EventStore } from './event-store.ts';

/** Events per read of a stream's tail: a task with a long tail since its snapshot is not read in one query. */
const PAGE = 5000;

/** A stream's events after `fromVersion`, a page at a time, in version order. */
export async function* streamTail(store: Pick<EventStore, 'readStream'>, streamId: string, fromVersion: number): AsyncGenerator<StoredEvent[]> {
  for (let version = fromVersion; ; ) {
    const page = await store.readStream(streamId, { fromVersion: version, limit: PAGE });
    if (page.length === 0) return;
    yield page;
    version = page[page.length - 1]!.version;
  }
}
