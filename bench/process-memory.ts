import { readFileSync } from 'node:fs';

/**
 * A live process's peak resident set so far (VmHWM in /proc/<pid>/status), bytes; null where
 * there is no procfs or the process is gone. The throughput benchmark states the memory a
 * download took with it: pieces are buffered whole, so this is what bounds them.
 */
export function peakRssBytes(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null; // gone, or no procfs: no figure rather than a wrong one
  }
}
