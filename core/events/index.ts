export * from './task-events.ts';
export * from './envelope.ts';
