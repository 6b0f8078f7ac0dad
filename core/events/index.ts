export * from './task-events.ts';
export * from './envelope.ts';
export * from './stream-once.ts';
