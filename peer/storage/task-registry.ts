import type { PieceFile } from './piece-file.ts';

/** Where a task's verified pieces are: the file and its layout. */
export interface HeldTask {
  file: PieceFile;
  pieceSize: number;
  contentLength: number;
}

/**
 * The tasks this peer can serve, shared by its downloads and its uploader. The uploader serves
 * a piece only if the task is here and the piece is stored (i.e. verified): nothing from a
 * request ever names a file.
 */
export class TaskRegistry {
  private readonly tasks = new Map<string, HeldTask>();

  add(taskId: string, task: HeldTask): void {
    this.tasks.set(taskId, task);
  }

  get(taskId: string): HeldTask | undefined {
    return this.tasks.get(taskId);
  }

  remove(taskId: string): void {
    this.tasks.delete(taskId);
  }
}
