import type { EventOf, TaskEvent } from '../../events/index.ts';
import { DamselflyError } from '../../errors.ts';
import { computeTaskId } from '../../ids/index.ts';
import { redactUrl } from '../../ids/redact-url.ts';
import { MAX_PIECE_COUNT, pieceCountFor, pieceRange, pieceSizeFor, requireFileSize } from '../../pieces/index.ts';
import { SHA256_HEX, storableText } from '../../wire/fields.ts';
import type { TaskState } from '../task-state.ts';
import type { AcquireOwnership, CompleteSeed, CreateTask, Evict, FailTask, RecordProbe, RecordSeededPieces } from '../task-commands.ts';
import { boundedReason, requirePiece, requireStatus } from './guards.ts';

/**
 * Creates an absent or evicted task, and creates a failed one anew: a failure is the origin's
 * at one moment (down, cut mid-body, a bad answer), and a task whose id is its digest alone (a
 * registry blob) has no other id to retry under, so keeping the failure would refuse that
 * blob for good (Dragonfly2 likewise downloads a failed task again on the next registration).
 * The failed task is evicted and created in one decision: two registrations racing see it
 * failed once, and the second finds it created rather than evicting the first one's retry.
 */
export function decideCreateTask(cmd: CreateTask, state: TaskState): TaskEvent[] {
  if (state.status !== 'absent' && state.status !== 'evicted' && state.status !== 'failed') {
    throw new DamselflyError('DF_ERR_TASK_EXISTS', `task ${state.taskId} is ${state.status}`);
  }
  const expected = computeTaskId(cmd);
  if (cmd.taskId !== expected || (state.taskId !== '' && state.taskId !== cmd.taskId)) {
    throw new DamselflyError('DF_ERR_TASK_ID_MISMATCH', `${cmd.taskId} is not the id of this URL, digest and range`);
  }
  // The id is the real URL's; the event (stored, published to Kafka, logged) carries the URL with
  // its credentials redacted. The real URL stays in the memory of the replica that fetches it.
  const { taskId, url, digest, identifier, range, filter, at } = cmd;
  // Only when set, so the events of every other task read exactly as before.
  const addressed = cmd.contentAddressed ? { contentAddressed: true } : {};
  const created: TaskEvent = { type: 'TaskCreated', data: { taskId, url: redactUrl(url), digest, identifier, range, filter, ...addressed, at } };
  return state.status === 'failed' ? [{ type: 'TaskEvicted', data: { at } }, created] : [created];
}

/**
 * Lays out the pieces. The layout is what every per-piece array of the state is sized by, so
 * both the length (at most MAX_FILE_SIZE; the supernode's --max-file-size is checked before
 * the probe is recorded) and the count (at most MAX_PIECE_COUNT, even with a piece size
 * given) are bounded here, whatever the origin announced: refused, the task fails.
 */
export function decideRecordProbe(cmd: RecordProbe, state: TaskState): TaskEvent[] {
  requireStatus(state, ['created']);
  requireFileSize(cmd.contentLength);
  const pieceSize = cmd.pieceSize ?? pieceSizeFor(cmd.contentLength);
  if (!Number.isSafeInteger(pieceSize) || pieceSize <= 0) {
    throw new DamselflyError('DF_ERR_VALIDATION', `invalid piece size ${pieceSize}`);
  }
  const { contentLength, acceptRanges, etag, lastModified, at } = cmd;
  const pieceCount = pieceCountFor(contentLength, pieceSize);
  if (pieceCount > MAX_PIECE_COUNT) {
    throw new DamselflyError('DF_ERR_FILE_TOO_LARGE', `${contentLength} bytes in ${pieceSize}-byte pieces are ${pieceCount} pieces; the bound is ${MAX_PIECE_COUNT}`);
  }
  return [{ type: 'SourceProbed', data: { contentLength, pieceSize, pieceCount, acceptRanges, etag, lastModified, at } }];
}

/**
 * Idempotent: pieces the CDN already holds with the same digest are left out. A piece whose
 * digest is known but that the CDN no longer holds (a new owner's disk) is recorded again, which
 * makes the CDN a source for it once more. A different digest is refused: the origin changed,
 * and the task must fail rather than hand out a file mixing two versions.
 */
