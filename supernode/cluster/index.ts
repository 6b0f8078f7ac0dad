export * from './lease-store.ts';
export { MemoryLeaseStore } from './memory-lease-store.ts';
export { SqlLeaseStore } from './sql-lease-store.ts';
export * from './shard-ownership.ts';
export * from './warm-copies.ts';
export * from './owner-routing.ts';
