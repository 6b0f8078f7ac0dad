import { Readable } from 'node:stream';
import { computeTaskId } from '../../../core/ids/task-id.ts';
import { DamselflyError } from '../../../core/errors.ts';
import type { ByteSpan, P2PBody, P2PFetcher, P2PRequest } from '../../../peer/daemon/p2p-fetcher.ts';

/**
 * A P2PFetcher over a map of blobs, recording what it was asked. `failAfter` makes a blob's
 * stream error after that many bytes (0: before the first), as the real one does on a digest
 * mismatch or a lost swarm.
 */
export function fakeFetcher(blobs: Record<string, Buffer>, o: { failAfter?: number; cached?: boolean } = {}) {
  const calls: P2PRequest[] = [];
  const fetcher: P2PFetcher = {
    async open(req: P2PRequest): Promise<P2PBody> {
      calls.push(req);
      const bytes = req.digest ? blobs[req.digest] : undefined;
      if (!bytes) throw new DamselflyError('DF_ERR_ORIGIN', 'the origin answered 404');
      return {
        taskId: computeTaskId({ url: req.url, digest: req.digest, contentAddressed: true }),
        contentLength: bytes.length,
        cached: o.cached ?? false,
        stream(span?: ByteSpan) {
          const part = span ? bytes.subarray(span.start, span.end + 1) : bytes;
          if (o.failAfter === undefined) return Readable.from([part.subarray(0, 1), part.subarray(1)]);
          const head = part.subarray(0, o.failAfter);
          return Readable.from(
            (async function* () {
              if (head.length > 0) yield head;
              await new Promise((r) => setTimeout(r, 20));
              throw new DamselflyError('DF_ERR_DIGEST_MISMATCH', 'the blob does not match its digest');
            })(),
          );
        },
      };
    },
  };
  return { fetcher, calls };
}
