import { normaliseUrl } from '../ids/index.ts';
import { redactUrl } from '../ids/redact-url.ts';
import type { TaskView } from '../wire/peer-api.ts';
import type { TaskState } from './task-state.ts';

/**
 * The public summary of a task (GET /api/v1/tasks/:taskId). `peers` counts those still serving
 * or fetching. The URL is shown without its filtered query parameters: those are typically
 * signatures, which this read-only view has no reason to hand out; and with its credentials
 * redacted (events written before TaskCreated carried a redacted URL still hold the real one).
 */
export function taskView(state: TaskState): TaskView {
  let peers = 0;
  for (const peer of state.peers.values()) if (peer.status === 'active' || peer.status === 'succeeded') peers++;
  return {
    taskId: state.taskId,
    status: state.status,
    url: state.url === '' ? '' : redactUrl(normaliseUrl(state.url, state.filter)),
    contentLength: state.contentLength,
    pieceSize: state.pieceSize,
    pieceCount: state.pieceCount,
    seededCount: state.seededCount,
    cdnHeldCount: state.cdnHeldCount,
    peers,
    version: state.version,
    failure: state.failure,
  };
}
