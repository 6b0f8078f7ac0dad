export * from './violation.ts';
export * from './checked-event.ts';
export * from './stream-invariants.ts';
export * from './acknowledged-reports.ts';
export * from './kafka-invariants.ts';
export * from './check-task.ts';
