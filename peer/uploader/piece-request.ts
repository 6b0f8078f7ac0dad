import type { ErrorCode } from '../../core/errors.ts';

/**
 * What a piece request may say, parsed before anything is looked up: a 64-hex task id and a
 * piece number, nothing else. Percent-escapes are not decoded, so "..%2f" is simply not a match.
 */
export type PiecePath = { taskId: string; piece: number } | { code: ErrorCode; detail: string };

const PIECE_PATH = /^\/pieces\/([0-9a-f]{64})\/(0|[1-9]\d{0,8})$/;

export function parsePiecePath(url: string): PiecePath {
  const path = url.split('?')[0]!;
  const m = PIECE_PATH.exec(path);
  if (m) return { taskId: m[1]!, piece: Number(m[2]) };
  if (path.startsWith('/pieces/')) return { code: 'DF_ERR_VALIDATION', detail: 'expected /pieces/<64 hex digits>/<piece number>' };
  return { code: 'DF_ERR_NOT_FOUND', detail: 'this server only serves /pieces/<taskId>/<piece>' };
}

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * One `Range: bytes=…` (RFC 9110 §14) within a piece of `size` bytes: the inclusive range to
 * send, 'unsatisfiable' (416), or undefined to send the whole piece (absent, malformed, another
 * unit, several ranges: a server may ignore those, and peers never send them). The same rules
 * as the CDN's piece route, so a downloader sees one behaviour from every source.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1) };
}
