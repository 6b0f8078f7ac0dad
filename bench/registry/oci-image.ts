import { spawn } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { skopeoCopy } from './skopeo.ts';

export interface BuiltImage {
  /** The OCI layout's tag (index.json's ref.name), `latest` unless given. */
  tag: string;
  manifestDigest: string;
  configDigest: string;
  /** The gzip'd layer blobs, in manifest order. */
  layers: { digest: string; size: number }[];
  /** Bytes of the blobs one pull GETs (config + layers): the "image bytes" of registry bytes ÷ image bytes. */
  totalBytes: number;
}

const MEDIA = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

/**
 * Builds an OCI image layout in `dir` (oci-layout, index.json, blobs/sha256/…) for linux/amd64:
 * one gzip'd tar layer per size in `layers`, each holding one file of that many pseudo-random,
 * incompressible bytes, so a layer's blob is its size (plus tar and gzip framing) and a
 * transfer cannot shrink it. The content is a keystream of `seed`: the same seed gives the
 * same digests, another seed an image no cache has seen. The config's rootfs.diff_ids are the
 * sha256 of each uncompressed tar, which containerd checks when it unpacks.
 */
export async function buildOciLayout(dir: string, o: { layers: number[]; seed: string; tag?: string }): Promise<BuiltImage> {
  const root = resolve(dir);
  const blobs = join(root, 'blobs', 'sha256');
  const work = join(root, '.build');
  await mkdir(blobs, { recursive: true });
  await mkdir(work, { recursive: true });
  try {
    const layers: { digest: string; size: number; diffId: string }[] = [];
    for (const [i, size] of o.layers.entries()) layers.push(await buildLayer(join(work, `layer-${i}`), blobs, size, `${o.seed}/${i}`));
    const config = blob({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((_, i) => ({ created_by: `damselfly bench layer ${i}` })),
    });
    const manifest = blob({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
    });
    for (const b of [config, manifest]) await writeFile(join(blobs, b.digest.slice('sha256:'.length)), b.bytes);
    const tag = o.tag ?? 'latest';
    const index = {
      schemaVersion: 2,
      manifests: [{ mediaType: MEDIA.manifest, digest: manifest.digest, size: manifest.size, annotations: { 'org.opencontainers.image.ref.name': tag } }],
    };
    await writeFile(join(root, 'index.json'), JSON.stringify(index));
    await writeFile(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const layerBytes = layers.reduce((sum, l) => sum + l.size, 0);
    return {
      tag,
      manifestDigest: manifest.digest,
      configDigest: config.digest,
      layers: layers.map(({ digest, size }) => ({ digest, size })),
      totalBytes: config.size + layerBytes,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Pushes the layout's `tag` to `docker://REF` (ref = host/repo:tag) over plain HTTP, digests
 * preserved: skopeo fails rather than convert or recompress, so the registry holds exactly the
 * manifest and blobs we built.
 */
export async function pushImage(layoutDir: string, ref: string, o: { tag?: string; creds?: { user: string; password: string } } = {}): Promise<void> {
  await skopeoCopy(`oci:${resolve(layoutDir)}:${o.tag ?? 'latest'}`, `docker://${ref}`, { tlsVerify: false, preserveDigests: true, creds: o.creds });
}

function blob(value: unknown): { bytes: Buffer; digest: string; size: number } {
  const bytes = Buffer.from(JSON.stringify(value));
  return { bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
}

/**
 * One layer: the file is written, tar'd by the system's tar (owner, mtime and order fixed, so
 * the tar depends on the content only), and the tar stream is hashed (diff_id) and gzip'd at
 * level 1 (random bytes do not compress; more effort buys nothing) into the blob, in one pass.
 */
async function buildLayer(work: string, blobs: string, size: number, seed: string): Promise<{ digest: string; size: number; diffId: string }> {
  const content = join(work, 'content');
  await mkdir(content, { recursive: true });
  await pipeline(keystream(seed, size), createWriteStream(join(content, 'data.bin')));
  const tar = spawn('tar', ['-c', '-C', content, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '.'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => tar.once('close', r));
  const diffId = createHash('sha256');
  const digest = createHash('sha256');
  const tmp = join(work, 'blob');
  await pipeline(tar.stdout, tee(diffId), createGzip({ level: 1 }), tee(digest), createWriteStream(tmp));
  const code = await exited;
  if (code !== 0) throw new Error(`tar exited with ${code}: ${stderr.trim()}`);
  const hex = digest.digest('hex');
  await rename(tmp, join(blobs, hex));
  return { digest: `sha256:${hex}`, size: (await stat(join(blobs, hex))).size, diffId: `sha256:${diffId.digest('hex')}` };
}

/** `size` bytes of AES-256-CTR keystream keyed by sha256(seed): fast, incompressible, reproducible. */
function keystream(seed: string, size: number): AsyncIterable<Buffer> {
  const cipher = createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16));
  const zeros = Buffer.alloc(1024 * 1024);
  return (async function* () {
    for (let left = size; left > 0; left -= zeros.length) yield cipher.update(left >= zeros.length ? zeros : zeros.subarray(0, left));
  })();
}

function tee(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}
