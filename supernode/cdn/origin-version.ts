import { DamselflyError } from '../../core/errors.ts';
import { header, type OriginResponse } from './origin-client.ts';

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

/**
 * Checks that a 200/206 body is the version the task was probed at and starts where the seed
 * expects; returns the content offset of its first byte (0 when the origin sent everything).
 *
 * The ETag decides when both sides have one; Last-Modified only when there is no ETag (it has
 * a one-second granularity, so it is the weaker witness). The length and, for a 206, the
 * Content-Range must match the layout: a different total is a different file.
 */
export function checkResponseVersion(res: OriginResponse, expect: { offset: number; contentLength: number; validators: Validators }): number {
  const etag = header(res.headers, 'etag');
  const lastModified = header(res.headers, 'last-modified');
  const want = expect.validators;
  if (want.etag !== null && etag !== null && etag !== want.etag) {
    throw originChanged(`its ETag is now ${etag}, the seed started at ${want.etag}`);
  }
  if (want.etag === null && want.lastModified !== null && lastModified !== null && lastModified !== want.lastModified) {
    throw originChanged(`its Last-Modified is now ${lastModified}, the seed started at ${want.lastModified}`);
  }
  if (res.statusCode === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res.headers, 'content-range')?.trim() ?? '');
    if (!m || Number(m[1]) !== expect.offset || (m[3] !== '*' && Number(m[3]) !== expect.contentLength)) {
      throw originChanged(`it answered Content-Range ${header(res.headers, 'content-range') ?? '(none)'} to a request from byte ${expect.offset} of ${expect.contentLength}`);
    }
    return expect.offset;
  }
  const length = header(res.headers, 'content-length');
  if (length !== null && Number(length) !== expect.contentLength) {
    throw originChanged(`its length is now ${length}, the seed started at ${expect.contentLength}`);
  }
  return 0;
}

export const originChanged = (why: string) => new DamselflyError('DF_ERR_ORIGIN_CHANGED', `the origin content changed while seeding: ${why}`);
