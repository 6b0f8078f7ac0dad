import { readFile } from 'node:fs/promises';
import { parse } from 'smol-toml';

/**
 * What containerd's own config.toml says about where CRI reads hosts.toml files, to tell the
 * user whether the directory written is one containerd reads. Read only, never changed: that
 * file is the user's (and its plugin table moved in containerd 2.x, config `version = 3`).
 */
export type ConfigPathFinding =
  | { kind: 'unreadable'; file: string; why: string }
  | { kind: 'unset'; file: string; section: string }
  | { kind: 'set'; file: string; section: string; dirs: string[] };

export async function findConfigPath(file: string): Promise<ConfigPathFinding> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    return { kind: 'unreadable', file, why: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  let doc: Record<string, unknown>;
  try {
    doc = parse(text);
  } catch (e) {
    return { kind: 'unreadable', file, why: `not TOML (${(e as Error).message.split('\n')[0]})` };
  }
  const plugin = doc.version === 3 ? 'io.containerd.cri.v1.images' : 'io.containerd.grpc.v1.cri';
  const section = `plugins."${plugin}".registry`;
  const value = pick(doc, ['plugins', plugin, 'registry', 'config_path']);
  if (typeof value !== 'string' || value === '') return { kind: 'unset', file, section };
  // Several directories, ':'-separated as containerd splits the list; the first holding a
  // directory for a registry wins.
  return { kind: 'set', file, section, dirs: value.split(':').filter(Boolean) };
}

function pick(value: unknown, keys: string[]): unknown {
  let at = value;
  for (const key of keys) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined;
  return at;
}
