import { DamselflyError } from '../errors.ts';
import { isTaskId } from '../ids/task-id.ts';

/**
 * The virtual shard a task belongs to. The task id is already a sha256 (hex), so its leading
 * 52 bits (13 hex digits: the most a double holds exactly) are uniform; the modulo bias is
 * below shardCount / 2^52, nothing at any realistic shard count.
 *
 * The shard count must stay fixed for the life of a cluster's data: changing it moves tasks to
 * other shards, hence to other owners (docs/decisions.md, "Cluster").
 */
export function shardOf(taskId: string, shardCount: number): number {
  assertShardCount(shardCount);
  if (!isTaskId(taskId)) throw new DamselflyError('DF_ERR_VALIDATION', `not a task id: ${taskId.slice(0, 80)}`);
  return parseInt(taskId.slice(0, 13), 16) % shardCount;
}

export function assertShardCount(shardCount: number): void {
  if (!Number.isSafeInteger(shardCount) || shardCount < 1) {
    throw new DamselflyError('DF_ERR_VALIDATION', `the shard count must be a positive integer, got ${shardCount}`);
  }
}
