import { z } from 'zod';
import type { CheckedEvent } from './checked-event.ts';
import type { Violation } from './violation.ts';

/** One line of a peer's `damselfly get --ack-log FILE`: a report some replica answered 2xx. */
export const AckLine = z.object({
  taskId: z.string().min(1),
  peerId: z.string().min(1),
  ok: z.array(z.object({ piece: z.number().int().nonnegative(), source: z.string().min(1) })),
  failed: z.array(z.object({ piece: z.number().int().nonnegative(), source: z.string().min(1), reason: z.string() })),
  /** The peer's clock when the 2xx arrived, ms (bench failover's stall). */
  at: z.number().optional(),
});
export type AckLine = z.infer<typeof AckLine>;

/** Parses an ack log; every line must be a valid AckLine (a torn or foreign line is a violation). */
export function parseAckLog(text: string, where: string): { acks: AckLine[]; violations: Violation[] } {
  const acks: AckLine[] = [];
  const violations: Violation[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      violations.push({ invariant: 'ack-log', message: `${where} line ${i + 1} is not JSON (${(err as Error).message})` });
      return;
    }
    const parsed = AckLine.safeParse(raw);
    if (parsed.success) acks.push(parsed.data);
    else violations.push({ invariant: 'ack-log', message: `${where} line ${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}` });
  });
  return { acks, violations };
}

/**
 * Every verified piece a replica acknowledged must be on record: some PiecesReported event of
 * the task lists it for that peer, from that source. Where in the stream does not matter — the
 * supernode drops a repeated report of a piece it already records, and after a failover the
 * peer re-reports what it holds, so the record may be the first report or a later one.
 *
 * Failed fetches are not checked: the supernode keeps a failure only while the assignment it
 * names is still in flight (core/task/decide/decide-round.ts) and drops stale ones by design,
 * so an acknowledged failure may rightly leave no trace.
 */
export function ackViolations(taskId: string, events: readonly CheckedEvent[], acks: readonly AckLine[]): Violation[] {
  const recorded = new Set<string>();
  for (const { event } of events) {
    if (event.type !== 'PiecesReported') continue;
    for (const { source, pieces } of event.data.ok) for (const piece of pieces) recorded.add(key(event.data.peerId, piece, source));
  }
  const out: Violation[] = [];
  const reported = new Set<string>();
  for (const ack of acks) {
    if (ack.taskId !== taskId) continue;
    for (const ok of ack.ok) {
      const k = key(ack.peerId, ok.piece, ok.source);
      if (recorded.has(k) || reported.has(k)) continue;
      reported.add(k);
      out.push({ invariant: 'acknowledged-report', message: `peer ${ack.peerId}'s report of piece ${ok.piece} (from ${ok.source}) was acknowledged but no PiecesReported event records it` });
    }
  }
  return out;
}

/** Verified pieces acknowledged for the task, counted once per (peer, piece). */
export function acknowledgedPieces(taskId: string, acks: readonly AckLine[]): number {
  const seen = new Set<string>();
  for (const ack of acks) if (ack.taskId === taskId) for (const ok of ack.ok) seen.add(`${ack.peerId}\0${ok.piece}`);
  return seen.size;
}

function key(peerId: string, piece: number, source: string): string {
  return `${peerId}\0${piece}\0${source}`;
}
