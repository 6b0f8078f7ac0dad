import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { createDaemonMetrics } from '../../../peer/daemon/daemon-metrics.ts';
import { createRegistryMirror, type RegistryMirrorOptions } from '../../../peer/daemon/registry/index.ts';

/** The mirror on a node:http server of its own, as the daemon mounts it, and a client for it. */
export async function startMirror(o: RegistryMirrorOptions) {
  const metrics = o.metrics ?? createDaemonMetrics();
  const mirror = createRegistryMirror({ ...o, metrics });
  const server: Server = createServer((req, res) => void mirror.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = new Agent();
  return {
    origin,
    metrics,
    /** `headers` as flat name/value pairs: repeated names go as repeated lines. */
    get: (path: string, headers: string[] = [], method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE' | 'PATCH' | 'OPTIONS' = 'GET') =>
      request(`${origin}${path}`, { method, headers, dispatcher: agent }),
    /** A request written byte for byte on a socket: no client library normalises its path or refuses its headers. */
    raw: (method: string, path: string, headerLines: string[] = []) => rawRequest(origin, method, path, headerLines),
    close: async () => {
      await agent.close();
      await mirror.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function metricValue(metrics: ReturnType<typeof createDaemonMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  // A histogram's series (name_count, name_sum, name_bucket) sit under the histogram's name.
  const all = await metrics.registry.getMetricsAsJSON();
  const metric = all.find((m) => m.name === name) ?? all.find((m) => name.startsWith(`${m.name}_`));
  const value = metric?.values.find((v) => ((v as { metricName?: string }).metricName ?? metric.name) === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return value?.value ?? 0;
}

async function rawRequest(origin: string, method: string, path: string, headerLines: string[]): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(origin);
  const socket = connect(Number(port), hostname);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write([`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, ...headerLines, 'Connection: close', '', ''].join('\r\n'));
  await new Promise<void>((resolve, reject) => socket.on('close', () => resolve()).on('error', reject));
  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const head = text.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head, body: text.slice(split + 4) };
}
