import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import type { EventStore } from '../../../supernode/store/event-store.ts';

/** The real Postgres event store (migrations applied) on the test's own database. */
export function openStore(url: string): Promise<EventStore> {
  return openPostgresEventStore(url);
}
