import type { StoredEvent } from '../events/index.ts';
import { redactUrl } from '../ids/redact-url.ts';

/** One line of a task's history: the event and a short human summary of what it says. */
export interface TimelineEntry {
  version: number;
  position: number;
  at: number;
  type: string;
  epoch: number;
  summary: string;
}

export function timeline(events: readonly StoredEvent[]): TimelineEntry[] {
  return events.map((e) => ({ version: e.version, position: e.position, at: eventTime(e), type: e.type, epoch: e.epoch, summary: summarise(e) }));
}

export function eventTime(e: StoredEvent): number {
  return e.data.at;
}

function summarise(e: StoredEvent): string {
  switch (e.type) {
    case 'TaskCreated':
      // Redacted again: events written before TaskCreated carried a redacted URL hold the real one.
      return `task created for ${redactUrl(e.data.url)}`;
    case 'SourceProbed':
      return `origin: ${e.data.contentLength} bytes in ${e.data.pieceCount} pieces of ${e.data.pieceSize}`;
    case 'PiecesSeeded':
      return `CDN stored pieces ${ranges(e.data.pieces.map((p) => p.piece))}`;
    case 'PeerJoined':
      return `peer ${e.data.peerId} joined from ${e.data.address}`;
    case 'PiecesAssigned':
      return `${e.data.peerId} assigned ${e.data.assignments.map((a) => `${a.piece}←${a.source}`).join(' ')}`;
    case 'ParentsAssigned':
      return `${e.data.peerId} parents ${e.data.parents.join(' ') || 'none'}`;
    case 'PiecesReported':
      return `${e.data.peerId} verified ${ranges(e.data.ok.flatMap((o) => o.pieces)) || 'none'}` +
        (e.data.failed.length ? `; failed ${e.data.failed.map((f) => `${f.piece}←${f.source} (${f.reason})`).join(' ')}` : '');
    case 'AssignmentsExpired':
      return `${e.data.peerId} assignments expired: ${ranges(e.data.pieces)}`;
    case 'PeerLeft':
      return `peer ${e.data.peerId} left (${e.data.reason})`;
    case 'PeerSucceeded':
      return `peer ${e.data.peerId} succeeded`;
    case 'PeerFailed':
      return `peer ${e.data.peerId} failed: ${e.data.reason}`;
    case 'TaskSucceeded':
      return 'seed complete: every piece seeded';
    case 'TaskFailed':
      return `task failed: ${e.data.reason}`;
    case 'TaskEvicted':
      return 'task evicted';
    case 'OwnershipAcquired':
      return `replica ${e.data.replicaId} owns the task (epoch ${e.data.epoch})` +
        (e.data.cdnPieces ? `; its CDN holds ${ranges(e.data.cdnPieces) || 'no pieces'}` : '');
    default: {
      const never: never = e;
      return String((never as { type: string }).type);
    }
  }
}

/** "0-3,7,9-10" for [0,1,2,3,7,9,10]. */
function ranges(pieces: number[]): string {
  const sorted = [...pieces].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
