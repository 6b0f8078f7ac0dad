/**
 * Waits for `work` at most `ms`: 'done', the error it failed with, or 'late'. The work is not
 * cancelled (a promise cannot be); a caller that gets 'late' must make it end some other way
 * (close its sockets) or accept that it may keep the process alive.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<'done' | 'late' | Error> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  try {
    return await Promise.race([work.then(() => 'done' as const, (err: unknown) => (err instanceof Error ? err : new Error(String(err)))), late]);
  } finally {
    clearTimeout(timer);
  }
}
