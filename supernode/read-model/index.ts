export { Deduplicator, type Verdict } from './deduplicator.ts';
export { TaskReadModel } from './task-read-model.ts';
export { emptySummary, foldSummary, type SummaryState, type TaskSummary } from './task-summary.ts';