export function decideRecordSeededPieces(cmd: RecordSeededPieces, state: TaskState): TaskEvent[] {
  requireStatus(state, ['seeding', 'seeded']);
  const fresh = new Map<number, RecordSeededPieces['pieces'][number]>();
  for (const entry of cmd.pieces) {
    requirePiece(state, entry.piece);
    const expected = pieceRange(entry.piece, state.pieceSize!, state.contentLength!).length;
    if (entry.size !== expected) {
      throw new DamselflyError('DF_ERR_PIECE_SIZE', `piece ${entry.piece} is ${entry.size} bytes, expected ${expected}`);
    }
    if (!SHA256_HEX.test(entry.digest)) throw new DamselflyError('DF_ERR_VALIDATION', `piece ${entry.piece}: digest must be sha256 hex`);
    const known = state.pieces[entry.piece] ?? fresh.get(entry.piece);
    if (known && known.digest !== entry.digest) {
      throw new DamselflyError('DF_ERR_DIGEST_CONFLICT', `piece ${entry.piece} was seeded as ${known.digest}`);
    }
    if (!state.cdnHeld[entry.piece] && !fresh.has(entry.piece)) fresh.set(entry.piece, { piece: entry.piece, size: entry.size, digest: entry.digest });
  }
  if (fresh.size === 0) return [];
  return [{ type: 'PiecesSeeded', data: { pieces: [...fresh.values()], at: cmd.at } }];
}

export function decideCompleteSeed(cmd: CompleteSeed, state: TaskState): TaskEvent[] {
  requireStatus(state, ['seeding', 'seeded']);
  if (state.status === 'seeded') return [];
  if (state.seededCount !== state.pieceCount) {
    throw new DamselflyError('DF_ERR_TASK_NOT_READY', `${state.seededCount} of ${state.pieceCount} pieces seeded`);
  }
  return [{ type: 'TaskSucceeded', data: { at: cmd.at } }];
}

/** A seeded task can fail too: refilling a piece after a takeover may find the origin changed. */
export function decideFailTask(cmd: FailTask, state: TaskState): TaskEvent[] {
  if (state.status === 'failed') return [];
  requireStatus(state, ['created', 'seeding', 'seeded']);
  // The reason may quote the origin (an error excerpt): it must be storable text.
  return [{ type: 'TaskFailed', data: { reason: storableText(boundedReason(cmd.reason, 'failed'), 500), at: cmd.at } }];
}

export function decideEvict(cmd: Evict, state: TaskState): TaskEvent[] {
  if (state.status === 'evicted') return [];
  if (state.status === 'absent') throw new DamselflyError('DF_ERR_NOT_FOUND', `task ${state.taskId} does not exist`);
  return [{ type: 'TaskEvicted', data: { at: cmd.at } }];
}

/** Epochs only grow: an older or equal epoch held by another replica is a stale owner (fencing). */
export function decideAcquireOwnership(cmd: AcquireOwnership, state: TaskState): TaskEvent[] {
  const owner = state.owner;
  if (owner && owner.epoch === cmd.epoch && owner.replicaId === cmd.replicaId) return [];
  if (owner && cmd.epoch <= owner.epoch) {
    throw new DamselflyError('DF_ERR_STALE_EPOCH', `epoch ${cmd.epoch} <= ${owner.epoch} held by ${owner.replicaId}`);
  }
  const data: EventOf<'OwnershipAcquired'>['data'] = { replicaId: cmd.replicaId, epoch: cmd.epoch, at: cmd.at };
  if (cmd.cdnPieces !== undefined) data.cdnPieces = heldWithKnownDigest(cmd.cdnPieces, state);
  return [{ type: 'OwnershipAcquired', data }];
}

/** The reported pieces that can count as held (in range, digest known), sorted, once each. */
function heldWithKnownDigest(cdnPieces: readonly number[], state: TaskState): number[] {
  for (const piece of cdnPieces) {
    if (!Number.isSafeInteger(piece) || piece < 0) throw new DamselflyError('DF_ERR_VALIDATION', `invalid CDN piece ${piece}`);
  }
  const held = new Set(cdnPieces.filter((p) => p < state.pieces.length && state.pieces[p] !== null));
  return [...held].sort((a, b) => a - b);
}
