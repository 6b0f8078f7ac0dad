/** A validated piece request: only these two numbers ever leave the URL. */
export type PieceRequest =
  | { taskId: string; piece: number; range?: { start: number; end?: number } }
  | { error: string; status: number; code: string };

const PATH = /^\/pieces\/([0-9a-f]{64})\/(\d{1,9})$/;

export function parsePieceRequest(url: string, rangeHeader: string | undefined): PieceRequest {
  const path = url.split('?')[0]!;
  const m = PATH.exec(path);
  if (!m) return { error: 'expected /pieces/<64-hex task id>/<piece number>', status: path.startsWith('/pieces/') ? 400 : 404, code: path.startsWith('/pieces/') ? 'DF_ERR_VALIDATION' : 'DF_ERR_NOT_FOUND' };
  const piece = Number(m[2]);
  if (rangeHeader === undefined) return { taskId: m[1]!, piece };
  const r = /^bytes=(\d+)-(\d*)$/.exec(rangeHeader.trim());
  if (!r) return { error: 'only a single bytes=start-end range is supported', status: 416, code: 'DF_ERR_RANGE_NOT_SATISFIABLE' };
  return { taskId: m[1]!, piece, range: { start: Number(r[1]), ...(r[2] ? { end: Number(r[2]) } : {}) } };
}
