export * from './lease-store.ts';
export { MemoryLeaseStore } from './memory-lease-store.ts';
export { SqlLeaseStore } from './sql-lease-store.ts';
