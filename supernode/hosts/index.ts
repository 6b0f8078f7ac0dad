export * from './host-store.ts';
export { MemoryHostStore } from './memory-host-store.ts';
export { SqlHostStore } from './sql-host-store.ts';
