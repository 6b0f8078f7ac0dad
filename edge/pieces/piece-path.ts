import type { ErrorCode } from '../../core/errors.ts';

/**
 * What a request to a piece server may say, parsed from the raw request target before anything
 * is looked up: a 64-hex task id and a piece number (core/wire/peer-api.ts `piecePath`), or the
 * task id alone to ask what the holder has (`holdingsPath` in fetch-holdings.ts), nothing else.
 * Percent-escapes are not decoded, so "..%2f" is simply not a match.
 */
export type PiecePath =
  | { kind: 'piece'; taskId: string; piece: number }
  | { kind: 'holdings'; taskId: string; after: number; waitMs: number }
  | { kind: 'refused'; code: ErrorCode; detail: string };

/** The longest a holdings request is held: well under the idle timeouts of clients and proxies. */
export const MAX_HOLDINGS_WAIT_MS = 30_000;

/** The header of a holdings answer carrying its count: the cursor for the next request's `after`. */
export const PIECE_COUNT_HEADER = 'x-damselfly-piece-count';

const PIECE_PATH = /^\/pieces\/([0-9a-f]{64})\/(0|[1-9]\d{0,8})$/;
const HOLDINGS_PATH = /^\/pieces\/([0-9a-f]{64})$/;
const COUNT = /^(0|[1-9]\d{0,8})$/;

export function parsePiecePath(url: string): PiecePath {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  const m = PIECE_PATH.exec(path);
  if (m) return { kind: 'piece', taskId: m[1]!, piece: Number(m[2]) };
  const h = HOLDINGS_PATH.exec(path);
  if (h) {
    const query = parseHoldingsQuery(at < 0 ? '' : url.slice(at + 1));
    if (query) return { kind: 'holdings', taskId: h[1]!, ...query };
    return refused('DF_ERR_VALIDATION', 'the query may only carry after=<count> and waitMs=<ms>, non-negative integers, each at most once');
  }
  if (path.startsWith('/pieces/')) return refused('DF_ERR_VALIDATION', 'expected /pieces/<task id: 64 hex digits>/<piece number> or /pieces/<task id>?after=<count>&waitMs=<ms>');
  return refused('DF_ERR_NOT_FOUND', 'this server only serves /pieces/<taskId>/<piece> and /pieces/<taskId>');
}

/** after: -1 (answer at once) unless given; waitMs: 0 unless given, capped rather than refused. */
function parseHoldingsQuery(query: string): { after: number; waitMs: number } | undefined {
  const q: Record<string, number> = {};
  for (const pair of query === '' ? [] : query.split('&')) {
    const eq = pair.indexOf('=');
    const name = pair.slice(0, Math.max(0, eq));
    if ((name !== 'after' && name !== 'waitMs') || name in q || !COUNT.test(pair.slice(eq + 1))) return undefined;
    q[name] = Number(pair.slice(eq + 1));
  }
  return { after: q.after ?? -1, waitMs: Math.min(q.waitMs ?? 0, MAX_HOLDINGS_WAIT_MS) };
}

function refused(code: ErrorCode, detail: string): PiecePath {
  return { kind: 'refused', code, detail };
}
