import type { CheckedEvent } from './checked-event.ts';
import type { Violation } from './violation.ts';

export interface KafkaComparison {
  violations: Violation[];
  /** Messages that repeat an event id already seen (at-least-once delivery: allowed). */
  duplicates: number;
}

/**
 * Kafka against PostgreSQL for one task. Delivery is at-least-once, so repeats are allowed;
 * consumers keep the first copy of each event id. Kept that way, the topic must hold exactly
 * the committed stream: every event (none missing), nothing else (no event PostgreSQL does not
 * hold — a fenced owner's write that was rolled back must never be published), in the stream's
 * order, and every copy must say what PostgreSQL says (version, epoch, type).
 */
export function kafkaViolations(postgres: readonly CheckedEvent[], kafka: readonly CheckedEvent[]): KafkaComparison {
  const out: Violation[] = [];
  const committed = new Map(postgres.map((e) => [e.eventId, e]));
  const firstCopies: CheckedEvent[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const copy of kafka) {
    const original = committed.get(copy.eventId);
    if (!original) {
      if (!seen.has(copy.eventId)) out.push({ invariant: 'kafka-phantom', message: `Kafka holds event ${copy.eventId} (version ${copy.version}, epoch ${copy.epoch}, ${copy.event.type}) that PostgreSQL does not` });
    } else if (original.version !== copy.version || original.epoch !== copy.epoch || original.event.type !== copy.event.type) {
      out.push({
        invariant: 'kafka-content',
        message: `event ${copy.eventId} is version ${copy.version} epoch ${copy.epoch} ${copy.event.type} in Kafka but version ${original.version} epoch ${original.epoch} ${original.event.type} in PostgreSQL`,
      });
    }
    if (seen.has(copy.eventId)) duplicates++;
    else {
      seen.add(copy.eventId);
      if (original) firstCopies.push(original);
    }
  }
  const missing = postgres.filter((e) => !seen.has(e.eventId));
  if (missing.length > 0) {
    const versions = missing.slice(0, 10).map((e) => e.version).join(', ');
    out.push({ invariant: 'kafka-complete', message: `${missing.length} of ${postgres.length} committed events are not in Kafka (versions ${versions}${missing.length > 10 ? ', …' : ''})` });
  }
  // Order of first copies against the stream's order, over the events both hold.
  const expected = postgres.filter((e) => seen.has(e.eventId));
  const at = firstCopies.findIndex((e, i) => e.eventId !== expected[i]!.eventId);
  if (at >= 0) {
    out.push({
      invariant: 'kafka-order',
      message:
        `Kafka's ${ordinal(at + 1)} distinct event of the task is version ${firstCopies[at]!.version} where PostgreSQL has version ${expected[at]!.version} (${expected[at]!.eventId}); ` +
        `Kafka's order from there: ${firstCopies.slice(at, at + 8).map((e) => `v${e.version}`).join(' ')}`,
    });
  }
  return { violations: out, duplicates };
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}
