import net from 'node:net';
import { CHUNK_BURST_BYTES, createThrottle, type Throttle } from '../../edge/rate/index.ts';

export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far (to see that a client reconnected). */
  readonly accepted: number;
  /** Bytes the target sent to clients through the proxy ("registry bytes" of the image benchmark). */
  readonly bytesToClients: number;
  /**
   * An outage: every open connection is destroyed (both sides) and the port stops listening,
   * so new connections are refused (ECONNREFUSED), as of a server that is down.
   */
  cut(): void;
  /** Listens on the same port again and forwards new connections. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  /** Caps what the target sends to clients, bytes/s, one budget shared by every connection. */
  uploadBytesPerSecond?: number;
}

/**
 * A TCP forwarder on 127.0.0.1 put between clients and a server: with an off switch, to give
 * a client an outage without stopping a service other tests use (PostgreSQL), and with an
 * upload cap and a byte count, to make a local registry behave like a remote one of limited
 * bandwidth and to measure what left it. Requests (client to target) are never capped.
 */
export async function startTcpProxy(target: { host: string; port: number }, o: TcpProxyOptions = {}): Promise<TcpProxy> {
  const throttle = o.uploadBytesPerSecond ? createThrottle(o.uploadBytesPerSecond, { burstBytes: CHUNK_BURST_BYTES }) : undefined;
  const open = new Set<net.Socket>();
  let down = false;
  let accepted = 0;
  let bytesToClients = 0;
  const server = net.createServer((client) => {
    accepted += 1;
    const upstream = net.connect(target);
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      open.add(a);
      a.on('close', () => {
        open.delete(a);
        b.destroy();
      });
      // Errors end the pair (the 'close' above); a listener is needed so they are not thrown.
      a.on('error', () => b.destroy());
    }
    client.pipe(upstream);
    if (throttle) forwardThrottled(upstream, client, throttle, (n) => (bytesToClients += n));
    else {
      upstream.on('data', (chunk: Buffer) => (bytesToClients += chunk.length));
      upstream.pipe(client);
    }
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get bytesToClients() {
      return bytesToClients;
    },
    cut() {
      if (down) return;
      down = true;
      server.close();
      for (const s of open) s.destroy();
    },
    async restore() {
      if (!down) return;
      // libuv listens with SO_REUSEADDR: the port is free again although connections on it
      // may still be in TIME_WAIT.
      await listen(port);
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        if (down) resolve();
        else server.close(() => resolve());
      }),
  };
}

/**
 * `from` → `to`, each chunk sent only once the shared throttle allows it. `from` is paused
 * while a chunk waits, so TCP's own flow control holds the target back instead of the proxy
 * buffering the whole response; the end is passed on after the last chunk went.
 */
function forwardThrottled(from: net.Socket, to: net.Socket, throttle: Throttle, sent: (bytes: number) => void): void {
  let queue = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    from.pause();
    queue = queue
      .then(() => throttle.take(chunk.length))
      .then(() => {
        if (to.destroyed) return;
        sent(chunk.length);
        if (to.write(chunk)) from.resume();
        else to.once('drain', () => from.resume());
      });
  });
  from.on('end', () => void queue.then(() => to.end()));
}

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
