import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { computeTaskId } from '../../../core/ids/index.ts';
import { CDN_SOURCE } from '../../../core/events/index.ts';
import { JoinRequest, LeaveRequest, RegisterTaskRequest, RoundRequest, SyncRequest, type Assignment, type RoundResponse, type SyncResponse, type TaskView } from '../../../core/wire/peer-api.ts';
import { sha256Hex } from './peer-fixtures.ts';

/** A source the fake may send peers to: an uploader's address and the pieces it holds. */
export interface FakeSource {
  address: string;
  pieces: Set<number>;
}

interface FakePeer {
  address: string;
  have: Set<number>;
  inflight: Map<number, string>;
  failedSources: Set<string>;
  status: 'active' | 'succeeded' | 'failed' | 'left';
}

/**
 * A small stand-in for the supernode that speaks core/wire/peer-api.ts (validating every body
 * with the wire's own schemas) over node:http, with a deliberately simple scheduler: lowest
 * piece first, each from the first source in `preference` that holds it and has not failed this
 * peer. The state is shared by any number of HTTP fronts (replicas), each of which can be killed,
 * so failover can be tested. Everything it received is recorded for assertions.
 */
export class FakeSupernode {
  readonly taskId: string;
  readonly pieceCount: number;
  readonly digests: string[];
  readonly peers = new Map<string, FakePeer>();
  readonly rounds: { node: number; peerId: string; body: RoundRequest }[] = [];
  readonly syncs: { node: number; peerId: string; body: SyncRequest }[] = [];
  /** The sync protocol: how many digests are handed out so far (the rest "not seeded yet"); default all. */
  seededDigests: number;
  readonly joins: { node: number; body: JoinRequest }[] = [];
  readonly registers: { node: number; body: RegisterTaskRequest }[] = [];
  readonly leaves: { peerId: string; body: LeaveRequest }[] = [];
  readonly authorizations: (string | undefined)[] = [];
  /** Answer the first N rounds of each peer with "wait" (exercises the wait path). */
  waitFirstRounds = 0;
  /** Fronts that answer every call with 503 + Retry-After (a draining replica). */
  readonly unavailable = new Set<number>();
  private readonly fronts: Server[] = [];

  constructor(
    readonly o: { url: string; content: Buffer; pieceSize: number; sources: Map<string, FakeSource>; preference: string[]; token?: string; digest?: string },
  ) {
    this.taskId = computeTaskId({ url: o.url, filter: [], digest: o.digest ?? null, identifier: null, range: null });
    this.pieceCount = Math.ceil(o.content.length / o.pieceSize);
    this.digests = Array.from({ length: this.pieceCount }, (_, n) => sha256Hex(o.content.subarray(n * o.pieceSize, (n + 1) * o.pieceSize)));
    this.seededDigests = this.pieceCount;
  }

