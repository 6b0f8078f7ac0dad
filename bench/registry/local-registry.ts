import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { startTcpProxy, type TcpProxy } from '../harness/tcp-proxy.ts';
import { killProcess, onLines, stopProcess } from '../processes.ts';
import { blobBytesServed, countBlobRequests, parseRegistryLogLine, type RegistryRequest } from './registry-access-log.ts';
import { registryTools } from './registry-tools.ts';
import { runTool } from './run-tool.ts';


export interface LocalRegistry {
  /** http://host — what clients use (the throttled proxy's address when `uploadLimit` is set). */
  readonly url: string;
  /** "127.0.0.1:PORT", as in an image reference. */
  readonly host: string;
  /** The registry's own "127.0.0.1:PORT", bypassing the proxy. */
  readonly directHost: string;
  /** The proxy capping the registry's upload, when `uploadLimit` was given. */
  readonly proxy?: TcpProxy;
  /** Every request answered so far, in log order. */
  requests(): readonly RegistryRequest[];
  /** GETs of /v2/<repo>/blobs/<digest> answered 200 or 206, per digest: "each blob served once". */
  blobGets(): Map<string, number>;
  /** The same for HEADs (runtimes HEAD a blob before they GET it, or instead when they hold it). */
  blobHeads(): Map<string, number>;
  /** Body bytes of all blob GETs: the registry's share of "registry bytes ÷ image bytes". */
  blobBytesServed(): number;
  /**
   * Resolves once every request answered before the call is in `requests()`: the registry logs a
   * request just after it writes the response, so a client may finish before its line is read.
   * It sends a request of its own and waits for its line.
   */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /**
   * SIGKILL, as of a registry that dies: connections are cut mid-response, nothing drains.
   * The storage stays; `startRegistry` with the same `dir` and `port` brings it back.
   */
  kill(): Promise<void>;
}

export interface RegistryOptions {
  /** Holds the config, the htpasswd file, the storage, registry.log (JSON) and access.log. */
  dir: string;
  /** htpasswd (bcrypt) authentication: anonymous requests get 401 with a Basic challenge. */
  auth?: { user: string; password: string };
  /** Caps what the registry sends, bytes/s shared by all connections (a proxy in front of it). */
  uploadLimit?: number;
  /** The port to listen on (a restart after `kill()` at the address clients know); default one the OS picks. */
  port?: number;
}

/**
 * Debian's docker-registry (CNCF distribution 2.8) serving `dir` on 127.0.0.1. It listens on a
 * port the OS picks (addr 127.0.0.1:0) and reports it in its "listening on" log line, so there
 * is no port to guess and no collision to retry. It is up once that line is logged.
 */
export async function startRegistry(o: RegistryOptions): Promise<LocalRegistry> {
  const tools = await registryTools();
  const dir = resolve(o.dir);
  await mkdir(join(dir, 'storage'), { recursive: true });
  const config: Record<string, unknown> = {
    version: 0.1,
    // JSON on stderr (start-up, errors, the "listening on" line); the access log goes to stdout.
    log: { level: 'info', formatter: 'json', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'storage') },
      delete: { enabled: true },
      // The purge of stale uploads is a background walk of the storage: useless for a test's life.
      maintenance: { uploadpurging: { enabled: false } },
    },
    // A fixed secret silences the start-up warning and keeps upload state valid across requests.
    http: { addr: `127.0.0.1:${o.port ?? 0}`, secret: randomBytes(16).toString('hex') },
  };
  if (o.auth) {
    const line = await runTool(tools.htpasswd, ['-Bin', o.auth.user], { input: o.auth.password, redact: [o.auth.password] });
    await writeFile(join(dir, 'htpasswd'), line.trim() + '\n', { mode: 0o600 });
    config.auth = { htpasswd: { realm: 'damselfly-test', path: join(dir, 'htpasswd') } };
  }
  const configPath = join(dir, 'config.yml');
  await writeFile(configPath, stringify(config));

  const proc = spawn(tools.dockerRegistry, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Appended: a registry restarted on the same dir keeps the log of its earlier life.
  const logFile = createWriteStream(join(dir, 'registry.log'), { flags: 'a' });
  const accessFile = createWriteStream(join(dir, 'access.log'), { flags: 'a' });
  proc.stderr.pipe(logFile);
  proc.stdout.pipe(accessFile);
  const requests: RegistryRequest[] = [];
  const waiting = new Map<string, () => void>();
  let tail = '';
  const listening = new Promise<number>((resolveListen, reject) => {
    const timer = setTimeout(() => reject(new Error(`docker-registry did not report its port within 20 s:\n${tail}`)), 20_000);
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code ?? signal}) before listening:\n${tail}`));
    });
    onLines(proc.stderr, (line) => {
      tail = (tail + line + '\n').slice(-4000);
      const port = /"msg":"listening on 127\.0\.0\.1:(\d+)"/.exec(line);
      if (port) {
        clearTimeout(timer);
        resolveListen(Number(port[1]));
      }
    });
  });
  onLines(proc.stdout, (line) => {
    const request = parseRegistryLogLine(line);
    if (!request) return;
    requests.push(request);
    waiting.get(request.path)?.();
  });
  let port: number;
  try {
    port = await listening;
  } catch (err) {
    await stopProcess(proc, 2_000);
    throw err;
  }
  const directHost = `127.0.0.1:${port}`;
  const proxy = o.uploadLimit ? await startTcpProxy({ host: '127.0.0.1', port }, { uploadBytesPerSecond: o.uploadLimit }) : undefined;
  const host = proxy?.address ?? directHost;

  return {
    url: `http://${host}`,
    host,
    directHost,
    proxy,
    requests: () => requests,
    blobGets: () => countBlobRequests(requests, 'GET'),
    blobHeads: () => countBlobRequests(requests, 'HEAD'),
    blobBytesServed: () => blobBytesServed(requests),
    async settle() {
      // A path of its own (a 404 or 401 is logged like any answer), straight to the registry.
      const path = `/v2/damselfly-settle/manifests/${randomUUID()}`;
      let timer: NodeJS.Timeout | undefined;
      const logged = new Promise<void>((ok, fail) => {
        waiting.set(path, ok);
        timer = setTimeout(() => fail(new Error(`docker-registry did not log ${path} within 10 s`)), 10_000);
      });
      try {
        const res = await fetch(`http://${directHost}${path}`);
        await res.arrayBuffer();
        await logged;
      } finally {
        clearTimeout(timer);
        waiting.delete(path);
      }
    },
    async stop() {
      await proxy?.close();
      await stopProcess(proc, 5_000);
      await Promise.all([logFile, accessFile].map((f) => new Promise<void>((r) => f.end(r))));
    },
    async kill() {
      await killProcess(proc);
      await proxy?.close();
      await Promise.all([logFile, accessFile].map((f) => new Promise<void>((r) => f.end(r))));
    },
  };
}
