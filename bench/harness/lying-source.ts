import type { PieceSource } from '../../edge/pieces/index.ts';

/**
 * A holder that lies: for the pieces `lies` selects, the first byte served is flipped, so the
 * requester's digest check fails. It wraps the piece-source port (edge/pieces/piece-source.ts),
 * the one place fault injection enters the data plane; the product knows nothing of it.
 */
export function lyingSource(source: PieceSource, lies: (taskId: string, piece: number) => boolean): PieceSource {
  return {
    // What it holds is told truly: a liar is asked for the pieces it has, like anyone.
    ...(source.holdings ? { holdings: (taskId: string) => source.holdings!(taskId) } : {}),
    async open(taskId, piece) {
      const opened = await source.open(taskId, piece);
      if (!opened || !lies(taskId, piece)) return opened;
      return {
        ...opened,
        async *chunks(start, end, chunkBytes) {
          let first = true;
          for await (const chunk of opened.chunks(start, end, chunkBytes)) {
            if (first && start === 0 && chunk.length > 0) {
              const copy = Buffer.from(chunk); // the holder's own bytes (kept for other uploads) stay true
              copy[0] = copy[0]! ^ 0xff;
              yield copy;
            } else yield chunk;
            first = false;
          }
        },
      };
    },
  };
}

/** `--lie all` or `--lie 0,3,7`: which pieces a lying peer corrupts. */
export function liesFor(spec: string): (taskId: string, piece: number) => boolean {
  if (spec === 'all') return () => true;
  if (!/^\d+(,\d+)*$/.test(spec)) throw new Error(`--lie takes 'all' or piece numbers such as 0,3,7, got ${spec}`);
  const pieces = new Set(spec.split(',').map(Number));
  return (_taskId, piece) => pieces.has(piece);
}
