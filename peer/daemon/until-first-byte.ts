import { once } from 'node:events';
import type { Readable } from 'node:stream';

/**
 * Resolves once `stream` has its first bytes (or has ended empty); rejects with its error, and
 * destroys it, if it fails before. The mirror and the proxy send a swarm body's status only
 * after this: no byte could have gone out sooner, and a task that fails before its first byte
 * (its origin died mid-seed, no supernode answers) is then answered with its error instead of
 * a 200 whose body is cut — which a runtime reports as a bare broken connection.
 */
export async function untilFirstByte(stream: Readable): Promise<void> {
  try {
    await once(stream, 'readable');
  } catch (err) {
    stream.destroy();
    throw err;
  }
}
