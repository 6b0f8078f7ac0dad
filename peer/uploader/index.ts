export { startUploader, type Uploader, type UploaderOptions } from './uploader.ts';
export { registryPieceSource } from './registry-piece-source.ts';
