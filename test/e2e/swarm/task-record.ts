import type { StoredEvent } from '../../../core/events/index.ts';
import type { PieceTransfer, TimelineEntry } from '../../../core/history/index.ts';
import type { TaskView } from '../../../core/wire/peer-api.ts';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/index.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { pollUntil, TOKEN } from './swarm-fixture.ts';

/**
 * What a task left behind, read the ways an operator would: the supernode's history API, the
 * event stream in PostgreSQL, and the same stream as the relay published it to Kafka.
 */
export interface TaskHistory {
  taskId: string;
  events: TimelineEntry[];
  pieces: PieceTransfer[];
  servedBySource: Record<string, number>;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

export function fetchHistory(base: string, taskId: string): Promise<TaskHistory> {
  return getJson<TaskHistory>(`${base}/api/v1/tasks/${taskId}/history`);
}

export function fetchTask(base: string, taskId: string): Promise<TaskView> {
  return getJson<TaskView>(`${base}/api/v1/tasks/${taskId}`);
}

export async function postgresEvents(taskId: string): Promise<StoredEvent[]> {
  const store = await openPostgresEventStore(databaseUrl());
  try {
    return await store.readStream(taskId);
  } finally {
    await store.close();
  }
}

/**
 * The task's stream from Postgres and from Kafka once Kafka holds every event Postgres holds:
 * the relay publishes after the commit, so this polls. Both lists are returned as read, for the
 * caller to compare (a Kafka read that overtakes Postgres, or a duplicate, shows up there).
 */
export async function streamsOnceRelayed(topic: string, taskId: string, timeoutMs = 90_000): Promise<{ postgres: StoredEvent[]; kafka: StoredEvent[] }> {
  const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic, readTimeoutMs: 30_000 });
  try {
    return await pollUntil(`Kafka topic ${topic} to hold every event of ${taskId}`, async () => {
      const postgres = await postgresEvents(taskId);
      const kafka = await bus.readStream(taskId);
      return kafka.length >= postgres.length ? { postgres, kafka } : undefined;
    }, timeoutMs, 500);
  } finally {
    await bus.close();
  }
}

/** Peer ids in the order they joined the task. */
export function joinedPeers(events: readonly StoredEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'PeerJoined' ? [e.data.peerId] : []));
}

/** Every assignment as an event recorded it: who was told to fetch which piece from whom, at which stream version. */
export function assignments(events: readonly StoredEvent[]): { version: number; peerId: string; piece: number; source: string }[] {
  return events.flatMap((e) => (e.type === 'PiecesAssigned' ? e.data.assignments.map((a) => ({ version: e.version, peerId: e.data.peerId, piece: a.piece, source: a.source })) : []));
}

/** Verified pieces per peer, from the history API's provenance. */
export function verifiedByPeer(pieces: readonly PieceTransfer[]): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const t of pieces) {
    if (!t.verified) continue;
    if (!out.has(t.peerId)) out.set(t.peerId, new Set());
    out.get(t.peerId)!.add(t.piece);
  }
  return out;
}

/** Failures recorded against `source` (after the supernode's reconciliation), in stream order. */
export function failuresFrom(events: readonly StoredEvent[], source: string): { version: number; peerId: string; piece: number; reason: string }[] {
  return events.flatMap((e) => (e.type === 'PiecesReported' ? e.data.failed.filter((f) => f.source === source).map((f) => ({ version: e.version, peerId: e.data.peerId, piece: f.piece, reason: f.reason })) : []));
}

/** Assignments from `source` not yet reported, expired or ended by the requester leaving, per the events. */
export function inflightFrom(events: readonly StoredEvent[], source: string): number {
  const open = new Map<string, string>();
  for (const e of events) {
    if (e.type === 'PiecesAssigned') for (const a of e.data.assignments) open.set(`${e.data.peerId}/${a.piece}`, a.source);
    else if (e.type === 'PiecesReported') for (const piece of [...e.data.ok.flatMap((g) => g.pieces), ...e.data.failed.map((f) => f.piece)]) open.delete(`${e.data.peerId}/${piece}`);
    else if (e.type === 'AssignmentsExpired') for (const piece of e.data.pieces) open.delete(`${e.data.peerId}/${piece}`);
    else if (e.type === 'PeerLeft' || e.type === 'PeerSucceeded' || e.type === 'PeerFailed') for (const key of open.keys()) if (key.startsWith(`${e.data.peerId}/`)) open.delete(key);
  }
  return [...open.values()].filter((s) => s === source).length;
}

/**
 * Waits until exactly one peer has joined the task and verified at least `pieces` pieces, and
 * returns its id: the head start that makes it the only peer source of those pieces.
 */
export function soleHolder(base: string, taskId: string, pieces: number, timeoutMs = 60_000): Promise<string> {
  return pollUntil(`one peer to hold ${pieces} pieces of ${taskId}`, async () => {
    const history = await fetchHistory(base, taskId).catch(() => undefined); // 404 until the peer registers the task
    const verified = [...verifiedByPeer(history?.pieces ?? [])];
    return verified.length === 1 && verified[0]![1].size >= pieces ? verified[0]![0] : undefined;
  }, timeoutMs, 100);
}
