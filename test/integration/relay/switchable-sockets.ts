import net from 'node:net';
import tls from 'node:tls';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs socket factory with an off switch: a network outage between this client and the
 * broker, as the real kafkajs producer experiences it (connections reset mid-request, new ones
 * refused), without stopping the broker that other tests share. Stopping the broker itself is
 * the chaos suite's job.
 */
export function switchableSockets() {
  const open = new Set<net.Socket>();
  let down = false;
  const factory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
    if (down) {
      const refused = new net.Socket();
      setImmediate(() => refused.destroy(Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (simulated outage)`), { code: 'ECONNREFUSED' })));
      return refused;
    }
    const socket = ssl ? tls.connect({ host, port, ...ssl }, onConnect) : net.connect({ host, port }, onConnect);
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    return socket;
  };
  return {
    factory,
    cut(): void {
      down = true;
      for (const s of open) s.destroy(Object.assign(new Error('read ECONNRESET (simulated outage)'), { code: 'ECONNRESET' }));
    },
    restore(): void {
      down = false;
    },
  };
}