  /** Starts one more HTTP front on the shared state; returns its host:port. */
  async listen(): Promise<string> {
    const index = this.fronts.length;
    const server = createServer((req, res) => void this.handle(index, req, res));
    this.fronts.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  /** Kills front `index`: its port refuses connections from now on. */
  async kill(index: number): Promise<void> {
    const server = this.fronts[index]!;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  async close(): Promise<void> {
    await Promise.all(this.fronts.map((s, i) => (s.listening ? this.kill(i) : undefined)));
  }

  private view(): TaskView {
    const { content, pieceSize, url } = this.o;
    return { taskId: this.taskId, status: 'seeded', url, contentLength: content.length, pieceSize, pieceCount: this.pieceCount, seededCount: this.pieceCount, peers: this.peers.size, version: 1, failure: null };
  }

  private async handle(node: number, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
    this.authorizations.push(req.headers.authorization);
    if (this.unavailable.has(node)) return void res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/problem+json' }).end(JSON.stringify(problem(503, 'DF_ERR_UNAVAILABLE')));
    if (this.o.token && req.headers.authorization !== `Bearer ${this.o.token}`) return send(res, 401, problem(401, 'DF_ERR_UNAUTHORIZED'));
    const path = req.url ?? '';
    const peerRoute = new RegExp(`^/api/v1/tasks/${this.taskId}/peers/([^/]+)(/rounds|/syncs)?$`).exec(path);
    if (req.method === 'POST' && path === '/api/v1/tasks') {
      const r = RegisterTaskRequest.parse(body);
      this.registers.push({ node, body: r });
      return send(res, 200, { ...this.view(), stateHash: 'x' });
    }
    if (req.method === 'POST' && path === `/api/v1/tasks/${this.taskId}/peers`) {
      const j = JoinRequest.parse(body);
      this.joins.push({ node, body: j });
      const existing = this.peers.get(j.peerId);
      // Re-joining after leaving starts over (the real decideJoin): the peer must report what it holds.
      if (!existing || existing.status !== 'active') this.peers.set(j.peerId, { address: j.address, have: new Set(), inflight: new Map(), failedSources: new Set(), status: 'active' });
      return send(res, 200, { ...this.view(), stateHash: 'x' });
    }
    if (peerRoute && req.method === 'POST' && peerRoute[2] === '/syncs') {
      const answer = await this.sync(node, decodeURIComponent(peerRoute[1]!), SyncRequest.parse(body));
      if (answer === 'unknown peer') return send(res, 404, problem(404, 'DF_ERR_UNKNOWN_PEER'));
      if (answer === 'gone') return send(res, 409, problem(409, 'DF_ERR_PEER_GONE'));
      return send(res, 200, answer);
    }
    if (peerRoute && req.method === 'POST' && peerRoute[2]) {
      const answer = this.round(node, decodeURIComponent(peerRoute[1]!), RoundRequest.parse(body));
      if (answer === 'unknown peer') return send(res, 404, problem(404, 'DF_ERR_UNKNOWN_PEER'));
      if (answer === 'gone') return send(res, 409, problem(409, 'DF_ERR_PEER_GONE'));
      return send(res, 200, answer);
    }
    if (peerRoute && req.method === 'DELETE' && !peerRoute[2]) {
      const l = LeaveRequest.parse(body);
      this.leaves.push({ peerId: decodeURIComponent(peerRoute[1]!), body: l });
      const peer = this.peers.get(decodeURIComponent(peerRoute[1]!));
      if (peer) peer.status = l.outcome;
      res.writeHead(204).end();
      return;
    }
    send(res, 404, problem(404, 'DF_ERR_NOT_FOUND'));
  }

  private round(node: number, peerId: string, r: RoundRequest): RoundResponse | 'unknown peer' | 'gone' {
    this.rounds.push({ node, peerId, body: r });
    const peer = this.peers.get(peerId);
    if (!peer) return 'unknown peer';
    if (peer.status === 'left' || peer.status === 'failed') return 'gone';
    for (const ok of r.ok) {
      peer.have.add(ok.piece);
      peer.inflight.delete(ok.piece);
    }
    for (const f of r.failed) {
      if (peer.inflight.get(f.piece) !== f.source) continue;
      peer.inflight.delete(f.piece);
      peer.failedSources.add(f.source);
    }
    if (peer.have.size === this.pieceCount) return { action: 'done' };
    if (this.rounds.filter((x) => x.peerId === peerId).length <= this.waitFirstRounds) return { action: 'wait', retryAfterMs: 50 };
    const assignments: Assignment[] = [];
    for (let piece = 0; piece < this.pieceCount && assignments.length < r.want; piece++) {
      if (peer.have.has(piece) || peer.inflight.has(piece)) continue;
      const source = this.o.preference.find((s) => this.o.sources.get(s)?.pieces.has(piece) && !peer.failedSources.has(s));
      if (!source) continue;
      peer.inflight.set(piece, source);
      const offset = piece * this.o.pieceSize;
      assignments.push({ piece, source, address: this.o.sources.get(source)!.address, offset, size: Math.min(this.o.pieceSize, this.o.content.length - offset), digest: this.digests[piece]! });
    }
    if (assignments.length === 0) return { action: 'wait', retryAfterMs: 50 };
    return { action: 'assign', assignments, contentLength: this.o.content.length, pieceSize: this.o.pieceSize, pieceCount: this.pieceCount };
  }

  /**
   * The sync protocol, simply: a sync with `join` joins; reports are recorded; the parents are
   * every source in `preference` that has not failed this peer, and the digests are those from
   * knownDigests up to `seededDigests`. A sync that asks to be held while there is no new
   * digest is held 50 ms (not until a change: enough to keep a waiting peer from spinning).
   */
  private async sync(node: number, peerId: string, r: SyncRequest): Promise<SyncResponse | 'unknown peer' | 'gone'> {
    this.syncs.push({ node, peerId, body: r });
    if (r.join && this.peers.get(peerId)?.status !== 'active') {
      this.peers.set(peerId, { address: r.join.address, have: new Set(), inflight: new Map(), failedSources: new Set(), status: 'active' });
    }
    const peer = this.peers.get(peerId);
    if (!peer) return 'unknown peer';
    if (peer.status === 'left' || peer.status === 'failed') return 'gone';
    for (const { pieces } of r.ok) for (const piece of pieces) peer.have.add(piece);
    for (const f of r.failed) peer.failedSources.add(f.source);
    if (peer.have.size === this.pieceCount) return { action: 'done' };
    if (r.holdMs > 0 && r.knownDigests >= this.seededDigests) await new Promise((resolve) => setTimeout(resolve, Math.min(r.holdMs, 50)));
    const parents = this.o.preference.filter((s) => !peer.failedSources.has(s)).map((s) => ({ peerId: s, address: this.o.sources.get(s)!.address }));
    return {
      action: 'sync', parents, digests: this.digests.slice(r.knownDigests, this.seededDigests), contentLength: this.o.content.length, pieceSize: this.o.pieceSize,
      pieceCount: this.pieceCount, syncAfterMs: 200, swarmAverage: 0,
    };
  }
}

export const CDN = CDN_SOURCE;

function problem(status: number, code: string) {
  return { type: `urn:damselfly:error:${code}`, title: code, status, code, detail: code };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const isProblem = status >= 400;
  res.writeHead(status, { 'content-type': isProblem ? 'application/problem+json' : 'application/json' }).end(JSON.stringify(body));
}
