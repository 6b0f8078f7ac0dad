/**
 * The pull routes of the OCI distribution spec, parsed from the raw request target (never a
 * URL-normalised one: `/v2/a/../b` must not quietly become `/v2/b`). Grammar from the spec's
 * "Pulling" section: a repository name is path components of lowercase alphanumerics joined by
 * `.`, `_`, `__` or runs of `-`, 255 characters at most (distribution's limit); a tag is
 * `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`; a digest is `algorithm:encoded`.
 */
export type RegistryRoute =
  | { kind: 'ping' }
  | { kind: 'catalog' }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'tags'; name: string }
  | { kind: 'referrers'; name: string; digest: string };

/** Why a path is not a pull route, as the registry's own error code names it. */
export type RouteRefusal = { refused: 'NAME_INVALID' | 'TAG_INVALID' | 'DIGEST_INVALID' | 'NOT_FOUND'; message: string };

const NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** The one digest the swarm takes: its id and its check are sha256 (core/wire/fields.ts). */
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_NAME = 255;

export const isDigest = (value: string) => DIGEST.test(value);
export const isSwarmDigest = (value: string) => SHA256_DIGEST.test(value);

export function parseRegistryPath(path: string): RegistryRoute | RouteRefusal {
  if (path === '/v2' || path === '/v2/') return { kind: 'ping' };
  if (path === '/v2/_catalog') return { kind: 'catalog' };
  const tags = /^\/v2\/(.+)\/tags\/list$/.exec(path);
  if (tags) return withName(tags[1]!, (name) => ({ kind: 'tags', name }));
  // Greedy: the name is everything up to the last `/manifests/`, `/blobs/` or `/referrers/`,
  // so a repository may itself have a component called `blobs`.
  const m = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(path);
  if (!m) return { refused: 'NOT_FOUND', message: 'not a pull route of the distribution API' };
  const [, rawName, kind, ref] = m as unknown as [string, string, string, string];
  return withName(rawName, (name) => {
    if (kind === 'manifests') {
      if (TAG.test(ref) || DIGEST.test(ref)) return { kind: 'manifest', name, reference: ref };
      return { refused: ref.includes(':') ? 'DIGEST_INVALID' : 'TAG_INVALID', message: 'invalid manifest reference' };
    }
    if (!DIGEST.test(ref)) return { refused: 'DIGEST_INVALID', message: 'invalid digest' };
    return kind === 'blobs' ? { kind: 'blob', name, digest: ref } : { kind: 'referrers', name, digest: ref };
  });
}

function withName(name: string, then: (name: string) => RegistryRoute | RouteRefusal): RegistryRoute | RouteRefusal {
  if (name.length > MAX_NAME || !NAME.test(name)) return { refused: 'NAME_INVALID', message: 'invalid repository name' };
  return then(name);
}
