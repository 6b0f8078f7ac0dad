import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { downloadFromOrigin } from '../../../peer/dfget/back-source.ts';

/**
 * dfget's back-to-source follows redirects like the CDN: a redirect to another origin carries
 * only the headers marked safe, never the caller's X-Api-Key or Authorization.
 */
const CONTENT = Buffer.from('the file, served by the bucket');
const servers: Server[] = [];
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-back-source-'));
});
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  await rm(dir, { recursive: true, force: true });
});

async function origin(): Promise<{ url: (path: string) => string; seen: IncomingHttpHeaders[] }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push(req.headers);
    if (url.pathname === '/to') return void res.writeHead(307, { location: url.searchParams.get('u') ?? '/' }).end();
    res.writeHead(200, { 'content-length': String(CONTENT.length) }).end(CONTENT);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: (path) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, seen };
}

const HEADERS = { 'X-Api-Key': 'key-0f9e8d7c', authorization: 'Bearer registry-token', 'X-Request-Id': 'r-1', accept: 'application/octet-stream' };

describe('back-to-source on a cross-origin redirect', () => {
  it('does not forward X-Api-Key (nor Authorization) to the new host, and downloads the file', async () => {
    const registry = await origin();
    const bucket = await origin();
    const output = join(dir, 'out.bin');
    const { bytes } = await downloadFromOrigin({ url: registry.url(`/to?u=${encodeURIComponent(bucket.url('/blob'))}`), output, headers: HEADERS });
    expect(bytes).toBe(CONTENT.length);
    expect(await readFile(output)).toEqual(CONTENT);
    expect(registry.seen[0]).toMatchObject({ 'x-api-key': 'key-0f9e8d7c', authorization: 'Bearer registry-token' });
    expect(bucket.seen).toHaveLength(1);
    expect(bucket.seen[0]).not.toHaveProperty('x-api-key');
    expect(bucket.seen[0]).not.toHaveProperty('authorization');
    expect(bucket.seen[0]).not.toHaveProperty('x-request-id');
    expect(bucket.seen[0]).toMatchObject({ accept: 'application/octet-stream' });
  });

  it('forwards what the caller marks safe, and everything on a same-origin redirect', async () => {
    const registry = await origin();
    const bucket = await origin();
    await downloadFromOrigin({ url: registry.url(`/to?u=${encodeURIComponent(bucket.url('/blob'))}`), output: join(dir, 'a.bin'), headers: HEADERS, crossOriginSafe: ['X-Request-Id'] });
    expect(bucket.seen[0]).toMatchObject({ 'x-request-id': 'r-1' });
    expect(bucket.seen[0]).not.toHaveProperty('x-api-key');
    await downloadFromOrigin({ url: registry.url('/to?u=%2Fblob'), output: join(dir, 'b.bin'), headers: HEADERS });
    expect(registry.seen.at(-1)).toMatchObject({ 'x-api-key': 'key-0f9e8d7c', authorization: 'Bearer registry-token' });
  });
});
