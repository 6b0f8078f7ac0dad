import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { request } from 'undici';
import type { Throttle } from '../rate/throttle.ts';

/**
 * Downloads straight from the origin (no supernode answered, and back-to-source is allowed):
 * streamed into a temp file, verified against --digest if given, renamed at the end.
 * The origin headers go to the origin only.
 */
export async function downloadFromOrigin(o: {
  url: string;
  output: string;
  headers: Record<string, string>;
  digest?: string;
  throttle?: Throttle;
  signal?: AbortSignal;
}): Promise<{ bytes: number }> {
  const temp = `${o.output}.damselfly-origin.tmp`;
  const res = await request(o.url, { headers: o.headers, signal: o.signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`the origin answered ${res.statusCode}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      if (!o.throttle) return done(null, chunk);
      o.throttle.take(chunk.length, o.signal).then(() => done(null, chunk), done);
    },
  });
  try {
    await pipeline(res.body, meter, createWriteStream(temp));
    const actual = `sha256:${hash.digest('hex')}`;
    if (o.digest && actual !== o.digest) throw new Error(`the downloaded file's digest ${actual} does not match ${o.digest}`);
    await rename(temp, o.output);
    return { bytes };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
