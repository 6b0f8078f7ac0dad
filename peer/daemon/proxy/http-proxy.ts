import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { DamselflyError, isDamselflyError } from '../../../core/errors.ts';
import { problemOf, problemOfError, sendProblem } from '../../../edge/http/problem.ts';
import { silentLog, type LogSink } from '../../../edge/log/log-sink.ts';
import { redactUrl } from '../../../edge/log/redact.ts';
import type { DaemonMetrics } from '../daemon-metrics.ts';
import type { P2PFetcher } from '../p2p-fetcher.ts';
import { forwardDirect } from './forward-direct.ts';
import { createLeafIssuer } from './leaf-certificates.ts';
import type { HijackHost, ProxyRule } from './proxy-config.ts';
import { routeRequest } from './route-request.ts';
import { serveP2P } from './serve-p2p.ts';
import { createTlsInterception, type InterceptedOrigin } from './tls-interception.ts';
import { connectTarget, openTunnel, writeRawProblem } from './tunnel.ts';

export interface HttpProxyOptions {
  fetcher: P2PFetcher;
  /** Ordered: the first rule whose regex matches the URL decides (proxy-config.ts). */
  rules: readonly ProxyRule[];
  /** CONNECTs to these hosts are intercepted with leaves signed by `ca` (proxy-ca.ts loads or makes it); all others are tunnelled. */
  hijack?: { hosts: readonly HijackHost[]; ca: { cert: string; key: string } };
  logger?: LogSink;
  metrics?: DaemonMetrics;
}

export interface HttpProxy {
  /** A forward-proxy request (absolute-form URL, `GET http://host/path`). Never rejects: every failure is answered or the response destroyed. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The daemon server's 'connect' event. */
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends tunnels and intercepted connections, then waits for direct requests in flight. */
  close(): Promise<void>;
}

type Outcome = 'ok' | 'upstream_error' | 'failed' | 'bad_request';

/**
 * The daemon's HTTP proxy: plain-HTTP requests routed by the rules through the swarm or past it,
 * CONNECT tunnelled untouched, or, for hijacked hosts, decrypted and routed by the same rules.
 * Bad input is a 4xx problem, an origin that fails a 502; logs carry the redacted URL and never a
 * header (the client's Authorization and Cookie go to the origin only).
 */
