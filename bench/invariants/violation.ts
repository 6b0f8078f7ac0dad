/**
 * One broken invariant of a chaos run, with a message that says what was expected and what was
 * found (versions, epochs, event ids), so a failing run can be diagnosed from its output alone.
 */
export interface Violation {
  invariant:
    | 'stream-present'
    | 'event-schema'
    | 'contiguous-versions'
    | 'epoch-order'
    | 'ownership-event'
    | 'ack-log'
    | 'acknowledged-report'
    | 'kafka-read'
    | 'kafka-complete'
    | 'kafka-order'
    | 'kafka-content'
    | 'kafka-phantom'
    | 'file-identical'
    | 'origin-bytes';
  message: string;
}

/** One line per violation, grouped by invariant, at most `perInvariant` of each (then a count). */
export function formatViolations(violations: readonly Violation[], perInvariant = 10): string {
  const groups = new Map<string, string[]>();
  for (const v of violations) groups.set(v.invariant, [...(groups.get(v.invariant) ?? []), v.message]);
  const lines: string[] = [];
  for (const [invariant, messages] of groups) {
    for (const m of messages.slice(0, perInvariant)) lines.push(`[${invariant}] ${m}`);
    if (messages.length > perInvariant) lines.push(`[${invariant}] … and ${messages.length - perInvariant} more`);
  }
  return lines.join('\n');
}
