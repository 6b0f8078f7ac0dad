export { chunkBytesFor, createThrottle, unthrottled, CHUNK_BURST_BYTES, type Throttle, type ThrottleOptions } from './throttle.ts';
export { createTokenBucket, type TokenBucket } from './token-bucket.ts';
