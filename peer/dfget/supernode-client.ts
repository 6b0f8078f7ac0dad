import { Agent, request } from 'undici';
import { DamselflyError, ErrorCodes, type ErrorCode, type ErrorSpec } from '../../core/errors.ts';
import {
  RoundResponse,
  SyncResponse,
  TaskView,
  type JoinRequest,
  type LeaveRequest,
  type RegisterTaskRequest,
  type RoundRequest,
  type SyncRequest,
} from '../../core/wire/peer-api.ts';
import { HostView, type HostAnnouncement } from '../../core/wire/host-api.ts';

/** No supernode in the list answered (connection errors, timeouts, 5xx/503 on every node). */
export class SupernodesUnreachable extends DamselflyError {
  constructor(detail: string, retryAfterMs?: number) {
    super('DF_ERR_SUPERNODE_UNREACHABLE', detail, { retryAfterMs });
  }
}

/**
 * A supernode answered with a 4xx problem: the request itself is refused; another node won't
 * help. `problemCode` is the supernode's code; `retryable` is that code's, not this one's.
 */
export class SupernodeRejected extends DamselflyError {
  /** The same request may succeed later (the server lost a race or is not ready yet). */
  readonly remoteRetryable: boolean;

  constructor(
    /** The supernode's HTTP status. */
    readonly remoteStatus: number,
    /** The problem's stable code (core/errors.ts), or 'unknown' for a body that is not one. */
    readonly problemCode: string,
    detail: string,
    retryAfterMs?: number,
  ) {
    super('DF_ERR_SUPERNODE_REJECTED', `the supernode refused the request (${remoteStatus} ${problemCode}): ${detail}`, { retryAfterMs });
    const spec = ErrorCodes[problemCode as ErrorCode] as ErrorSpec | undefined;
    this.remoteRetryable = spec?.retryable === true;
  }
}

interface ProblemBody {
  code?: string;
  detail?: string;
  title?: string;
  retryAfterMs?: number;
}

/**
 * The peer's side of core/wire/peer-api.ts over a list of supernode replicas. Registration
 * tries every node in order (the first that answers wins); the other calls go to the current
 * node only and, when it cannot be reached or answers 5xx, move `node` on to the next one and
 * throw SupernodesUnreachable, so the caller registers and joins again there and reports what
 * it holds before its next round. Every call carries the cluster token when one is configured.
 */
export class SupernodeClient {
  private current = 0;
  private readonly agent: Agent;

  constructor(
    private readonly nodes: string[],
    private readonly o: { token?: string; connectTimeoutMs?: number; requestTimeoutMs?: number } = {},
  ) {
    if (nodes.length === 0) throw new DamselflyError('DF_ERR_VALIDATION', 'no supernode given');
    const timeout = o.requestTimeoutMs ?? 30_000;
    this.agent = new Agent({ connect: { timeout: o.connectTimeoutMs ?? 3000 }, headersTimeout: timeout, bodyTimeout: timeout });
  }

  get node(): string {
    return this.nodes[this.current]!;
  }

  async registerTask(req: RegisterTaskRequest): Promise<TaskView> {
    return TaskView.parse(await this.call('POST', '/api/v1/tasks', req, this.nodes.length));
  }

  async join(taskId: string, req: JoinRequest): Promise<TaskView> {
    return TaskView.parse(await this.call('POST', `/api/v1/tasks/${taskId}/peers`, req));
  }

  async round(taskId: string, peerId: string, req: RoundRequest): Promise<RoundResponse> {
    return RoundResponse.parse(await this.call('POST', `/api/v1/tasks/${taskId}/peers/${encodeURIComponent(peerId)}/rounds`, req));
  }

  async sync(taskId: string, peerId: string, req: SyncRequest): Promise<SyncResponse> {
    return SyncResponse.parse(await this.call('POST', `/api/v1/tasks/${taskId}/peers/${encodeURIComponent(peerId)}/syncs`, req));
  }

  async leave(taskId: string, peerId: string, req: LeaveRequest): Promise<void> {
    await this.call('DELETE', `/api/v1/tasks/${taskId}/peers/${encodeURIComponent(peerId)}`, req);
  }

  /** Registers the daemon's host, or refreshes it (the heartbeat): the first node that answers wins (any replica stores it). */
  async announceHost(hostId: string, req: HostAnnouncement): Promise<HostView> {
    return HostView.parse(await this.call('PUT', `/api/v1/hosts/${encodeURIComponent(hostId)}`, req, this.nodes.length));
  }

  /** The daemon's host leaves (it is stopping). */
  async leaveHost(hostId: string): Promise<void> {
    await this.call('DELETE', `/api/v1/hosts/${encodeURIComponent(hostId)}`, undefined, this.nodes.length);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Closes at once, failing the calls in flight (close() waits for them): for a shutdown that must not wait on a node. */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }

  /** One call, tried on up to `attempts` nodes (each at most once), starting with the current one. */
  private async call(method: 'POST' | 'PUT' | 'DELETE', path: string, body: unknown, attempts = 1): Promise<unknown> {
    const failures: string[] = [];
    let retryAfterMs: number | undefined;
    for (let tried = 0; tried < attempts; tried++) {
      const node = this.node;
      let res;
      try {
        res = await request(`http://${node}${path}`, {
          method,
          dispatcher: this.agent,
          // No body, no content-type: the API refuses an empty body declared as JSON.
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        failures.push(`${node}: ${(err as Error).message}`);
        this.current = (this.current + 1) % this.nodes.length;
        continue;
      }
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) return text ? JSON.parse(text) : null;
      const problem = parseProblem(text);
      const hint = problem?.retryAfterMs ?? retryAfterHeader(res.headers['retry-after']);
      if (res.statusCode < 500) {
        throw new SupernodeRejected(res.statusCode, problem?.code ?? 'unknown', oneLine(problem?.detail ?? problem?.title ?? text), hint);
      }
      failures.push(`${node} answered ${res.statusCode}${problem?.code ? ` ${problem.code}` : ''}`);
      retryAfterMs = Math.max(retryAfterMs ?? 0, hint ?? 0) || undefined;
      this.current = (this.current + 1) % this.nodes.length;
    }
    throw new SupernodesUnreachable(`no supernode answered (${failures.join('; ')})`, retryAfterMs);
  }
}

function parseProblem(text: string): ProblemBody | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as ProblemBody) : undefined;
  } catch {
    return undefined; // not a problem+json body (a proxy's HTML page): the caller reports the raw text
  }
}

function retryAfterHeader(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s && /^\d+$/.test(s) ? Number(s) * 1000 : undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 300);
}
