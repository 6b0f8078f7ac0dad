export { startUploader, type Uploader, type UploaderOptions } from './uploader.ts';
