import type { EventStore } from '../../../supernode/store/event-store.ts';
// @ts-expect-error scratch
import { openScratchStore } from '/tmp/bus-scratch/pg-store.ts';

/** The Postgres event store for these tests (the store team's adapter). */
export async function openStore(url: string): Promise<EventStore> {
  return openScratchStore(url);
}
