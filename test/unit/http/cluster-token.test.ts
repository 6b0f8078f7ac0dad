import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SupernodeConfigSchema } from '../../../supernode/config.ts';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { rawRequest } from './raw-request.ts';

const token = 'the-cluster-token';
const taskId = 'a'.repeat(64);

/** Every spelling of `path` that a router may take for it: plain, each letter of /api/v1 percent-encoded, all of it, doubled slashes, absolute-form. */
function spellings(path: string): string[] {
  const rest = path.slice('/api/v1'.length);
  const encodings = ['/api/v1'];
  const prefix = '/api/v1';
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i] !== '/') encodings.push(prefix.slice(0, i) + pct(prefix[i]!) + prefix.slice(i + 1));
  }
  encodings.push('/%61%70%69/%76%31');
  const forms = encodings.map((p) => p + rest);
  forms.push(`/${path}`, path.replace('/api/', '/api//'), path.replace('/v1/', '/v1//'));
  forms.push(`http://other.invalid${path}`, `http://127.0.0.1${path}`, `http://other.invalid/%61pi/v1${rest}`);
  return forms;
}

function pct(c: string): string {
  return `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

interface Operation {
  method: string;
  path: string;
}

/**
 * Finding 1 of issue 12: the token was decided on the raw request target while the router
 * matched the decoded path, so `/%61pi/v1/cluster` or an absolute-form target answered 200
 * without a token. Walks every operation of the running supernode's OpenAPI document in every
 * spelling, on raw sockets.
 */
describe('the cluster token on every /api/v1 route', () => {
  let dir: string;
  let node: RunningSupernode;
  let operations: Operation[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'df-token-'));
    const config = SupernodeConfigSchema.parse({ port: 0, dataDir: dir, token, logLevel: 'silent' });
    node = await startSupernode(config, pino({ level: 'silent' }));
    const doc = JSON.parse((await rawRequest(node.port, { method: 'GET', target: '/api/v1/openapi.json' })).body) as { paths: Record<string, Record<string, unknown>> };
    operations = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1')).flatMap(([path, ops]) =>
      Object.keys(ops).flatMap((method) => {
        const concrete = path.replace('{taskId}', taskId).replace('{peerId}', 'peer-1');
        const op = { method: method.toUpperCase(), path: concrete };
        return method === 'get' ? [op, { method: 'HEAD', path: concrete }] : [op];
      }),
    );
  }, 60_000);
  afterAll(async () => {
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const send = (op: Operation, target: string, authorization?: string) =>
    rawRequest(node.port, {
      method: op.method,
      target,
      headers: { ...(authorization ? { authorization } : {}), ...(op.method === 'POST' || op.method === 'DELETE' ? { 'content-type': 'application/json' } : {}) },
      ...(op.method === 'POST' || op.method === 'DELETE' ? { body: '{}' } : {}),
    });

  it('reads every operation from the document', () => {
    const documented = operations.map((o) => `${o.method} ${o.path.replace(taskId, ':taskId')}`);
    expect(documented).toEqual(expect.arrayContaining([
      'GET /api/v1/cluster', 'GET /api/v1/cluster/tasks/:taskId', 'POST /api/v1/tasks', 'GET /api/v1/tasks', 'GET /api/v1/tasks/:taskId',
      'GET /api/v1/tasks/:taskId/history', 'POST /api/v1/tasks/:taskId/peers', 'POST /api/v1/tasks/:taskId/peers/peer-1/rounds',
      'POST /api/v1/tasks/:taskId/peers/peer-1/syncs', 'DELETE /api/v1/tasks/:taskId/peers/peer-1',
    ]));
  });

  it('answers 401 to every spelling without the token or with a wrong one, and lets the right token through', async () => {
    const leaks: string[] = [];
    for (const op of operations) {
      for (const target of spellings(op.path)) {
        for (const auth of [undefined, 'Bearer not-the-token', `Bearer ${token}x`, token, `Basic ${token}`]) {
          const res = await send(op, target, auth);
          if (res.status !== 401) leaks.push(`${op.method} ${target} (${auth ?? 'no token'}) → ${res.status}`);
          else if (!/^application\/problem\+json/.test(res.headers['content-type'] ?? '') || !/^Bearer /.test(res.headers['www-authenticate'] ?? '')) {
            leaks.push(`${op.method} ${target} (${auth ?? 'no token'}) → 401 without problem+json or a Bearer challenge`);
          }
        }
        const ok = await send(op, target, `Bearer ${token}`);
        // Through the gate: the route itself answered (HEAD has no body to tell its 404 from "no route").
        if (ok.status === 401 || /no route|is not allowed on/.test(ok.body)) leaks.push(`${op.method} ${target} (right token) → ${ok.status} ${ok.body.slice(0, 100)}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it('keeps the OpenAPI document and the probes open', async () => {
    for (const target of ['/api/v1/openapi.json', '/healthy', '/_ping', '/metrics']) {
      expect((await rawRequest(node.port, { method: 'GET', target })).status).toBe(200);
    }
  });
});
