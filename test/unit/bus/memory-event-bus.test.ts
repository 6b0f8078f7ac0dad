import { describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../../supernode/bus/memory-event-bus.ts';
import { eventBusConformance, storedStream, waitFor } from '../../shared/event-bus-conformance.ts';

eventBusConformance('MemoryEventBus', async () => new MemoryEventBus({ maxBatch: 16 }));

describe('MemoryEventBus', () => {
  it('hands a group to its next member when the consuming one stops', async () => {
    const bus = new MemoryEventBus({ maxBatch: 4 });
    const events = storedStream('handover', 12);
    const a: number[] = [];
    const b: number[] = [];
    const stopA = await bus.subscribe('g', async (batch) => void a.push(...batch.map((e) => e.version)));
    const stopB = await bus.subscribe('g', async (batch) => void b.push(...batch.map((e) => e.version)));
    await bus.publish(events.slice(0, 6));
    await waitFor(() => a.length === 6, 'first member');
    expect(b).toEqual([]);
    await stopA();
    await bus.publish(events.slice(6));
    await waitFor(() => b.length === 6, 'second member');
    expect(b).toEqual([7, 8, 9, 10, 11, 12]);
    await stopB();
    await bus.close();
  });

  it('is not changed by a publisher mutating its events afterwards', async () => {
    const bus = new MemoryEventBus();
    const events = storedStream('mutate', 2);
    await bus.publish(events);
    events[0]!.epoch = 99;
    expect((await bus.readStream('mutate'))[0]!.epoch).toBe(1);
    await bus.close();
  });
});
