import { DamselflyError } from '../../core/errors.ts';
import type { HostAnnouncement } from '../../core/wire/host-api.ts';

/** What a host announces, with its upload address as the supernode resolved it (its peer-address rule). */
export type HostInput = Omit<HostAnnouncement, 'proxyPort' | 'version'> & { proxyPort: number | null; version: string | null };

/** A stored host. Times are the store's clock; `alive` is judged by it too. */
export interface HostRecord extends HostInput {
  hostId: string;
  registeredAt: Date;
  lastSeen: Date;
  alive: boolean;
}

/** The bounds an announcement of a host not yet stored must respect. */
export interface HostLimits {
  /** At most this many hosts are stored: a flood of made-up ids cannot grow the table without end. */
  maxHosts: number;
  /** Hosts unseen this long are forgotten (deleted) when the table is full, making room. */
  forgetAfterMs: number;
}

export interface HostListQuery {
  /** Live = last seen within this. */
  ttlMs: number;
  /** Only hosts seen within this (the TTL for live hosts only, longer to include stale ones). */
  seenWithinMs: number;
  limit: number;
  /** Only hosts whose id sorts after this (the previous page's last id). */
  after?: string;
}

/**
 * The hosts daemons announce (issue 11) — the port; adapters: sql-host-store.ts (PostgreSQL
 * and PGlite, the table of migrations/0003_hosts.sql) and memory-host-store.ts. Every replica
 * reads and writes the same store, so any replica answers. As with the lease store, callers
 * pass TTLs and never timestamps: the store's clock alone says who is live, so clock skew
 * between replicas cannot make a host look alive or dead.
 *
 * - announce: inserts or refreshes the host (lastSeen = now; registeredAt kept). A new host is
 *   refused (null) when maxHosts hosts are stored even after forgetting those unseen for
 *   forgetAfterMs. Concurrent first announcements of different hosts may overshoot the cap by
 *   at most their number (the check and the insert are not one lock): a bound, not an exact count.
 * - remove: deletes the host; whether it was there.
 * - list: hosts seen within seenWithinMs, ordered by id (byte order), at most `limit`.
 * - countLive: hosts seen within ttlMs.
 */
export interface HostStore {
  announce(hostId: string, host: HostInput, limits: HostLimits): Promise<HostRecord | null>;
  remove(hostId: string): Promise<boolean>;
  list(q: HostListQuery): Promise<HostRecord[]>;
  countLive(ttlMs: number): Promise<number>;
  close(): Promise<void>;
}

/** The argument checks both adapters make, so they refuse the same calls the same way. */
export function checkHostId(hostId: string): void {
  if (typeof hostId !== 'string' || hostId.length === 0 || hostId.length > 200) invalid('a host id must be 1-200 characters');
}

export function checkMs(what: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms <= 0) invalid(`${what} must be a positive whole number of milliseconds, got ${ms}`);
}

export function checkLimits(l: HostLimits): void {
  if (!Number.isSafeInteger(l.maxHosts) || l.maxHosts <= 0) invalid(`maxHosts must be a positive integer, got ${l.maxHosts}`);
  checkMs('forgetAfterMs', l.forgetAfterMs);
}

export function checkQuery(q: HostListQuery): void {
  checkMs('ttlMs', q.ttlMs);
  checkMs('seenWithinMs', q.seenWithinMs);
  if (!Number.isSafeInteger(q.limit) || q.limit <= 0) invalid(`limit must be a positive integer, got ${q.limit}`);
  if (q.after !== undefined) checkHostId(q.after);
}

/** Byte order of ids (ASCII by the wire rule), the same as the SQL adapter's COLLATE "C". */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function invalid(detail: string): never {
  throw new DamselflyError('DF_ERR_VALIDATION', detail);
}
