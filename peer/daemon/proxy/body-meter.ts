/** A pipeline stage that passes a body through unchanged and tells each chunk's size (served-bytes metrics, time to first byte). */
export function bodyMeter(onChunk: (bytes: number) => void) {
  return async function* meter(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      onChunk(chunk.length);
      yield chunk;
    }
  };
}

/** An AbortSignal that fires when the client goes away before its response is complete. */
export function clientGone(res: import('node:http').ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  return ac.signal;
}
