import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import { isHostPort } from '../../../core/wire/host-port.ts';
import { problemHeaders, type Problem } from '../../../edge/http/problem.ts';

/** The target of a CONNECT, authority-form `host:port` (RFC 9110 §9.3.6), or undefined when it is not one. */
export function connectTarget(url: string | undefined): { authority: string; host: string; port: number } | undefined {
  if (!url || !isHostPort(url)) return undefined;
  const colon = url.lastIndexOf(':');
  const host = url.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  return { authority: url, host, port: Number(url.slice(colon + 1)) };
}

export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection Established\r\n\r\n';

/**
 * A CONNECT tunnelled untouched: a TCP connection to host:port, 200 once it is up, then bytes
 * both ways with backpressure until either side ends; an error on either destroys both.
 * Resolves when the tunnel is up, rejects (nothing written to the client yet) when the target
 * cannot be reached.
 */
export function openTunnel(client: Duplex, head: Buffer, target: { host: string; port: number }, onClosed: (err?: Error) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const upstream = connect({ host: target.host, port: target.port });
    const fail = (err: Error) => reject(err);
    upstream.once('error', fail);
    upstream.once('connect', () => {
      upstream.off('error', fail);
      client.write(CONNECT_ESTABLISHED);
      if (head.length > 0) upstream.write(head);
      // client → upstream → client: pipeline destroys all three stages on the first error.
      pipeline(client, upstream, client, (err) => onClosed(err ?? undefined));
      resolve(upstream);
    });
  });
}

/** A problem+json answer on a raw socket (CONNECT has no ServerResponse), then the socket is closed. */
export function writeRawProblem(socket: Duplex, problem: Problem): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(problem);
  const headers = { ...problemHeaders(problem), 'content-length': String(Buffer.byteLength(body)), connection: 'close' };
  const head = Object.entries(headers).map(([n, v]) => `${n}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n${head}\r\n${body}`);
}
