import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../edge/log/logger.ts';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { databaseUrl } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { startTestOrigin } from '../../shared/origin.ts';

type Assignment = { piece: number; source: string; address: string };
type Ok = { piece: number; source: string; ms: number };

/**
 * Issue 12, finding 5, through the real HTTP API of a supernode on PostgreSQL: a peer could
 * join with any address (169.254.169.254:80, even [[[:::99999) and report as verified pieces it
 * was never given, and the supernode sent other peers to it as their source. Now the address
 * must parse, its host is the IP the join came from, and a report is believed only for a piece
 * the peer was assigned from the source it names; the rest is refused and counted.
 */
describe('peers are not believed (a real supernode on PostgreSQL)', () => {
  let node: RunningSupernode;
  let dir: string;
  let db: { url: string; drop: () => Promise<void> };
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;
  let taskId: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${node.address}${path}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  const round = async (peerId: string, ok: Ok[], want: number) => {
    const res = await call('POST', `/api/v1/tasks/${taskId}/peers/${peerId}/rounds`, { ok, failed: [], want });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body as { action: string; assignments?: Assignment[]; pieceCount?: number };
  };
  /** Rounds until the peer is given something (the CDN seeds meanwhile). */
  const assigned = async (peerId: string, want: number, ok: Ok[] = []): Promise<Assignment[]> => {
    for (let i = 0; i < 400; i++) {
      const r = await round(peerId, i === 0 ? ok : [], want);
      if (r.action === 'assign' && r.assignments!.length > 0) return r.assignments!;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`${peerId} was never assigned a piece`);
  };

  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'sn_peer_trust');
    dir = mkdtempSync(join(tmpdir(), 'df-trust-'));
    origin = await startTestOrigin(2 * 1024 * 1024 + 777); // 9 pieces of 256 KiB
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: dir, databaseUrl: db.url, logLevel: 'silent' }, {}), createLogger({ level: 'silent' }));
    const reg = await call('POST', '/api/v1/tasks', { url: origin.url });
    expect(reg.status).toBe(200);
    taskId = reg.body.taskId;
  });

  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an address that does not parse, naming the field', async () => {
    const res = await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'bad', hostId: 'h', address: '[[[:::99999' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('DF_ERR_VALIDATION');
    expect(JSON.stringify(res.body)).toContain('address');
  });

  it('sends peers to the IP a join came from, and believes only the reports the protocol could have produced', async () => {
    expect((await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'liar', hostId: 'h1', address: '169.254.169.254:80' })).status).toBe(200);
    expect((await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'honest', hostId: 'h2', address: '127.0.0.1:7002' })).status).toBe(200);

    // The liar gets one piece, really (from the CDN), and claims every piece besides.
    const [given] = await assigned('liar', 1);
    const pieceCount: number = (await call('GET', `/api/v1/tasks/${taskId}`)).body.pieceCount;
    const claims: Ok[] = Array.from({ length: pieceCount }, (_, piece) => ({ piece, source: piece === given!.piece ? given!.source : 'cdn', ms: 1 }));
    await round('liar', claims, 0);

    // The honest peer downloads everything: whatever it is given from the liar is the piece the
    // liar really holds, at the address its join came from.
    const fromLiar: Assignment[] = [];
    const have = new Set<number>();
    let pending: Ok[] = [];
    for (let i = 0; i < 400 && have.size < pieceCount; i++) {
      const r = await round('honest', pending, 4);
      pending = (r.assignments ?? []).map((a) => ({ piece: a.piece, source: a.source, ms: 1 }));
      for (const a of r.assignments ?? []) {
        have.add(a.piece);
        if (a.source === 'liar') fromLiar.push(a);
      }
      if (pending.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await round('honest', pending, 0);
    expect(have.size).toBe(pieceCount);
    expect(fromLiar.length).toBeGreaterThan(0);
    for (const a of fromLiar) expect(a).toMatchObject({ piece: given!.piece, address: '127.0.0.1:80' });

    // The refusals are counted: every piece it claimed but was not given.
    const metrics = await (await fetch(`http://${node.address}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`damselfly_reports_refused_total\\{reason="unassigned"\\} ${pieceCount - 1}\\b`));
  });
});
