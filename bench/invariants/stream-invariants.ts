import type { CheckedEvent } from './checked-event.ts';
import type { Violation } from './violation.ts';

export interface StreamRules {
  /**
   * Whether the stream's first epoch must open with OwnershipAcquired too. Off by default: a
   * replica that is the first writer of a stream starts it with TaskCreated (today's single
   * replica writes epoch 0 and no OwnershipAcquired at all); only a change of writer needs one.
   */
  firstEpochNeedsOwnership?: boolean;
}

/**
 * The invariants of one task stream as PostgreSQL holds it (events in version order):
 * - versions are exactly 1..n: no gap, no repeat;
 * - epochs never go down along the versions: once a newer owner wrote, nothing from an older
 *   (fenced) owner follows — two epochs never interleave;
 * - every rise of the epoch opens with OwnershipAcquired carrying that epoch (the new owner
 *   recorded its takeover before anything else), and every OwnershipAcquired carries the epoch
 *   it was written with.
 */
export function streamViolations(events: readonly CheckedEvent[], rules: StreamRules = {}): Violation[] {
  if (events.length === 0) return [{ invariant: 'stream-present', message: 'the task has no events in PostgreSQL' }];
  const out: Violation[] = [];
  events.forEach((e, i) => {
    if (e.version !== i + 1) {
      const previous = i === 0 ? 'the start' : `version ${events[i - 1]!.version}`;
      out.push({ invariant: 'contiguous-versions', message: `expected version ${i + 1} after ${previous}, found version ${e.version} (${e.event.type}, ${e.eventId})` });
    }
  });
  events.forEach((e, i) => {
    const ownership = e.event.type === 'OwnershipAcquired' ? e.event.data : undefined;
    if (ownership && ownership.epoch !== e.epoch) {
      out.push({ invariant: 'ownership-event', message: `version ${e.version}: OwnershipAcquired by ${ownership.replicaId} carries epoch ${ownership.epoch} but was written with epoch ${e.epoch}` });
    }
    if (i === 0) {
      if (rules.firstEpochNeedsOwnership && !ownership) {
        out.push({ invariant: 'ownership-event', message: `the stream opens with ${e.event.type} at epoch ${e.epoch}, not with OwnershipAcquired` });
      }
      return;
    }
    const prev = events[i - 1]!;
    if (e.epoch < prev.epoch) {
      out.push({
        invariant: 'epoch-order',
        message: `version ${e.version} (${e.event.type}) was written with epoch ${e.epoch} after version ${prev.version} with epoch ${prev.epoch}: a fenced owner wrote after its successor`,
      });
    } else if (e.epoch > prev.epoch && !ownership) {
      out.push({
        invariant: 'ownership-event',
        message: `the epoch rises from ${prev.epoch} to ${e.epoch} at version ${e.version} with ${e.event.type}, not with OwnershipAcquired`,
      });
    }
  });
  return out;
}

/** Where each epoch starts: [{epoch, version, replicaId?}], in stream order (for reports and scenarios). */
export function epochStarts(events: readonly CheckedEvent[]): { epoch: number; version: number; replicaId?: string }[] {
  const out: { epoch: number; version: number; replicaId?: string }[] = [];
  for (const e of events) {
    if (out.length > 0 && out.at(-1)!.epoch === e.epoch) continue;
    out.push({ epoch: e.epoch, version: e.version, ...(e.event.type === 'OwnershipAcquired' ? { replicaId: e.event.data.replicaId } : {}) });
  }
  return out;
}
