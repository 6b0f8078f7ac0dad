import type { EventStore } from '../../../supernode/store/event-store.ts';

/** The Postgres event store for these tests (the store team's adapter). */
export async function openStore(url: string): Promise<EventStore> {
  throw new Error(`the Postgres event store adapter is not available yet (${url})`);
}
