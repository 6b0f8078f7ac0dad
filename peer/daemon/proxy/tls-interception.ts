import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import type { LeafIssuer } from './leaf-certificates.ts';
import { CONNECT_ESTABLISHED } from './tunnel.ts';

/** Where a decrypted request came from: the CONNECT it was tunnelled in. */
export interface InterceptedOrigin {
  /** The CONNECT target, host:port: the URL of every request on this connection is https://<authority><path>. */
  authority: string;
  host: string;
  insecure: boolean;
}

export interface TlsInterception {
  /**
   * Answers 200 to the CONNECT, then terminates TLS on the client socket with a leaf for the
   * host the client names (SNI, else the CONNECT host). Rejects, before anything is written,
   * when no certificate can be issued.
   */
  intercept(client: Duplex, head: Buffer, origin: InterceptedOrigin): Promise<void>;
  close(): Promise<void>;
}

/**
 * TLS termination for hijacked hosts. Decrypted requests are parsed by an internal node:http
 * server (fed through its 'connection' event, as node's own https server is) and handed to
 * `handle` with the origin they were tunnelled to, so they follow the same rules as plain ones.
 * Only HTTP/1.1 is offered in ALPN: the internal parser speaks nothing else.
 */
export function createTlsInterception(o: { issuer: LeafIssuer; logger: LogSink; handle(req: IncomingMessage, res: ServerResponse, origin: InterceptedOrigin): void }): TlsInterception {
  const origins = new WeakMap<object, InterceptedOrigin>();
  const server: Server = createServer((req, res) => o.handle(req, res, origins.get(req.socket)!));
  const sockets = new Set<TLSSocket>();
  return {
    async intercept(client, head, origin) {
      // The CONNECT host's leaf is the default context (clients send no SNI for an IP address);
      // made before the 200 so that a failure to issue it can still be answered 502.
      const context = await o.issuer.contextFor(origin.host);
      client.write(CONNECT_ESTABLISHED);
      if (head.length > 0) client.unshift(head);
      const tls = new TLSSocket(client as never, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ['http/1.1'],
        SNICallback: (servername, cb) => {
          o.issuer.contextFor(servername).then((ctx) => cb(null, ctx), (err: Error) => cb(err));
        },
      });
      sockets.add(tls);
      origins.set(tls, origin);
      tls.once('close', () => {
        sockets.delete(tls);
        client.destroy();
      });
      tls.on('error', (err) => {
        // A client that does not trust the CA ends here (an alert during the handshake): its
        // business, logged for the operator, and both sockets go.
        o.logger.debug({ host: origin.host, err: err.message }, 'proxy: intercepted TLS connection failed');
        tls.destroy();
      });
      server.emit('connection', tls);
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
    },
  };
}
