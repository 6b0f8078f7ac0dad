import { z } from 'zod';
import type { SqlClient } from '../store/sql-client.ts';
import { checkHostId, checkLimits, checkMs, checkQuery, type HostInput, type HostLimits, type HostListQuery, type HostRecord, type HostStore } from './host-store.ts';

// TTLs travel as milliseconds and become intervals in SQL, so the database's clock alone
// decides who is live (migrations/0003_hosts.sql).
const ms = (n: number) => `($${n}::float8 * interval '1 millisecond')`;
const COLUMNS = 'host_id, hostname, upload_address, proxy_port, free_disk_bytes, total_disk_bytes, version, registered_at, last_seen';

/** The heartbeat: one row by primary key, no count. Most announcements are this. */
const REFRESH = `
  UPDATE hosts SET hostname = $2::text, upload_address = $3::text, proxy_port = $4::int, free_disk_bytes = $5::bigint,
    total_disk_bytes = $6::bigint, version = $7::text, last_seen = now()
  WHERE host_id = $1::text
  RETURNING ${COLUMNS}, true AS alive`;

/**
 * A host not stored yet, inserted only while the table holds fewer than $8 hosts. ON CONFLICT
 * covers the same host's first announcement reaching two replicas at once.
 */
const INSERT = `
  INSERT INTO hosts AS h (host_id, hostname, upload_address, proxy_port, free_disk_bytes, total_disk_bytes, version)
  SELECT $1::text, $2::text, $3::text, $4::int, $5::bigint, $6::bigint, $7::text
  WHERE (SELECT count(*) FROM hosts) < $8::int
  ON CONFLICT (host_id) DO UPDATE SET hostname = excluded.hostname, upload_address = excluded.upload_address,
    proxy_port = excluded.proxy_port, free_disk_bytes = excluded.free_disk_bytes, total_disk_bytes = excluded.total_disk_bytes,
    version = excluded.version, last_seen = now()
  RETURNING ${COLUMNS}, true AS alive`;

const FORGET = `DELETE FROM hosts WHERE last_seen <= now() - ${ms(1)}`;

// COLLATE "C": byte order, as the memory adapter sorts and as `after` pages; the database's
// default collation need not order ids so.
const LIST = `
  SELECT ${COLUMNS}, last_seen > now() - ${ms(1)} AS alive FROM hosts
  WHERE last_seen > now() - ${ms(2)} AND ($3::text IS NULL OR host_id COLLATE "C" > $3::text)
  ORDER BY host_id COLLATE "C" LIMIT $4::int`;

const COUNT_LIVE = `SELECT count(*)::int AS n FROM hosts WHERE last_seen > now() - ${ms(1)}`;

// Rows read back are validated (the drivers differ: pg returns int8 as text, PGlite as number).
const hostRow = z.object({
  host_id: z.string(),
  hostname: z.string(),
  upload_address: z.string(),
  proxy_port: z.coerce.number().int().nullable(),
  free_disk_bytes: z.coerce.number().int(),
  total_disk_bytes: z.coerce.number().int(),
  version: z.string().nullable(),
  registered_at: z.coerce.date(),
  last_seen: z.coerce.date(),
  alive: z.boolean(),
});
const countRow = z.object({ n: z.coerce.number().int() });

/**
 * HostStore on the SQL surface both PostgreSQL and PGlite implement. It borrows the client
 * (the event store's): close() does not close it.
 */
export class SqlHostStore implements HostStore {
  constructor(private readonly client: SqlClient) {}

  async announce(hostId: string, host: HostInput, limits: HostLimits): Promise<HostRecord | null> {
    checkHostId(hostId);
    checkLimits(limits);
    const values = [hostId, host.hostname, host.uploadAddress, host.proxyPort, host.freeDiskBytes, host.totalDiskBytes, host.version];
    const [refreshed] = await this.client.query(REFRESH, values, 'df_hosts_refresh');
    if (refreshed) return toRecord(refreshed);
    const insert = () => this.client.query(INSERT, [...values, limits.maxHosts], 'df_hosts_insert');
    let [inserted] = await insert();
    if (!inserted) {
      // Full: forget the long-gone hosts (only now, so a heartbeat never pays for it) and try once more.
      await this.client.query(FORGET, [limits.forgetAfterMs], 'df_hosts_forget');
      [inserted] = await insert();
    }
    return inserted ? toRecord(inserted) : null;
  }

  async remove(hostId: string): Promise<boolean> {
    checkHostId(hostId);
    return (await this.client.query('DELETE FROM hosts WHERE host_id = $1::text RETURNING host_id', [hostId])).length === 1;
  }

  async list(q: HostListQuery): Promise<HostRecord[]> {
    checkQuery(q);
    return (await this.client.query(LIST, [q.ttlMs, q.seenWithinMs, q.after ?? null, q.limit], 'df_hosts_list')).map(toRecord);
  }

  async countLive(ttlMs: number): Promise<number> {
    checkMs('ttlMs', ttlMs);
    const [row] = await this.client.query(COUNT_LIVE, [ttlMs], 'df_hosts_count_live');
    return countRow.parse(row).n;
  }

  async close(): Promise<void> {}
}

function toRecord(row: unknown): HostRecord {
  const r = hostRow.parse(row);
  return {
    hostId: r.host_id,
    hostname: r.hostname,
    uploadAddress: r.upload_address,
    proxyPort: r.proxy_port,
    freeDiskBytes: r.free_disk_bytes,
    totalDiskBytes: r.total_disk_bytes,
    version: r.version,
    registeredAt: r.registered_at,
    lastSeen: r.last_seen,
    alive: r.alive,
  };
}
