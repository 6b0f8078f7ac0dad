import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HostId } from '../../core/wire/host-api.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';

/** The file under the daemon's data dir that keeps its host id across restarts. */
export const HOST_ID_FILE = 'host-id';

/**
 * The daemon's host id: read from `<dataDir>/host-id`, or made up (the machine's name plus 48
 * random bits) and written there on first start. Kept with the data dir rather than derived
 * from the machine, so a restart keeps its identity while several daemons side by side on one
 * machine (tests, demos: one data dir each) are distinct hosts.
 */
export async function loadHostId(dataDir: string, hostname: string, log: LogSink): Promise<string> {
  const file = join(dataDir, HOST_ID_FILE);
  const stored = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (stored !== undefined) {
    const parsed = HostId.safeParse(stored.trim());
    if (parsed.success) return parsed.data;
    // Not ours to repair by hand: a new identity costs only a stale entry until the TTL.
    log.warn({ file }, 'the stored host id is not valid; making a new one');
  }
  const name = hostname.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 63) || 'host';
  const id = `${name}-${randomBytes(6).toString('hex')}`;
  // Written aside and renamed: a crash mid-write leaves no half id behind.
  await writeFile(`${file}.${process.pid}.tmp`, `${id}\n`);
  await rename(`${file}.${process.pid}.tmp`, file);
  return id;
}
