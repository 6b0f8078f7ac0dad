import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { DamselflyError } from '../../../core/errors.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { createDaemonMetrics, type DaemonMetrics } from '../../../peer/daemon/daemon-metrics.ts';
import type { P2PBody, P2PFetcher, P2PRequest } from '../../../peer/daemon/p2p-fetcher.ts';
import { createHttpProxy, loadProxyCa, parseProxyConfig, type HttpProxy, type ProxyCa } from '../../../peer/daemon/proxy/index.ts';
import { createLeafIssuer } from '../../../peer/daemon/proxy/leaf-certificates.ts';

/** What the origin saw of one request. */
export interface OriginHit {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The bytes the origin serves at a path: deterministic, so a test can check every byte. */
export function contentOf(path: string, size = 64 * 1024): Buffer {
  const out = Buffer.alloc(size);
  let seed = createHash('sha256').update(path).digest();
  for (let i = 0; i < size; i += seed.length) {
    seed.copy(out, i);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

function originHandler(hits: OriginHit[]) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/echo') {
        res.writeHead(201, { 'content-type': 'application/json', 'x-origin': 'echo', 'set-cookie': ['a=1', 'b=2'] });
        res.end(JSON.stringify({ method: req.method, body }));
        return;
      }
      if (path.startsWith('/missing')) {
        res.writeHead(404, { 'x-origin': 'missing' });
        res.end('no such file');
        return;
      }
      const content = contentOf(path);
      res.writeHead(200, { 'content-type': 'application/x-test', 'content-length': content.length, 'x-origin': 'file' });
      res.end(req.method === 'HEAD' ? undefined : content);
    });
  };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/**
 * A fake P2PFetcher that downloads the URL itself (trusting `ca`), remembers every request,
 * and names the task after the URL less its filtered query parameters, plus the tag.
 * `failAfter` cuts every body after that many bytes (0: before the first) with an error, as a
 * swarm failure would.
 */
export function fakeFetcher(o: { ca?: string; failAfter?: number; refuse?: boolean } = {}) {
  const seen: P2PRequest[] = [];
  const agent = new Agent({ connect: o.ca ? { ca: o.ca } : {} });
  const fetcher: P2PFetcher = {
    async open(req): Promise<P2PBody> {
      seen.push(req);
      if (o.refuse) throw new DamselflyError('DF_ERR_ORIGIN', 'the origin answered 503');
      const res = await request(req.url, { headers: req.headers, dispatcher: agent });
      const content = Buffer.from(await res.body.arrayBuffer());
      const named = new URL(req.url);
      for (const name of req.filter ?? []) named.searchParams.delete(name);
      const taskId = createHash('sha256').update(`${named.href}|${req.tag ?? ''}`).digest('hex');
      return {
        taskId,
        contentLength: content.length,
        cached: false,
        stream(span) {
          const bytes = span ? content.subarray(span.start, span.end + 1) : content;
          if (o.failAfter === undefined) return Readable.from([bytes.subarray(0, bytes.length >> 1), bytes.subarray(bytes.length >> 1)]);
          const cut = bytes.subarray(0, o.failAfter);
          return Readable.from((async function* () {
            if (cut.length > 0) yield cut;
            await new Promise((r) => setTimeout(r, 20));
            throw new DamselflyError('DF_ERR_SUPERNODE_UNREACHABLE', 'the swarm went away');
          })());
        },
      };
    },
  };
  return { fetcher, seen, close: () => agent.close() };
}

/** Every log line any level wrote, as the objects and messages given. */
export function captureLog(): LogSink & { lines: unknown[] } {
  const lines: unknown[] = [];
  const put = (obj: object, msg?: string) => lines.push({ obj, msg });
  return { lines, debug: put, info: put, warn: put, error: put };
}

/**
 * The world of a proxy test: a plain origin, a TLS origin with a certificate from a test CA of
 * its own (not the daemon's), and a daemon-like server that sends absolute-form requests to the
 * proxy's handle and CONNECT to its connect, as peer/daemon/daemon.ts does.
 */
export async function startWorld() {
  const dir = await mkdtemp(join(tmpdir(), 'damselfly-proxy-'));
  const originCa = await loadProxyCa({ dataDir: join(dir, 'origin-ca') });
  const daemonCa = await loadProxyCa({ dataDir: join(dir, 'daemon') });
  const hits: OriginHit[] = [];
  const origin = createServer(originHandler(hits));
  const originPort = await listen(origin);
  const tlsCert = await createLeafIssuer(originCa).certificateFor('localhost');
  const tlsOrigin = createHttpsServer(tlsCert, originHandler(hits));
  const tlsPort = await listen(tlsOrigin as unknown as Server);
  const servers: Server[] = [origin, tlsOrigin as unknown as Server];
  const proxies: HttpProxy[] = [];

  /** A daemon port with a proxy built from a YAML-like `proxy:` section. */
  async function startProxy(config: unknown, o: { fetcher: P2PFetcher; logger?: LogSink; metrics?: DaemonMetrics; ca?: ProxyCa }) {
    const parsed = parseProxyConfig(config);
    const metrics = o.metrics ?? createDaemonMetrics();
    const proxy = createHttpProxy({
      fetcher: o.fetcher,
      rules: parsed.rules,
      hijack: parsed.hijackHTTPS ? { hosts: parsed.hijackHTTPS.hosts, ca: o.ca ?? daemonCa } : undefined,
      logger: o.logger,
      metrics,
    });
    const server = createServer((req, res) => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(req.url ?? '')) void proxy.handle(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    server.on('connect', (req, socket, head) => proxy.connect(req, socket, head));
    const port = await listen(server);
    servers.push(server);
    proxies.push(proxy);
    return { proxy, port, url: `http://127.0.0.1:${port}`, metrics };
  }

  return {
    dir,
    hits,
    originPort,
    origin: `http://127.0.0.1:${originPort}`,
    tlsPort,
    tlsOrigin: `https://localhost:${tlsPort}`,
    originCa,
    daemonCa,
    startProxy,
    async stop() {
      for (const p of proxies) await p.close();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export type World = Awaited<ReturnType<typeof startWorld>>;

/** The value of one counter series, for metrics assertions. */
export async function counterValue(metrics: DaemonMetrics, name: keyof DaemonMetrics, labels: Record<string, string>): Promise<number> {
  const metric = metrics[name] as unknown as { get(): Promise<{ values: { labels: Record<string, string>; value: number }[] }> };
  const { values } = await metric.get();
  return values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}
