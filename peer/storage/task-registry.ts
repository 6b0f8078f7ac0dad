import type { PieceFile } from './piece-file.ts';

/**
 * The tasks this peer can serve, shared by its downloads and its uploader (one per process, or
 * the daemon's for all its downloads). The uploader serves a piece only if the task is here and
 * the piece is stored in its PieceFile, i.e. verified: nothing from a request ever names a file.
 */
export class TaskRegistry {
  private readonly tasks = new Map<string, PieceFile>();

  add(taskId: string, file: PieceFile): void {
    this.tasks.set(taskId, file);
  }

  get(taskId: string): PieceFile | undefined {
    return this.tasks.get(taskId);
  }

  /** Removes the task only if it is still `file` (another download may have replaced it). */
  remove(taskId: string, file?: PieceFile): void {
    if (file === undefined || this.tasks.get(taskId) === file) this.tasks.delete(taskId);
  }

  taskIds(): string[] {
    return [...this.tasks.keys()];
  }
}
