import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { Agent, request } from 'undici';
import { DamselflyError } from '../../core/errors.ts';
import { ensureFreeSpace } from '../../edge/disk/free-space.ts';
import { followRedirects } from '../../edge/http/follow-redirects.ts';
import type { Throttle } from '../../edge/rate/throttle.ts';

export interface OriginDownload {
  url: string;
  output: string;
  /** Sent to the origin only; never logged, never part of an error message. */
  headers: Record<string, string>;
  /**
   * Header names that may follow a redirect to another origin besides the request-control ones
   * (edge/http/follow-redirects.ts); by default no header the caller gave does.
   */
  crossOriginSafe?: readonly string[];
  digest?: string;
  throttle?: Throttle;
  signal?: AbortSignal;
  timeoutMs?: number;
  onBytes?: (total: number) => void;
}

/**
 * Back-to-source: no supernode answered and the user allows it, so the file comes straight from
 * the origin, streamed into a temp file beside the output, checked against --digest as it goes,
 * renamed at the end (never a partial file under the output's name). Redirects are followed
 * (object stores answer with them); a redirect to another origin carries only the headers
 * marked safe, never the caller's credentials (edge/http/follow-redirects.ts, as the CDN does).
 */
export async function downloadFromOrigin(o: OriginDownload): Promise<{ bytes: number }> {
  const temp = `${o.output}.damselfly-${randomBytes(6).toString('hex')}.tmp`;
  const timeout = o.timeoutMs ?? 30_000;
  const dispatcher = new Agent({ headersTimeout: timeout, bodyTimeout: timeout });
  try {
    const res = await followRedirects(
      originUrl(o.url),
      { method: 'GET', headers: o.headers },
      (url, method, headers) => request(url, { method: method as 'GET', headers, signal: o.signal, dispatcher }),
      o.crossOriginSafe ? { crossOriginSafe: o.crossOriginSafe } : {},
    );
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new DamselflyError('DF_ERR_ORIGIN', `the origin answered ${res.statusCode}`);
    }
    const announced = Number(res.headers['content-length']);
    if (Number.isSafeInteger(announced)) {
      await ensureFreeSpace(dirname(o.output), announced, `the download of ${o.output}`).catch((err: unknown) => {
        res.body.destroy(); // not read: let the connection go rather than drain a file that cannot fit
        throw err;
      });
    }
    const hash = createHash('sha256');
    let bytes = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        o.onBytes?.(bytes);
        if (!o.throttle) return done(null, chunk);
        o.throttle.take(chunk.length, o.signal).then(() => done(null, chunk), done);
      },
    });
    await pipeline(res.body, meter, createWriteStream(temp, { flags: 'wx' }));
    const actual = `sha256:${hash.digest('hex')}`;
    if (o.digest && actual !== o.digest) throw new DamselflyError('DF_ERR_DIGEST_MISMATCH', `the origin's file is ${actual}, expected ${o.digest}`);
    await rename(temp, o.output);
    return { bytes };
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    await dispatcher.close();
  }
}

function originUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    // The parse error repeats the input, credentials and all.
    throw new DamselflyError('DF_ERR_VALIDATION', 'the origin URL is not a valid URL');
  }
}
