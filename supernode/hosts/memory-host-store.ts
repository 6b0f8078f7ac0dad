import { checkHostId, checkLimits, checkMs, checkQuery, compareIds, type HostInput, type HostLimits, type HostListQuery, type HostRecord, type HostStore } from './host-store.ts';

interface HostRow extends HostInput {
  registeredAt: number;
  lastSeen: number;
}

/**
 * HostStore in one process's memory: the embedded single-process mode and tests. Same rules as
 * the SQL adapter (the conformance suite runs both); `now` is the store's clock.
 */
export class MemoryHostStore implements HostStore {
  private readonly rows = new Map<string, HostRow>();

  constructor(private readonly now: () => number = Date.now) {}

  async announce(hostId: string, host: HostInput, limits: HostLimits): Promise<HostRecord | null> {
    checkHostId(hostId);
    checkLimits(limits);
    const now = this.now();
    const known = this.rows.get(hostId);
    if (!known && this.rows.size >= limits.maxHosts) {
      for (const [id, row] of this.rows) if (row.lastSeen <= now - limits.forgetAfterMs) this.rows.delete(id);
      if (this.rows.size >= limits.maxHosts) return null;
    }
    const row = { ...host, registeredAt: known?.registeredAt ?? now, lastSeen: now };
    this.rows.set(hostId, row);
    return record(hostId, row, true);
  }

  async remove(hostId: string): Promise<boolean> {
    checkHostId(hostId);
    return this.rows.delete(hostId);
  }

  async list(q: HostListQuery): Promise<HostRecord[]> {
    checkQuery(q);
    const now = this.now();
    return [...this.rows]
      .filter(([id, r]) => r.lastSeen > now - q.seenWithinMs && (q.after === undefined || compareIds(id, q.after) > 0))
      .sort(([a], [b]) => compareIds(a, b))
      .slice(0, q.limit)
      .map(([id, r]) => record(id, r, r.lastSeen > now - q.ttlMs));
  }

  async countLive(ttlMs: number): Promise<number> {
    checkMs('ttlMs', ttlMs);
    const since = this.now() - ttlMs;
    let n = 0;
    for (const r of this.rows.values()) if (r.lastSeen > since) n++;
    return n;
  }

  async close(): Promise<void> {}
}

function record(hostId: string, r: HostRow, alive: boolean): HostRecord {
  const { registeredAt, lastSeen, ...host } = r;
  return { hostId, ...host, registeredAt: new Date(registeredAt), lastSeen: new Date(lastSeen), alive };
}
