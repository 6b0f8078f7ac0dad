import type { PieceSource } from '../../edge/pieces/index.ts';
import type { TaskRegistry } from '../storage/task-registry.ts';

/**
 * A peer's verified pieces as the piece server reads them: a piece is served only if its task
 * is in the registry and the piece is stored in the task's PieceFile (verified and written).
 * Reads go through PieceFile, which answers recent pieces from memory; what a task's file holds
 * (its bitfield) is what peers choosing pieces are told.
 */
export function registryPieceSource(registry: TaskRegistry): PieceSource {
  return {
    async open(taskId, piece) {
      const file = registry.get(taskId);
      if (!file || !file.has(piece)) return undefined;
      return {
        size: file.range(piece).length,
        async *chunks(start, end, chunkBytes) {
          for (let at = start; at <= end; at += chunkBytes) yield await file.readPiece(piece, at, Math.min(chunkBytes, end - at + 1));
        },
        close: async () => {},
      };
    },
    holdings: (taskId) => registry.get(taskId)?.holdings(),
  };
}
