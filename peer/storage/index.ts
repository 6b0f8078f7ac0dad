export { PieceFile, type PieceLayout } from './piece-file.ts';
export { TaskRegistry } from './task-registry.ts';
