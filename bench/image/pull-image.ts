import { createHash } from 'node:crypto';
import { z } from 'zod';

/** What a runtime sends to resolve a tag: an OCI manifest or index, or Docker's v2 equivalents. */
const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

const Descriptor = z.object({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), size: z.number().int().nonnegative() });
const Manifest = z.object({ config: Descriptor, layers: z.array(Descriptor).min(1) });

export interface BlobPull {
  digest: string;
  size: number;
  /** ms from the pull's start to the first body byte, and to the last. */
  firstByteMs: number;
  doneMs: number;
  /** sha256 of the bytes received equals the digest, and their count the manifest's size. */
  verified: boolean;
}

export interface ImagePull {
  manifestDigest: string;
  /** performance.now() when the pull began; the times below count from it. */
  startedAt: number;
  /** The config first, then the layers in manifest order. */
  blobs: BlobPull[];
  /** ms from the start to the last blob received. */
  doneMs: number;
}

/**
 * A minimal OCI distribution client, as a runtime pulls: GET the manifest by tag with the
 * Accept headers containerd sends, then the config and every layer at once, each blob hashed
 * as it streams (its sha256 must be its digest) and its first-byte and completion times taken.
 * `base` is a registry or a daemon mirror (http://host:port); `headers` go on every request
 * (X-Dragonfly-Registry for a daemon). Throws on an HTTP error, never returns a partial pull.
 */
export async function pullImage(o: { base: string; repository: string; tag: string; headers?: Record<string, string> }): Promise<ImagePull> {
  const start = performance.now();
  const url = (path: string) => `${o.base}/v2/${o.repository}/${path}`;
  const res = await fetch(url(`manifests/${o.tag}`), { headers: { ...o.headers, accept: MANIFEST_ACCEPT } });
  if (!res.ok) throw new Error(`GET manifest ${o.repository}:${o.tag} from ${o.base}: HTTP ${res.status} ${await res.text()}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const manifestDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const manifest = Manifest.parse(JSON.parse(bytes.toString()));
  const blobs = await Promise.all([manifest.config, ...manifest.layers].map((d) => pullBlob(url(`blobs/${d.digest}`), d, o.headers ?? {}, start)));
  return { manifestDigest, startedAt: start, blobs, doneMs: Math.max(...blobs.map((b) => b.doneMs)) };
}

async function pullBlob(url: string, d: { digest: string; size: number }, headers: Record<string, string>, start: number): Promise<BlobPull> {
  const res = await fetch(url, { headers });
  if (!res.ok || !res.body) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  const hash = createHash('sha256');
  let received = 0;
  let firstByteMs: number | undefined;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    firstByteMs ??= performance.now() - start;
    hash.update(chunk);
    received += chunk.length;
  }
  const doneMs = performance.now() - start;
  const verified = received === d.size && `sha256:${hash.digest('hex')}` === d.digest;
  return { digest: d.digest, size: d.size, firstByteMs: firstByteMs ?? doneMs, doneMs, verified };
}
