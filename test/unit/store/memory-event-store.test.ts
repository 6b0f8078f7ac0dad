import { MemoryLeaseStore } from '../../../supernode/cluster/memory-lease-store.ts';
import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { describeEventStoreConformance, shardTakeovers } from '../../shared/event-store-conformance.ts';

describeEventStoreConformance('memory', async () => {
  const leases = new MemoryLeaseStore();
  return { store: new MemoryEventStore(Date.now, (shard) => leases.epochOf(shard)), takeOverShard: shardTakeovers(leases) };
});
