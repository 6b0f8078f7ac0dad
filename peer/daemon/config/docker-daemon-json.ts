import { DamselflyError } from '../../../core/errors.ts';
import type { OwnedFile } from './owned-file.ts';

/**
 * dockerd's daemon.json with the daemon as its first registry mirror, every other key kept.
 * JSON has no comments, so the file counts as damselfly's while it is exactly what damselfly
 * made of the file it replaced (kept in the backup); once edited by hand it is the user's.
 * A loopback mirror needs no `insecure-registries`: dockerd treats 127.0.0.0/8 and ::1 as
 * insecure by default; another address is added there, as plain HTTP needs.
 */
export function daemonJsonFile(path: string, mirror: string): OwnedFile {
  const render = (original: string | undefined) => mergeDaemonJson(path, original, mirror);
  return { path, render, isOurs: (current, original) => current === render(original) };
}

export function mergeDaemonJson(path: string, original: string | undefined, mirror: string): string {
  const config = parseObject(path, original);
  const url = `http://${mirror}`;
  config['registry-mirrors'] = [url, ...stringList(path, config, 'registry-mirrors').filter((m) => m.replace(/\/$/, '') !== url)];
  if (!isLoopback(mirror)) {
    const insecure = stringList(path, config, 'insecure-registries');
    if (!insecure.includes(mirror)) config['insecure-registries'] = [...insecure, mirror];
  }
  return `${JSON.stringify(config, null, 2)}\n`;
}

function parseObject(path: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DamselflyError('DF_ERR_RUNTIME_CONFIG_CONFLICT', `${path} is not valid JSON (${(e as Error).message}): fix it first`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DamselflyError('DF_ERR_RUNTIME_CONFIG_CONFLICT', `${path} is not a JSON object: fix it first`);
  return value as Record<string, unknown>;
}

function stringList(path: string, config: Record<string, unknown>, key: string): string[] {
  const value = config[key] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new DamselflyError('DF_ERR_RUNTIME_CONFIG_CONFLICT', `${path}: "${key}" is not a list of strings: fix it first`);
  return value;
}

function isLoopback(hostPort: string): boolean {
  const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
