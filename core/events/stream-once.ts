import { DamselflyError } from '../errors.ts';
import type { StoredEvent } from './envelope.ts';

/**
 * One stream as an at-least-once log tells it, once: each version once, in version order.
 *
 * The relay publishes every committed event at least once; after a crash between publish and
 * cursor save it publishes a whole range again, after what followed it (versions 1852–1897
 * again after 1897). The store gives each (stream, version) exactly one event, and the relay
 * publishes only committed events, so two copies of a version are the same event: the first is
 * kept. Two *different* events under one version can only be corruption and are refused loudly.
 * Every fold of a stream read from the log (replay, history) goes through here; consumers that
 * fold as they go do the same per event (WarmCopies, the read model's Deduplicator).
 */
export function streamOnce(events: readonly StoredEvent[]): StoredEvent[] {
  const byVersion = new Map<number, StoredEvent>();
  for (const e of events) {
    const first = byVersion.get(e.version);
    if (!first) byVersion.set(e.version, e);
    else if (first.eventId !== e.eventId) {
      throw new DamselflyError('DF_ERR_MALFORMED_EVENT', `stream ${e.streamId} holds two events at version ${e.version}: ${first.eventId} and ${e.eventId}`);
    }
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}
