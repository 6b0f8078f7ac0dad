import { statfs } from 'node:fs/promises';
import { hostname as machineName } from 'node:os';
import { HOST_HEARTBEAT_MS, type HostAnnouncement } from '../../core/wire/host-api.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';
import { SupernodeClient } from '../dfget/supernode-client.ts';

/** How long stop() waits for the supernode to hear that the host leaves: past it, the host drops out after the TTL anyway. */
const LEAVE_WITHIN_MS = 3000;
/** At most one warning this often while no supernode takes the announcement. */
const WARN_EVERY_MS = 60_000;

export interface HostAnnouncerOptions {
  nodes: string[];
  token?: string;
  /** The id the host is announced under (host-id.ts keeps it in the data dir). */
  hostId: string;
  /** The cache's directory: its file system's free and total bytes are announced. */
  dataDir: string;
  /** host:port of the daemon's piece uploader. */
  uploadAddress: string;
  /** The mirror/proxy port. */
  proxyPort?: number;
  /** Between announcements (default HOST_HEARTBEAT_MS). */
  intervalMs?: number;
  /** The machine's name, for people (default os.hostname()). */
  hostname?: string;
  logger: LogSink;
}

export interface HostAnnouncer {
  readonly hostId: string;
  /** Stops announcing and tells a supernode the host leaves, waiting for that at most a few seconds. */
  stop(): Promise<void>;
}

/**
 * Registers the daemon's host with the supernodes (`PUT /api/v1/hosts/{hostId}`, issue 11) at
 * once and again every interval as its heartbeat, with the free and total bytes of the cache's
 * file system. Each announcement goes to the `--node`s in order until one answers (they share
 * the store). A supernode that is down never stops or slows the daemon: the announcement is
 * retried next tick and a warning logged at most once a minute.
 */
export function startHostAnnouncer(o: HostAnnouncerOptions): HostAnnouncer {
  const log = o.logger;
  const hostname = o.hostname ?? machineName();
  const { hostId } = o;
  // Short timeouts: a heartbeat stuck on a dead node would only delay the next one.
  const client = new SupernodeClient(o.nodes, { token: o.token, connectTimeoutMs: 2000, requestTimeoutMs: 5000 });
  const intervalMs = o.intervalMs ?? HOST_HEARTBEAT_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let failures = 0;
  let warnedAt = -Infinity;

  async function announce(): Promise<void> {
    try {
      const disk = await statfs(o.dataDir);
      const body: HostAnnouncement = {
        hostname: hostname.slice(0, 253) || hostId,
        uploadAddress: o.uploadAddress,
        ...(o.proxyPort ? { proxyPort: o.proxyPort } : {}),
        freeDiskBytes: Math.min(disk.bavail * disk.bsize, Number.MAX_SAFE_INTEGER),
        totalDiskBytes: Math.min(disk.blocks * disk.bsize, Number.MAX_SAFE_INTEGER),
      };
      await client.announceHost(hostId, body);
      if (failures > 0) log.info({ hostId, failures }, 'the host is announced again');
      failures = 0;
    } catch (err) {
      if (stopped) return; // stop() destroyed the client under this call: nothing to report
      failures++;
      if (Date.now() - warnedAt >= WARN_EVERY_MS) {
        warnedAt = Date.now();
        log.warn({ hostId, failures, err: (err as Error).message }, 'could not announce the host; retrying every heartbeat');
      }
    }
  }

  // A chain of timeouts, not an interval: a slow announcement never overlaps the next one.
  const tick = () => {
    inFlight = announce().finally(() => {
      inFlight = undefined;
      if (!stopped) timer = setTimeout(tick, intervalMs).unref();
    });
  };
  tick();

  return {
    hostId,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(timer);
      // After the heartbeat in flight, so that it cannot land after the leave and register the host again.
      const leave = (async () => {
        await inFlight;
        await client.leaveHost(hostId);
      })();
      let timeout: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timeout = setTimeout(() => resolve('late'), LEAVE_WITHIN_MS)));
      const outcome = await Promise.race([leave.then(() => 'left' as const, (err: Error) => err), late]);
      clearTimeout(timeout);
      if (outcome !== 'left') {
        log.warn({ hostId, err: outcome === 'late' ? `no answer within ${LEAVE_WITHIN_MS} ms` : outcome.message }, 'could not tell a supernode the host leaves; it drops out after the TTL');
      }
      // Fails whatever is still pending on a dead node rather than waiting for its timeouts.
      await client.destroy();
      await leave.catch(() => undefined); // already reported above
    },
  };
}
