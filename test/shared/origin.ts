import { randomBytes, createHash } from 'node:crypto';
import { startOrigin, type Origin } from '../../bench/swarm/origin-server.ts';

/** A generated file served by the benchmark's origin (HEAD, Range, ETag), with its sha256. */
export async function startTestOrigin(bytes: number, rate?: number): Promise<Origin & { content: Buffer; sha256: string }> {
  const content = randomBytes(bytes);
  const origin = await startOrigin({ content, rate });
  return Object.assign(origin, { content, sha256: createHash('sha256').update(content).digest('hex') });
}
