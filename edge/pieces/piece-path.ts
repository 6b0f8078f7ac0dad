import type { ErrorCode } from '../../core/errors.ts';

/**
 * What a request to a piece server may say, parsed from the raw request target before anything
 * is looked up: a 64-hex task id and a piece number (core/wire/peer-api.ts `piecePath`), or the
 * task id alone to ask what the holder has (`holdingsPath` in watch-holdings.ts), nothing else.
 * Percent-escapes are not decoded, so "..%2f" is simply not a match.
 */
export type PiecePath =
  | { kind: 'piece'; taskId: string; piece: number }
  | { kind: 'holdings'; taskId: string; watch: boolean }
  | { kind: 'refused'; code: ErrorCode; detail: string };

/** The header of a holdings answer carrying how many pieces its bitfield has set. */
export const PIECE_COUNT_HEADER = 'x-damselfly-piece-count';

/**
 * A watch (`GET /pieces/<task>?watch`) is a stream of 4-byte big-endian records: first one per
 * piece held, then this record (the set so far is complete), then one per piece as it lands.
 * The same record is sent when nothing landed for WATCH_HEARTBEAT_MS, so a requester can tell
 * a quiet holder from a dead one. The stream ends once the holder holds every piece.
 */
export const WATCH_MARK = 0xffff_ffff;
export const WATCH_HEARTBEAT_MS = 10_000;

const PIECE_PATH = /^\/pieces\/([0-9a-f]{64})\/(0|[1-9]\d{0,8})$/;
const HOLDINGS_PATH = /^\/pieces\/([0-9a-f]{64})$/;

export function parsePiecePath(url: string): PiecePath {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const m = PIECE_PATH.exec(path);
  if (m) return { kind: 'piece', taskId: m[1]!, piece: Number(m[2]) };
  const h = HOLDINGS_PATH.exec(path);
  if (h) {
    const query = at < 0 ? '' : url.slice(at + 1);
    if (query === '' || query === 'watch') return { kind: 'holdings', taskId: h[1]!, watch: query === 'watch' };
    return refused('DF_ERR_VALIDATION', 'the query may only be `watch`');
  }
  if (path.startsWith('/pieces/')) return refused('DF_ERR_VALIDATION', 'expected /pieces/<task id: 64 hex digits>/<piece number> or /pieces/<task id>[?watch]');
  return refused('DF_ERR_NOT_FOUND', 'this server only serves /pieces/<taskId>/<piece> and /pieces/<taskId>');
}

function refused(code: ErrorCode, detail: string): PiecePath {
  return { kind: 'refused', code, detail };
}
