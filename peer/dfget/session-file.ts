import { DamselflyError } from '../../core/errors.ts';
import { PieceFile, type PieceLayout } from '../storage/piece-file.ts';
import type { SwarmCounters } from './swarm-counters.ts';
import type { SwarmSessionOptions } from './swarm-session.ts';

type FileOptions = Pick<SwarmSessionOptions, 'output' | 'registry' | 'taskId' | 'onFile'>;

/**
 * A session's piece file, the same for both protocols: the one it has (the task's layout must
 * not change under it), or a new one, served from then on and counted.
 */
export async function ensureSessionFile(current: PieceFile | undefined, layout: PieceLayout, o: FileOptions, counters: SwarmCounters): Promise<PieceFile> {
  if (current) {
    const l = current.layout;
    if (l.contentLength !== layout.contentLength || l.pieceSize !== layout.pieceSize) {
      throw new DamselflyError('DF_ERR_ORIGIN_CHANGED', `the task's layout changed from ${l.contentLength}/${l.pieceSize} to ${layout.contentLength}/${layout.pieceSize}`);
    }
    return current;
  }
  const file = await PieceFile.create(o.output, layout);
  o.registry.add(o.taskId, file);
  o.onFile?.(file);
  counters.contentLength = layout.contentLength;
  counters.pieceCount = file.pieceCount;
  return file;
}

/** The file once the supernode says the download is done: complete, or a DF_ERR_TASK_STATE. */
export async function doneFile(current: PieceFile | undefined, o: FileOptions, counters: SwarmCounters): Promise<PieceFile> {
  const file = current ?? (await ensureSessionFile(undefined, { contentLength: 0, pieceSize: 1 }, o, counters));
  if (!file.isComplete) {
    throw new DamselflyError('DF_ERR_TASK_STATE', `the supernode reports the download done, but only ${file.storedCount} of ${file.pieceCount} pieces are here`);
  }
  return file;
}
