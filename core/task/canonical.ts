import { createHash } from 'node:crypto';
import type { TaskSnapshot } from './evolve.ts';
import type { TaskState } from './task-state.ts';

/**
 * The canonical serialisation of a task state: JSON with object keys sorted (by UTF-16 code
 * unit, as Array.prototype.sort does), array order kept, undefined members left out. Object
 * key order is the only freedom JSON leaves, and it differs between a live state (peers in
 * join order) and one parsed back from a snapshot, so it is fixed here. The state hash is over
 * this text, which is why it is the same for a replay, a snapshot plus tail and the live actor.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out);
  return out.join('');
}

function write(value: unknown, out: string[]): void {
  if (value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value ?? null));
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], out);
    }
    out.push(']');
    return;
  }
  // A Map (the task's peers) is written as the object it is stored as (storedTaskState).
  const record = value instanceof Map ? (Object.fromEntries(value) as Record<string, unknown>) : (value as Record<string, unknown>);
  const keys = Object.keys(record).sort();
  out.push('{');
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    if (!first) out.push(',');
    first = false;
    out.push(JSON.stringify(key), ':');
    write(member, out);
  }
  out.push('}');
}

/** sha256 (hex) of the canonical serialisation of the task state. */
export function stateHash(from: TaskSnapshot | TaskState): string {
  const state = 'context' in from ? from.context : from;
  return createHash('sha256').update(canonicalJson(state)).digest('hex');
}
