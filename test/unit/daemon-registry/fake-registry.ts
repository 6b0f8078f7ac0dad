import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for a distribution registry: token auth on private repositories (401 with a
 * Bearer challenge when the token is missing or wrong), manifests negotiated on Accept, blobs
 * with HEAD, tag lists, and the registry's own error JSON. It records every request it gets,
 * raw header lines included, so tests can see what the mirror sent.
 */
export interface FakeRegistryOptions {
  /** Repositories readable only with `Authorization: Bearer <token>`. */
  privateRepos?: Record<string, string>;
  /** Blobs by digest, held by every repository. */
  blobs?: Record<string, Buffer>;
  /** Blob HEAD and GET answer with a redirect to this server's /storage/, as registries on object storage do. */
  redirectBlobsTo?: string;
}

export interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
  headerLines(name: string): string[];
}

export const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export function blobOf(text: string | Buffer): { digest: string; bytes: Buffer } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, bytes };
}

export async function startFakeRegistry(o: FakeRegistryOptions = {}) {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      rawHeaders: [...req.rawHeaders],
      headerLines: (name) => req.rawHeaders.filter((_, i) => i % 2 === 1 && req.rawHeaders[i - 1]!.toLowerCase() === name.toLowerCase()),
    });
    route(req, res);
  });
  const errors = (res: ServerResponse, status: number, code: string, extra: Record<string, string> = {}) => {
    const body = JSON.stringify({ errors: [{ code, message: code.toLowerCase(), detail: null }] });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'docker-distribution-api-version': 'registry/2.0', ...extra, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const origin = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const challenge = (scope: string) => ({ 'www-authenticate': `Bearer realm="${origin()}/token",service="fake",scope="${scope}"` });

  function route(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/storage/')) return sendBlob(req, res, url.pathname.slice('/storage/'.length));
    if (url.pathname === '/v2/') {
      if (!req.headers.authorization) return errors(res, 401, 'UNAUTHORIZED', challenge(''));
      res.writeHead(200, { 'content-type': 'application/json', 'docker-distribution-api-version': 'registry/2.0', 'content-length': 2 });
      return void res.end('{}');
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/([^/]+)$/.exec(url.pathname);
    if (!m) return errors(res, 404, 'NOT_FOUND');
    const [, name, kind, ref] = m as unknown as [string, string, string, string];
    const token = o.privateRepos?.[name];
    if (token !== undefined && req.headers.authorization !== `Bearer ${token}`) return errors(res, 401, 'UNAUTHORIZED', challenge(`repository:${name}:pull`));
    if (kind === 'tags') return json(res, { name, tags: ['latest', 'v1'] }, 'application/json');
    if (kind === 'manifests') {
      // Accept negotiation as distribution does it: every Accept line counts.
      const accepts = (req.headers.accept ?? '').split(',').map((a) => a.trim());
      const type = accepts.includes(OCI_INDEX) ? OCI_INDEX : MANIFEST_V2;
      return json(res, { schemaVersion: 2, mediaType: type }, type);
    }
    if (o.redirectBlobsTo !== undefined) {
      res.writeHead(307, { location: `${o.redirectBlobsTo}/storage/${ref}`, 'content-length': 0 });
      return void res.end();
    }
    sendBlob(req, res, ref);
  }

  function sendBlob(req: IncomingMessage, res: ServerResponse, digest: string): void {
    const bytes = o.blobs?.[digest];
    if (!bytes) return errors(res, 404, 'BLOB_UNKNOWN');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'docker-content-digest': digest, 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  }

  function json(res: ServerResponse, value: unknown, type: string): void {
    const body = JSON.stringify(value);
    res.writeHead(200, { 'content-type': type, 'docker-content-digest': blobOf(body).digest, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: origin(),
    host: origin().slice('http://'.length),
    seen,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export type FakeRegistry = Awaited<ReturnType<typeof startFakeRegistry>>;
