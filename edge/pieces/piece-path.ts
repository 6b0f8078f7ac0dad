import type { ErrorCode } from '../../core/errors.ts';

/**
 * What a piece request may say (core/wire/peer-api.ts `piecePath`), parsed from the raw request
 * target before anything is looked up: a 64-hex task id and a piece number, nothing else.
 * Percent-escapes are not decoded, so "..%2f" is simply not a match.
 */
export type PiecePath = { taskId: string; piece: number } | { code: ErrorCode; detail: string };

const PIECE_PATH = /^\/pieces\/([0-9a-f]{64})\/(0|[1-9]\d{0,8})$/;

export function parsePiecePath(url: string): PiecePath {
  const path = url.split('?')[0]!;
  const m = PIECE_PATH.exec(path);
  if (m) return { taskId: m[1]!, piece: Number(m[2]) };
  if (path.startsWith('/pieces/')) return { code: 'DF_ERR_VALIDATION', detail: 'expected /pieces/<task id: 64 hex digits>/<piece number>' };
  return { code: 'DF_ERR_NOT_FOUND', detail: 'this server only serves /pieces/<taskId>/<piece>' };
}
