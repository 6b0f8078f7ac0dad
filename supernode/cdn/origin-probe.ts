import { bodyExcerpt, discardBody, header, isTransientStatus, originError, type OriginClient, type OriginResponse } from './origin-client.ts';

export interface OriginProbe {
  contentLength: number;
  acceptRanges: boolean;
  etag: string | null;
  lastModified: string | null;
}

/**
 * What the seed needs to know before fetching: the length (to lay out pieces), whether Range
 * works (to resume), and the validators (to resume safely and to reuse the cache).
 *
 * HEAD first; many origins refuse it (S3 URLs presigned for GET answer 403, some servers 405),
 * so any non-2xx HEAD, or one without a length, falls back to `GET` with `Range: bytes=0-0`,
 * which also settles Range support when HEAD did not say `Accept-Ranges: bytes`.
 */
export async function probeOrigin(client: OriginClient, url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<OriginProbe> {
  const head = await client.request(url, { method: 'HEAD', headers, signal });
  await head.body.dump().catch(() => {
    // A HEAD has no body; this only releases the connection.
  });
  const headLength = contentLengthOf(head);
  if (ok(head.statusCode) && headLength !== null) {
    const ranges = header(head.headers, 'accept-ranges')?.toLowerCase() ?? null;
    const validators = validatorsOf(head);
    if (ranges === 'bytes' || ranges === 'none') return { contentLength: headLength, acceptRanges: ranges === 'bytes', ...validators };
    const probed = await rangeProbe(client, url, headers, signal);
    return { ...probed, contentLength: headLength, etag: validators.etag ?? probed.etag, lastModified: validators.lastModified ?? probed.lastModified };
  }
  return rangeProbe(client, url, headers, signal);
}

async function rangeProbe(client: OriginClient, url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<OriginProbe> {
  const res = await client.request(url, { method: 'GET', headers: { ...headers, range: 'bytes=0-0' }, signal });
  const validators = validatorsOf(res);
  if (res.statusCode === 206) {
    discardBody(res.body);
    const total = totalOf(header(res.headers, 'content-range'));
    if (total === null) throw originError(`${url} answered a range without a total length`, headers, false);
    return { contentLength: total, acceptRanges: true, ...validators };
  }
  if (res.statusCode === 416 && totalOf(header(res.headers, 'content-range')) === 0) {
    discardBody(res.body);
    return { contentLength: 0, acceptRanges: true, ...validators };
  }
  if (ok(res.statusCode)) {
    // The origin ignored the Range: we learnt the length and must not download the body now.
    discardBody(res.body);
    const length = contentLengthOf(res);
    if (length === null) throw originError(`${url} declares no content length; it cannot be split into pieces`, headers, false);
    return { contentLength: length, acceptRanges: false, ...validators };
  }
  const excerpt = await bodyExcerpt(res.body);
  throw originError(`${url} answered ${res.statusCode}${excerpt ? `: ${excerpt}` : ''}`, headers, isTransientStatus(res.statusCode));
}

const ok = (status: number) => status >= 200 && status < 300;

function contentLengthOf(res: OriginResponse): number | null {
  const raw = header(res.headers, 'content-length');
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
}

/** The total of a Content-Range: "bytes 0-0/1234" or "bytes *\/1234". */
export function totalOf(contentRange: string | null): number | null {
  const m = contentRange ? /^bytes (?:\d+-\d+|\*)\/(\d+)$/.exec(contentRange.trim()) : null;
  return m ? Number(m[1]) : null;
}

export function validatorsOf(res: OriginResponse): { etag: string | null; lastModified: string | null } {
  return { etag: header(res.headers, 'etag'), lastModified: header(res.headers, 'last-modified') };
}
