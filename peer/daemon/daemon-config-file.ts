import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { usageError } from '../../core/errors.ts';
import { parseProxyConfig, type ProxyConfig } from './proxy/index.ts';

/**
 * The daemon's YAML config file (`--config`): today its `proxy:` section (rules and HTTPS
 * interception, docs/proxy.md). Read and validated once at start; a mistake is a usage error
 * naming its place. No file: no rules (every proxied URL goes direct).
 */
export async function readDaemonConfigFile(path: string | undefined): Promise<{ proxy: ProxyConfig }> {
  if (path === undefined) return { proxy: parseProxyConfig({}) };
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw usageError(`daemon: --config ${path}: ${(e as Error).message.split('\n', 1)[0]}`);
  }
  if (doc !== null && doc !== undefined && (typeof doc !== 'object' || Array.isArray(doc))) throw usageError(`daemon: --config ${path}: expected a mapping at the top`);
  const known = new Set(['proxy']);
  const unknown = Object.keys(doc ?? {}).filter((k) => !known.has(k));
  if (unknown.length > 0) throw usageError(`daemon: --config ${path}: unknown section ${unknown[0]}`);
  return { proxy: parseProxyConfig((doc as { proxy?: unknown } | null)?.proxy) };
}
