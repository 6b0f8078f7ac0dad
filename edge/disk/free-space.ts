import { statfs } from 'node:fs/promises';
import { DamselflyError } from '../../core/errors.ts';
import { formatSize } from '../units/format-size.ts';

/**
 * Bytes an unprivileged writer may still use on the file system holding `dir` (statfs's
 * `bavail`, not `bfree`: the blocks reserved for root are not ours to count on).
 */
export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

/**
 * Refuses a write of `bytes` into `dir` that cannot fit, before its first byte, with
 * DF_ERR_NO_SPACE naming both figures. Files are laid out sparse (a piece file is truncated
 * to its final size at once), so without this a download that cannot fit only fails when
 * the disk fills, after minutes of work and with every other writer on the disk starved.
 * A check, not a reservation: two downloads started at once may both pass and one still
 * hit ENOSPC later, which then fails it as any write error does.
 */
export async function ensureFreeSpace(dir: string, bytes: number, what: string): Promise<void> {
  const free = await freeBytes(dir);
  if (bytes > free) {
    throw new DamselflyError('DF_ERR_NO_SPACE', `${what} needs ${formatSize(bytes)} but ${dir} has ${formatSize(free)} free`);
  }
}
