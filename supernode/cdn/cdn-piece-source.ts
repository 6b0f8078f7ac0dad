import type { FileHandle } from 'node:fs/promises';
import { bufferPiece, type OpenPiece, type PieceSource } from '../../edge/pieces/index.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';
import type { CdnStore } from './cdn-store.ts';

/**
 * The CDN's pieces as the piece server reads them: from memory when written recently, else
 * from the piece file. A piece file exists only once it is complete (written then renamed), so
 * whatever is found may be served. Serving a task marks it used for the CDN's LRU collection.
 */
export function cdnPieceSource(store: CdnStore, o: { log: LogSink; now?: () => number }): PieceSource {
  const now = o.now ?? Date.now;
  return {
    async open(taskId, piece) {
      const hot = store.hotPiece(taskId, piece);
      const opened = hot ? bufferPiece(hot) : await filePiece(store, taskId, piece);
      if (opened) store.touch(taskId, now()).catch((err: Error) => o.log.warn({ taskId, err: err.message }, 'could not mark the CDN task as used'));
      return opened;
    },
  };
}

async function filePiece(store: CdnStore, taskId: string, piece: number): Promise<OpenPiece | undefined> {
  const opened = await store.openPiece(taskId, piece);
  if (!opened) return undefined;
  const fh: FileHandle = opened.fh;
  return {
    size: opened.size,
    chunks: (start, end, chunkBytes) => fh.createReadStream({ start, end, highWaterMark: chunkBytes, autoClose: false }),
    close: () => fh.close(),
  };
}
