import { request } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installProblemHandlers } from '../../../edge/http/fastify-problems.ts';
import { CLIENT_IP_HEADER, FORWARDED_HEADER, ownerRouting, withClientHost, type PeerAddressMode } from '../../../supernode/cluster/owner-routing.ts';
import type { ShardOwnership } from '../../../supernode/cluster/shard-ownership.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';

const TASK = 'c'.repeat(64);

interface Replica {
  id: string;
  app: FastifyInstance;
  address: string;
  close: () => Promise<void>;
}

/**
 * Two replicas on loopback with the real owner routing: B owns every task, A forwards to it.
 * The join route answers the address the swarm would be sent to. A client connects from
 * 127.0.0.2 (a loopback address of its own, so that its IP differs from the replicas' 127.0.0.1).
 */
async function replica(id: string, owns: boolean, view: { replicas: { replicaId: string; address: string }[] }, owner: () => string, mode?: PeerAddressMode): Promise<Replica> {
  const ownership = {
    replicaId: id,
    claim: () => (owns ? { shard: 0, epoch: 1, replicaId: id } : undefined),
    ownerAddressOf: () => owner(),
    status: () => ({ replicas: view.replicas, leases: [], held: [] }),
  } as unknown as ShardOwnership;
  let address = '';
  const routing = ownerRouting({ ownership, selfAddress: () => address, peerAddress: mode });
  const app = Fastify();
  installProblemHandlers(app, pino({ level: 'silent' }));
  app.post('/api/v1/tasks/:taskId/peers', { preHandler: routing.preHandler }, async (req) => ({
    address: await routing.peerAddressOf(req, (req.body as { address: string }).address),
  }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  address = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return { id, app, address, close: async () => { await routing.close(); await app.close(); } };
}

function join(to: string, declared: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { address?: string; code?: string } }> {
  const [host, port] = [to.slice(0, to.lastIndexOf(':')), Number(to.slice(to.lastIndexOf(':') + 1))];
  const body = JSON.stringify({ peerId: 'p', hostId: 'h', address: declared });
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: 'POST', path: `/api/v1/tasks/${TASK}/peers`, localAddress: '127.0.0.2', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the address a joining peer is reached at', () => {
  const view: { replicas: { replicaId: string; address: string }[] } = { replicas: [] };
  let a: Replica;
  let b: Replica;
  let declared: Replica;

  beforeAll(async () => {
    b = await replica('B', true, view, () => b.address);
    a = await replica('A', false, view, () => b.address);
    declared = await replica('D', true, view, () => declared.address, 'declared');
    view.replicas = [{ replicaId: 'A', address: a.address }, { replicaId: 'B', address: b.address }];
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), declared?.close()]);
  });

  it('is the IP the join came from, with the declared port', async () => {
    expect(await join(b.address, '169.254.169.254:80')).toEqual({ status: 200, body: { address: '127.0.0.2:80' } });
    expect(await join(b.address, 'peer.example:7001')).toEqual({ status: 200, body: { address: '127.0.0.2:7001' } });
  });

  it('is the client’s IP, not the forwarding replica’s, when a replica forwards the join to the owner', async () => {
    expect(await join(a.address, '169.254.169.254:80')).toEqual({ status: 200, body: { address: '127.0.0.2:80' } });
  });

  it('refuses a client that marks its own request as forwarded to name another IP', async () => {
    const forged = await join(b.address, '169.254.169.254:80', { [FORWARDED_HEADER]: 'A', [CLIENT_IP_HEADER]: '169.254.169.254' });
    expect(forged).toMatchObject({ status: 503, body: { code: 'DF_ERR_FORWARD_UNTRUSTED' } });
    const unknown = await join(b.address, '169.254.169.254:80', { [FORWARDED_HEADER]: 'nobody', [CLIENT_IP_HEADER]: '169.254.169.254' });
    expect(unknown).toMatchObject({ status: 503, body: { code: 'DF_ERR_FORWARD_UNTRUSTED' } });
    // A non-owner never forwards what claims to be forwarded already (one hop only).
    expect((await join(a.address, '169.254.169.254:80', { [FORWARDED_HEADER]: 'B' })).status).toBe(503);
  });

  it('is the declared host:port under --peer-address declared', async () => {
    expect(await join(declared.address, 'peer.example:7001')).toEqual({ status: 200, body: { address: 'peer.example:7001' } });
  });

  it('is from-request unless --peer-address says declared; another value is a usage error naming the flag', () => {
    expect(parseSupernodeConfig({}, {}).peerAddress).toBe('from-request');
    expect(parseSupernodeConfig({ peerAddress: 'declared' }, {}).peerAddress).toBe('declared');
    expect(() => parseSupernodeConfig({ peerAddress: 'nat' }, {})).toThrowError(expect.objectContaining({ code: 'DF_ERR_USAGE', message: expect.stringContaining('--peer-address') }));
  });

  it('keeps a declared loopback host for a client on loopback, and brackets an IPv6 client', () => {
    expect(withClientHost('127.0.0.1:7001', '::1')).toBe('127.0.0.1:7001');
    expect(withClientHost('[::1]:7001', '127.0.0.5')).toBe('[::1]:7001');
    expect(withClientHost('169.254.169.254:80', '127.0.0.1')).toBe('127.0.0.1:80');
    expect(withClientHost('peer:80', '2001:db8::7')).toBe('[2001:db8::7]:80');
  });
});