export function createHttpProxy(o: HttpProxyOptions): HttpProxy {
  const log = o.logger ?? silentLog;
  const verified = new Agent();
  const unverified = new Agent({ connect: { rejectUnauthorized: false } });
  const tunnels = new Set<Duplex>();
  const hijackHosts = o.hijack?.hosts ?? [];
  const interception = o.hijack && hijackHosts.length > 0
    ? createTlsInterception({ issuer: createLeafIssuer(o.hijack.ca), logger: log, handle: (req, res, origin) => void forward(req, res, () => interceptedUrl(req, origin), origin.insecure) })
    : undefined;

  async function forward(req: IncomingMessage, res: ServerResponse, target: () => URL, insecure: boolean): Promise<void> {
    const started = performance.now();
    let outcome: Outcome = 'ok';
    let shown = '[unparsed]';
    try {
      const route = routeRequest(req.method ?? 'GET', target(), req.headers, o.rules);
      shown = redactUrl(route.url.href);
      o.metrics?.proxyRoutes.inc({ route: route.via });
      log.debug({ method: req.method, url: shown, route: route.via }, 'proxy: request');
      if (route.via === 'p2p') {
        let first = true;
        await serveP2P(req, res, route, o.fetcher, (n, body) => {
          if (first) o.metrics?.firstByteSeconds.observe((performance.now() - started) / 1000);
          first = false;
          o.metrics?.bytesServed.inc({ source: body.cached ? 'cache' : 'swarm' }, n);
        });
      } else {
        await forwardDirect(req, res, route.url, insecure ? unverified : verified, (n) => o.metrics?.bytesServed.inc({ source: 'direct' }, n));
      }
    } catch (e) {
      outcome = answerFailure(res, e);
      const level = outcome === 'bad_request' ? 'debug' : 'warn';
      log[level]({ method: req.method, url: shown, outcome, err: isDamselflyError(e) ? e.code : (e as Error).message }, 'proxy: request failed');
    } finally {
      o.metrics?.requests.inc({ kind: 'proxy', outcome });
    }
  }

  function connectTo(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => log.debug({ err: err.message }, 'proxy: CONNECT client socket error'));
    const target = connectTarget(req.url);
    if (!target) {
      o.metrics?.requests.inc({ kind: 'tunnel', outcome: 'bad_request' });
      writeRawProblem(socket, problemOf('DF_ERR_VALIDATION', 'CONNECT names its target as host:port'));
      return;
    }
    const hijacked = interception && hijackHosts.find((h) => h.regex.test(target.authority));
    const route = hijacked ? 'mitm' : 'tunnel';
    o.metrics?.proxyRoutes.inc({ route });
    tunnels.add(socket);
    socket.once('close', () => tunnels.delete(socket));
    const opened = hijacked
      ? interception.intercept(socket, head, { authority: target.authority, host: target.host, insecure: hijacked.insecure })
      : openTunnel(socket, head, target, (err) => {
          if (err) log.debug({ target: target.authority, err: err.message }, 'proxy: tunnel closed by an error');
        }).then((upstream) => {
          tunnels.add(upstream);
          upstream.once('close', () => tunnels.delete(upstream));
        });
    opened.then(
      () => o.metrics?.requests.inc({ kind: 'tunnel', outcome: 'ok' }),
      (err: Error) => {
        o.metrics?.requests.inc({ kind: 'tunnel', outcome: 'upstream_error' });
        log.warn({ target: target.authority, route, err: err.message }, 'proxy: CONNECT failed');
        writeRawProblem(socket, problemOf('DF_ERR_ORIGIN', `cannot reach ${target.authority}`));
      },
    );
  }

  return {
    handle: (req, res) => forward(req, res, () => absoluteUrl(req.url), false),
    connect: connectTo,
    async close() {
      for (const s of tunnels) s.destroy();
      await interception?.close();
      await Promise.all([verified.close(), unverified.close()]);
    },
  };
}

/** A forward-proxy request's URL: absolute, http or https, no userinfo (a client sends credentials as headers). */
function absoluteUrl(raw: string | undefined): URL {
  // The WHATWG parser repairs what RFC 9110 §4.2.1 says to reject: `http:///x` (no host)
  // becomes http://x/, and the proxy would dial a host the client never named (a 502 for a
  // malformed request). The raw target's authority must not be empty.
  if (raw !== undefined && /^https?:\/\/(?:[/?#\\]|$)/i.test(raw)) {
    throw new DamselflyError('DF_ERR_VALIDATION', 'a proxy request names an absolute URL with a host (GET http://host/path)');
  }
  let url: URL;
  try {
    url = new URL(raw ?? '');
  } catch {
    throw new DamselflyError('DF_ERR_VALIDATION', 'a proxy request names an absolute URL (GET http://host/path)');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DamselflyError('DF_ERR_VALIDATION', `the proxy fetches http and https URLs, not ${url.protocol}`);
  if (url.username || url.password) throw new DamselflyError('DF_ERR_VALIDATION', 'credentials in the URL are not forwarded: send them as an Authorization header');
  return url;
}

/** A decrypted request's URL: its origin-form path on the host it was tunnelled to. */
function interceptedUrl(req: IncomingMessage, origin: InterceptedOrigin): URL {
  if (!req.url?.startsWith('/')) throw new DamselflyError('DF_ERR_VALIDATION', 'an intercepted request names a path (origin-form)');
  return new URL(`https://${origin.authority}${req.url}`);
}

/** Answers a failure if nothing was sent yet, else destroys the response so that a cut body never looks complete. */
function answerFailure(res: ServerResponse, e: unknown): Outcome {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return 'failed';
  }
  const problem = problemOfError(e);
  sendProblem(res, problem);
  return problem.status < 500 ? 'bad_request' : 'upstream_error';
}
