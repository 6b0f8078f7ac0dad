/** One measured figure: how many events in how long. */
export interface Throughput {
  events: number;
  seconds: number;
  perSecond: number;
}

/** Times `run`, which returns how many events it handled. Wall-clock time, as a user sees it. */
export async function measure(run: () => Promise<number> | number): Promise<Throughput> {
  const start = performance.now();
  const events = await run();
  const seconds = (performance.now() - start) / 1000;
  return { events, seconds, perSecond: seconds > 0 ? Math.round(events / seconds) : 0 };
}

/**
 * The median of `repeats` timed runs, for figures short enough to be disturbed by a GC pause
 * or by another process on the two shared cores. One untimed warm-up run first when asked
 * (the pure fold: the JIT would otherwise be measured too).
 */
export async function medianOf(repeats: number, run: () => Promise<number> | number, warmUp = false): Promise<Throughput> {
  if (warmUp) await run();
  const samples: Throughput[] = [];
  for (let i = 0; i < Math.max(1, repeats); i++) samples.push(await measure(run));
  samples.sort((a, b) => a.perSecond - b.perSecond);
  return samples[Math.floor(samples.length / 2)]!;
}
