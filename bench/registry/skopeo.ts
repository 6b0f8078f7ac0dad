import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryTools } from './registry-tools.ts';
import { runTool } from './run-tool.ts';

export interface SkopeoCopyOptions {
  /** A registries.conf of the caller's (the daemon's generated one); default an empty one. */
  registriesConf?: string;
  /** An auth.json of the caller's; default one written from `creds`, or an empty one. */
  authFile?: string;
  /** Credentials for every docker:// registry in src and dest (written to a private auth.json). */
  creds?: { user: string; password: string };
  /**
   * HTTPS with verified certificates on both sides; false for our plain-HTTP registries.
   * Omitted, registries.conf decides (`insecure = true` on a [[registry]] or mirror): an
   * explicit flag overrides the file, also for the mirrors it lists.
   */
  tlsVerify?: boolean;
  /** Fail rather than re-encode: the destination keeps the digests we built (pushes). */
  preserveDigests?: boolean;
}

/**
 * `skopeo copy SRC DEST` isolated from the machine's containers configuration: a private
 * registries.conf (skopeo 1.9's hidden global `--registries-conf`; it has no environment
 * variable for it), policy (accept anything: our images are unsigned), registries.d, auth
 * file, and HOME/DOCKER_CONFIG/XDG_RUNTIME_DIR pointing into a temporary directory, so neither
 * /etc/containers nor ~/.docker/config.json is read. Credentials go through the auth file,
 * never the command line.
 */
export async function skopeoCopy(src: string, dest: string, o: SkopeoCopyOptions): Promise<void> {
  const { skopeo } = await registryTools();
  const home = await mkdtemp(join(tmpdir(), 'damselfly-skopeo-'));
  try {
    const registriesConf = o.registriesConf ?? join(home, 'registries.conf');
    if (!o.registriesConf) await writeFile(registriesConf, '');
    const policy = join(home, 'policy.json');
    await writeFile(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await mkdir(join(home, 'registries.d'));
    const authFile = o.authFile ?? join(home, 'auth.json');
    if (!o.authFile) await writeFile(authFile, JSON.stringify({ auths: authEntries([src, dest], o.creds) }), { mode: 0o600 });
    const args = ['--registries-conf', registriesConf, '--policy', policy, '--registries.d', join(home, 'registries.d'), '--tmpdir', home];
    args.push('copy', '--quiet', '--authfile', authFile);
    if (o.tlsVerify !== undefined) args.push(`--src-tls-verify=${o.tlsVerify}`, `--dest-tls-verify=${o.tlsVerify}`);
    if (o.preserveDigests) args.push('--preserve-digests');
    args.push(src, dest);
    await runTool(skopeo, args, { env: { HOME: home, DOCKER_CONFIG: home, XDG_RUNTIME_DIR: home, TMPDIR: home } });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** auth.json entries (`{"auths": {host: {auth: base64(user:password)}}}`) for the docker:// refs. */
function authEntries(refs: string[], creds: SkopeoCopyOptions['creds']): Record<string, { auth: string }> {
  if (!creds) return {};
  const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64');
  const entries: Record<string, { auth: string }> = {};
  for (const ref of refs) {
    const host = /^docker:\/\/([^/]+)\//.exec(ref)?.[1];
    if (host) entries[host] = { auth };
  }
  return entries;
}
