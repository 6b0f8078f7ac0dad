import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Linux's USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system, all threads) a live process has used so far, from
 * /proc/<pid>/stat; null where there is no procfs (or the process is gone). The benchmarks
 * read it at the start and the end of the timed part, so they can say where the CPU went:
 * on two cores, 20 peer processes and a supernode compete for it, and a swarm whose machine
 * is saturated measures the machine as much as the swarm.
 */
export function processCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) in parentheses: utime is the 14th, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null; // the process is gone (or /proc is absent): no figure, rather than a wrong one
  }
}

/** The machine's CPU time so far, busy and total, in seconds summed over cores (os.cpus()). */
export function machineCpuSeconds(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times.user + c.times.nice + c.times.sys + c.times.irq;
    busy += t;
    total += t + c.times.idle;
  }
  return { busy: busy / 1000, total: total / 1000 };
}

export interface CpuUsed<K extends string> {
  /** CPU seconds each group of processes used while measured; null without procfs or if one is gone. */
  seconds: Record<K, number | null>;
  /** The machine's busy share over the same time (all cores). */
  machineBusy: number;
}

/**
 * Starts measuring the CPU of named groups of processes (by pid) and of the machine; the
 * returned function ends the measurement. The benchmarks time their runs with it.
 */
export function startCpuMeter<K extends string>(groups: Record<K, readonly (number | undefined)[]>): () => CpuUsed<K> {
  const read = () => {
    const seconds = {} as Record<K, number | null>;
    for (const key of Object.keys(groups) as K[]) {
      const each = groups[key].map(processCpuSeconds);
      seconds[key] = each.some((s) => s === null) ? null : each.reduce<number>((a, s) => a + s!, 0);
    }
    return { seconds, machine: machineCpuSeconds() };
  };
  const start = read();
  return () => {
    const end = read();
    const seconds = {} as Record<K, number | null>;
    for (const key of Object.keys(groups) as K[]) {
      const [a, b] = [start.seconds[key], end.seconds[key]];
      seconds[key] = a === null || b === null ? null : b - a;
    }
    return { seconds, machineBusy: (end.machine.busy - start.machine.busy) / (end.machine.total - start.machine.total) };
  };
}
