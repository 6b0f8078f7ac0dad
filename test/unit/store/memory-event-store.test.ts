import { MemoryEventStore } from '../../../supernode/store/memory-event-store.ts';
import { describeEventStoreConformance } from '../../shared/event-store-conformance.ts';

describeEventStoreConformance('memory', async () => new MemoryEventStore());
