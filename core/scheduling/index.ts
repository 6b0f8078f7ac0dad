export * from './policy.ts';
export * from './assign-pieces.ts';
export * from './expired-assignments.ts';
export * from './expired-peers.ts';
export * from './pieces-from-origin.ts';
export * from './choose-parents.ts';
