import { Agent, request } from 'undici';
import {
  RoundResponse,
  TaskView,
  type JoinRequest,
  type LeaveRequest,
  type RegisterTaskRequest,
  type RoundRequest,
} from '../../core/wire/peer-api.ts';

/** No supernode in the list answered (connection refused, timeouts, 5xx on every node). */
export class SupernodesUnreachable extends Error {
  readonly code = 'DF_ERR_SUPERNODE_UNREACHABLE';
}

/** A supernode answered with a 4xx problem: the request itself is wrong; another node won't help. */
export class SupernodeRejected extends Error {
  constructor(readonly status: number, readonly problemCode: string, detail: string) {
    super(`supernode refused (${status} ${problemCode}): ${detail}`);
  }
}

/**
 * The peer's side of core/wire/peer-api.ts, over several supernodes: calls go to the current
 * node and move on to the next when it cannot be reached or answers 5xx/503, so a peer only
 * needs the list of replicas. `onSwitch` lets the downloader re-join on the new node.
 */
export class SupernodeClient {
  private current = 0;
  private readonly agent: Agent;

  constructor(
    private readonly nodes: string[],
    private readonly o: { token?: string; connectTimeoutMs?: number; requestTimeoutMs?: number; onSwitch?: (node: string) => void } = {},
  ) {
    if (nodes.length === 0) throw new Error('no supernode given');
    this.agent = new Agent({ connect: { timeout: o.connectTimeoutMs ?? 3000 }, headersTimeout: o.requestTimeoutMs ?? 30_000, bodyTimeout: o.requestTimeoutMs ?? 30_000 });
  }

  get node(): string {
    return this.nodes[this.current]!;
  }

  async registerTask(req: RegisterTaskRequest): Promise<TaskView> {
    return TaskView.parse(await this.call('POST', '/api/v1/tasks', req));
  }

  async join(taskId: string, req: JoinRequest): Promise<void> {
    await this.call('POST', `/api/v1/tasks/${taskId}/peers`, req);
  }

  async round(taskId: string, peerId: string, req: RoundRequest): Promise<RoundResponse> {
    return RoundResponse.parse(await this.call('POST', `/api/v1/tasks/${taskId}/peers/${encodeURIComponent(peerId)}/rounds`, req));
  }

  async leave(taskId: string, peerId: string, req: LeaveRequest): Promise<void> {
    await this.call('DELETE', `/api/v1/tasks/${taskId}/peers/${encodeURIComponent(peerId)}`, req);
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** One call, tried on each node at most once starting with the current one. */
  private async call(method: 'POST' | 'DELETE' | 'GET', path: string, body: unknown): Promise<unknown> {
    let lastError = '';
    for (let tried = 0; tried < this.nodes.length; tried++) {
      const node = this.node;
      try {
        const res = await request(`http://${node}${path}`, {
          method,
          dispatcher: this.agent,
          headers: { 'content-type': 'application/json', ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}) },
          body: JSON.stringify(body),
        });
        const text = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) return text ? JSON.parse(text) : null;
        const problem = safeJson(text) as { code?: string; detail?: string; title?: string } | undefined;
        if (res.statusCode >= 400 && res.statusCode < 500) {
          throw new SupernodeRejected(res.statusCode, problem?.code ?? 'unknown', problem?.detail ?? problem?.title ?? text.slice(0, 200));
        }
        lastError = `${node} answered ${res.statusCode} ${problem?.code ?? ''}`.trim();
      } catch (err) {
        if (err instanceof SupernodeRejected) throw err;
        lastError = `${node}: ${(err as Error).message}`;
      }
      this.current = (this.current + 1) % this.nodes.length;
      if (this.nodes.length > 1) this.o.onSwitch?.(this.node);
    }
    throw new SupernodesUnreachable(`no supernode answered (${lastError})`);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // not a problem+json body: the caller reports the raw text
  }
}
