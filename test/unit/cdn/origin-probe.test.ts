import { afterEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';
import { probeOrigin } from '../../../supernode/cdn/origin-probe.ts';
import { TestOrigin, type OriginBehaviour } from './test-origin.ts';

const SIZE = 300_000;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function probeWith(behaviour: OriginBehaviour, headers: Record<string, string> = {}) {
  const origin = await new TestOrigin(SIZE, behaviour).start();
  const client = new OriginClient(new OriginGuard());
  cleanup.push(() => client.close(), () => origin.stop());
  const result = await probeOrigin(client, origin.url(), headers).catch((e: unknown) => e);
  return { origin, result };
}

describe('probeOrigin', () => {
  it('learns length, Range support and validators from HEAD alone', async () => {
    const { origin, result } = await probeWith({});
    expect(result).toEqual({ contentLength: SIZE, acceptRanges: true, etag: '"v1"', lastModified: origin.lastModified });
    expect(origin.requests.map((r) => r.method)).toEqual(['HEAD']);
    expect(origin.bodyBytes).toBe(0);
  });

  it('falls back to GET with Range: bytes=0-0 when HEAD is refused', async () => {
    const { origin, result } = await probeWith({ refuseHead: true });
    expect(result).toEqual({ contentLength: SIZE, acceptRanges: true, etag: '"v1"', lastModified: origin.lastModified });
    expect(origin.requests.map((r) => `${r.method} ${r.range ?? ''}`)).toEqual(['HEAD ', 'GET bytes=0-0']);
    expect(origin.bodyBytes).toBe(1);
  });

  it('checks Range support with a one-byte GET when HEAD does not say', async () => {
    const { origin, result } = await probeWith({ hideAcceptRanges: true });
    expect(result).toMatchObject({ contentLength: SIZE, acceptRanges: true });
    expect(origin.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
  });

  it('reports no Range support for an origin that ignores it, without downloading the body', async () => {
    const { origin, result } = await probeWith({ refuseHead: true, ignoreRange: true, chunkDelayMs: 5 });
    expect(result).toMatchObject({ contentLength: SIZE, acceptRanges: false });
    expect(origin.finished).toBe(0);
  });

  it('sends the caller headers to the origin', async () => {
    const { origin, result } = await probeWith({ requireAuth: 'Bearer probe-secret-123' }, { Authorization: 'Bearer probe-secret-123' });
    expect(result).toMatchObject({ contentLength: SIZE });
    expect(origin.requests[0]?.authorization).toBe('Bearer probe-secret-123');
  });

  it('fails with the status when the origin refuses both', async () => {
    const { result } = await probeWith({ requireAuth: 'Bearer right' }, { Authorization: 'Bearer wrong-credential' });
    expect(isDamselflyError(result, 'DF_ERR_ORIGIN')).toBe(true);
    expect((result as Error).message).toMatch(/401/);
    expect((result as Error).message).not.toContain('wrong-credential');
  });

  it('probes an empty file through the ranged GET (416 bytes */0)', async () => {
    const empty = await new TestOrigin(0, { refuseHead: true }).start();
    const client = new OriginClient(new OriginGuard());
    cleanup.push(() => client.close(), () => empty.stop());
    expect(await probeOrigin(client, empty.url(), {})).toMatchObject({ contentLength: 0, acceptRanges: true });
  });
});
