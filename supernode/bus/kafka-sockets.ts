import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/** kafkajs' own keep-alive delay on its sockets (src/network/socketFactory.js). */
const KEEP_ALIVE_MS = 60_000;

/**
 * The connections of one kafkajs client, so that closing it cannot hang and nothing of it
 * outlives the close.
 *
 * kafkajs' disconnect() first waits for every request in flight, and after a broker restart a
 * consumer's JoinGroup is held by the broker until the group's pre-restart member times out
 * (its session, 30 s by default); meanwhile the consumer carries on joining after stop() and
 * even restarts itself after a crash, so its sockets and timers keep the process alive.
 * `close()` cuts what is still open, which fails those requests at once, and fails every
 * connection the client tries afterwards.
 */
export class KafkaSockets {
  private readonly open = new Set<net.Socket>();
  private closed: Error | undefined;

  /** A socket factory for the client's config: `inner` (e.g. a test's) or kafkajs' default, tracked. */
  factory(inner: ISocketFactory = defaultSocketFactory): ISocketFactory {
    return (args) => {
      if (this.closed) {
        // kafkajs attaches its listeners after the factory returns: fail on the next tick.
        const dead = new net.Socket();
        const err = this.closed;
        process.nextTick(() => dead.destroy(err));
        return dead;
      }
      const socket = inner(args);
      this.open.add(socket);
      socket.once('close', () => this.open.delete(socket));
      return socket;
    };
  }

  /** How many of the client's sockets are not closed yet. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Destroys every socket still open and refuses new ones. A socket kafkajs has ended (a clean
   * disconnect, waiting for the broker's FIN) just goes; one still in use is destroyed with
   * `reason`, which kafkajs sees as a connection error: the requests on it fail at once.
   */
  close(reason: string): void {
    // A socket error, for kafkajs (it fails the requests on the socket); never reaches a caller as is.
    this.closed ??= new Error(reason);
    for (const socket of this.open) {
      if (socket.writableEnded) socket.destroy();
      else socket.destroy(this.closed);
    }
    this.open.clear();
  }
}

/** The same as kafkajs' default factory, which the package does not export. */
const defaultSocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tls.connect({ host, port, ...(net.isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : net.connect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_MS);
  return socket;
};
