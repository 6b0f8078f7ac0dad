import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { DAMSELFLY_BIN } from '../../../bench/processes.ts';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { replay, stateHash } from '../../../core/task/index.ts';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/index.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { startTestOrigin } from '../../shared/origin.ts';

/**
 * The supernode process's API on real PostgreSQL + Kafka: register a task, let the CDN seed
 * it, drive a peer through rounds, and check that the live state hash equals the hash
 * replayed from Postgres and from Kafka.
 */
describe('supernode API on Postgres + Kafka', () => {
  let node: RunningSupernode;
  let dir: string;
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;
  const topic = `it-supernode-${randomUUID()}`;
  const token = 'test-token';
  let base: string;
  const call = async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };

  // A database of its own: every supernode on one database forms one cluster, and this test
  // must talk to its own replica only (another test's supernode may be running meanwhile).
  let db: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'sn_api');
    dir = mkdtempSync(join(tmpdir(), 'df-sn-'));
    origin = await startTestOrigin(3 * 1024 * 1024 + 12345);
    const config = parseSupernodeConfig(
      { port: '0', dataDir: dir, databaseUrl: db.url, kafkaBrokers: kafkaBrokers().join(','), kafkaTopic: topic, logLevel: 'warn' },
      { DAMSELFLY_TOKEN: token },
    );
    node = await startSupernode(config, createLogger({ level: 'warn' }));
    base = `http://${node.address}`;
  });

  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers health, ping, metrics and the OpenAPI document', async () => {
    expect((await call('GET', '/healthy', undefined, false)).status).toBe(200);
    expect((await fetch(`${base}/_ping`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('damselfly_append_seconds');
    const doc = await call('GET', '/api/v1/openapi.json', undefined, false);
    expect(Object.keys(doc.body.paths)).toContain('/api/v1/tasks/{taskId}/peers/{peerId}/rounds');
  });

  it('shows the cluster: a lone replica on its own database holds every shard, and the CLI prints the same view', async () => {
    const view = await call('GET', '/api/v1/cluster');
    expect(view.status).toBe(200);
    expect(view.body.replicas.map((r: { replicaId: string }) => r.replicaId)).toEqual([node.replicaId]);
    expect(view.body.shards).toHaveLength(64);
    expect(view.body.shards.every((s: { owner: string; held: boolean }) => s.held && s.owner === node.replicaId)).toBe(true);
    const taskId = 'ab'.repeat(32);
    const owner = await call('GET', `/api/v1/cluster/tasks/${taskId}`);
    expect(owner.body).toMatchObject({ taskId, owner: node.replicaId, address: node.address });

    // Not spawnSync: the supernode runs in this process and must keep answering.
    const cli = await runCli(['cluster', 'status', '--node', node.address], token);
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`${node.replicaId}\\s+${node.address.replace(/\./g, '\\.')}\\s+64`));
    const refused = await runCli(['cluster', 'status', '--node', node.address], 'wrong');
    expect(refused.status).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('rejects a missing token and bad bodies with problem+json', async () => {
    const noAuth = await call('POST', '/api/v1/tasks', { url: origin.url }, false);
    expect(noAuth.status).toBe(401);
    expect(noAuth.type).toContain('application/problem+json');
    expect(noAuth.body.code).toBe('DF_ERR_UNAUTHORIZED');
    const bad = await call('POST', '/api/v1/tasks', { url: 'not a url' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('DF_ERR_VALIDATION');
    const unknown = await call('GET', `/api/v1/tasks/${'0'.repeat(64)}`);
    expect(unknown.status).toBe(404);
    const badId = await call('GET', '/api/v1/tasks/xyz');
    expect(badId.status).toBe(400);
  });

  it('seeds a task, serves a peer to completion, and the live hash equals the replayed hashes', async () => {
    const reg = await call('POST', '/api/v1/tasks', { url: origin.url, headers: { authorization: 'Bearer origin-secret' } });
    expect(reg.status).toBe(200);
    const taskId: string = reg.body.taskId;
    const join = await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' });
    expect(join.status).toBe(200);
    // Register and join answer without the state hash (O(state) each: only GET computes it).
    expect(join.body).toMatchObject({ taskId, peers: 1 });
    expect(join.body.stateHash).toBeUndefined();
    expect(reg.body.stateHash).toBeUndefined();
    const have = new Set<number>();
    let pieceCount = Infinity;
    let pending: { piece: number; source: string; ms: number }[] = [];
    for (let i = 0; i < 2000 && have.size < pieceCount; i++) {
      const r = await call('POST', `/api/v1/tasks/${taskId}/peers/p1/rounds`, { ok: pending, failed: [], want: 8 });
      expect(r.status).toBe(200);
      pending = [];
      if (r.body.action === 'assign') {
        pieceCount = r.body.pieceCount;
        for (const a of r.body.assignments) {
          const res = await fetch(`http://${a.address}/pieces/${taskId}/${a.piece}`);
          const bytes = Buffer.from(await res.arrayBuffer());
          expect(bytes.equals(origin.content.subarray(a.offset, a.offset + a.size))).toBe(true);
          have.add(a.piece);
          pending.push({ piece: a.piece, source: a.source, ms: 1 });
        }
      } else if (r.body.action === 'done') break;
      else await new Promise((res) => setTimeout(res, 50));
    }
    const last = await call('POST', `/api/v1/tasks/${taskId}/peers/p1/rounds`, { ok: pending, failed: [], want: 8 });
    expect(last.body.action).toBe('done');
    expect(origin.bytesServed()).toBe(origin.content.length);
    expect((await call('DELETE', `/api/v1/tasks/${taskId}/peers/p1`, { outcome: 'succeeded' })).status).toBe(204);

    const live = await call('GET', `/api/v1/tasks/${taskId}`);
    expect(live.body.status).toBe('seeded');

    const store = await openPostgresEventStore(db.url);
    const fromPg = await store.readStream(taskId);
    await store.close();
    expect(stateHash(replay(fromPg))).toBe(live.body.stateHash);
    expect(JSON.stringify(fromPg)).not.toContain('origin-secret');

    // The relay publishes asynchronously: wait until Kafka has every committed event.
    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic });
    let fromKafka = await bus.readStream(taskId);
    for (let i = 0; i < 100 && fromKafka.length < fromPg.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      fromKafka = await bus.readStream(taskId);
    }
    await bus.close();
    expect(fromKafka.map((e) => e.version)).toEqual(fromPg.map((e) => e.version));
    expect(stateHash(replay(fromKafka))).toBe(live.body.stateHash);
    expect(JSON.stringify(fromKafka)).not.toContain('origin-secret');

    const history = await call('GET', `/api/v1/tasks/${taskId}/history`);
    expect(history.body.pieces.filter((p: { verified: boolean }) => p.verified)).toHaveLength(pieceCount);
  });

  it('checks an expected digest against the whole seeded file: a wrong one fails the task, the right one seeds it', async () => {
    const waitForStatus = async (taskId: string) => {
      for (let i = 0; i < 200; i++) {
        const view = await call('GET', `/api/v1/tasks/${taskId}`);
        if (view.body.status === 'seeded' || view.body.status === 'failed') return view.body;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`task ${taskId} neither seeded nor failed`);
    };
    const wrong = await call('POST', '/api/v1/tasks', { url: origin.url, digest: `sha256:${'0'.repeat(64)}` });
    const failed = await waitForStatus(wrong.body.taskId);
    expect(failed.status).toBe('failed');
    expect(failed.failure).toMatch(/digest/);
    const right = await call('POST', '/api/v1/tasks', { url: origin.url, digest: `sha256:${origin.sha256}` });
    expect((await waitForStatus(right.body.taskId)).status).toBe('seeded');
  });
});

function runCli(args: string[], token: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [DAMSELFLY_BIN, ...args], { encoding: 'utf8', env: { ...process.env, DAMSELFLY_TOKEN: token }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
