export * from './normalise-url.ts';
export * from './task-id.ts';
