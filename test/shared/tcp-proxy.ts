import net from 'node:net';

export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  readonly address: string;
  readonly port: number;
  /** Connections accepted so far (to see that a client reconnected). */
  readonly accepted: number;
  /**
   * An outage: every open connection is destroyed (both sides) and the port stops listening,
   * so new connections are refused (ECONNREFUSED), as of a server that is down.
   */
  cut(): void;
  /** Listens on the same port again and forwards new connections. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP forwarder on 127.0.0.1 with an off switch, put between a client and a shared service
 * (PostgreSQL) to give the client an outage without stopping the service other tests use.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let down = false;
  let accepted = 0;
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
      a.pipe(b);
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

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(proxy.port);
  return u.toString();
}
