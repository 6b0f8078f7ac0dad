import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Paths of the real container tools, as infra/dev/registry-tools.sh printed them. */
export interface RegistryTools {
  dockerRegistry: string;
  skopeo: string;
  containerd: string;
  ctr: string;
  runc: string;
  htpasswd: string;
}

const SCRIPT = fileURLToPath(new URL('../../infra/dev/registry-tools.sh', import.meta.url));
const KEYS: Record<string, keyof RegistryTools> = {
  DAMSELFLY_DOCKER_REGISTRY: 'dockerRegistry',
  DAMSELFLY_SKOPEO: 'skopeo',
  DAMSELFLY_CONTAINERD: 'containerd',
  DAMSELFLY_CTR: 'ctr',
  DAMSELFLY_RUNC: 'runc',
  DAMSELFLY_HTPASSWD: 'htpasswd',
};

let tools: Promise<RegistryTools> | undefined;

/**
 * Runs infra/dev/registry-tools.sh once per process (it installs the Debian packages that are
 * missing, serialised with flock, so several test files or benchmarks may call it at once) and
 * returns the binaries' paths. A failure is not cached: the next caller runs the script again.
 */
export function registryTools(): Promise<RegistryTools> {
  tools ??= runScript().catch((err: unknown) => {
    tools = undefined;
    throw err;
  });
  return tools;
}

function runScript(): Promise<RegistryTools> {
  return new Promise((resolve, reject) => {
    // A cold machine runs apt-get update + install: minutes, not seconds.
    execFile('bash', [SCRIPT], { timeout: 900_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const last = stderr.split('\n').filter((l) => l.includes('ERROR')).at(-1) ?? stderr.trim().split('\n').at(-1) ?? err.message;
        reject(new Error(`container tools unavailable (infra/dev/registry-tools.sh): ${last.replace(/^\[damselfly-dev\] /, '')}`));
        return;
      }
      const found: Partial<RegistryTools> = {};
      for (const line of stdout.split('\n')) {
        const m = /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(line.trim());
        const key = m && KEYS[m[1]!];
        if (key) found[key] = m[2]!;
      }
      const missing = Object.values(KEYS).filter((k) => !found[k]);
      if (missing.length > 0) reject(new Error(`infra/dev/registry-tools.sh printed no path for ${missing.join(', ')}`));
      else resolve(found as RegistryTools);
    });
  });
}
