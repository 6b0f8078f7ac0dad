import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { onLines, stopProcess } from '../processes.ts';
import { registryTools } from './registry-tools.ts';
import { runTool } from './run-tool.ts';

export interface Containerd {
  /** The private gRPC socket (`ctr --address`). */
  readonly socket: string;
  /**
   * `ctr images pull --hosts-dir DIR REF`, unpacked into the overlayfs snapshotter; resolves
   * with the manifest digest containerd recorded for REF.
   */
  pull(ref: string, o: CtrPullOptions): Promise<string>;
  /** Digests of every blob in containerd's content store. */
  contentDigests(): Promise<Set<string>>;
  stop(): Promise<void>;
}

export interface CtrPullOptions {
  /** Holds `<host>/hosts.toml` (or `_default/hosts.toml`): where containerd sends the pull. */
  hostsDir: string;
  /** Basic credentials (`ctr --user user:password`), sent to whichever host answers a 401. */
  user?: { user: string; password: string };
  /** Plain HTTP for a registry host with no hosts.toml saying `http://`. */
  plainHttp?: boolean;
}

/** The namespace our pulls use: the private containerd holds nothing else. */
const NAMESPACE = 'damselfly';

/**
 * Debian's containerd (1.6) as root on a private root, state dir, socket and config, so it
 * neither touches the machine's /var/lib/containerd, /run/containerd or /opt/containerd nor
 * meets another instance. Only what image pulls need is loaded: the CRI plugin (which would
 * set up CNI and a streaming server), the snapshotters other than overlayfs and native, the
 * v1 runtime, the opt plugin (it creates /opt/containerd) and the tracing/metrics endpoints are
 * disabled; it boots in well under a second.
 */
export async function startContainerd(o: { dir: string }): Promise<Containerd> {
  const tools = await registryTools();
  const dir = resolve(o.dir);
  await mkdir(dir, { recursive: true });
  const socket = join(dir, 'containerd.sock');
  const configPath = join(dir, 'config.toml');
  await writeFile(
    configPath,
    [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'root'))}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = [' +
        [
          'io.containerd.grpc.v1.cri',
          'io.containerd.internal.v1.opt',
          'io.containerd.snapshotter.v1.aufs',
          'io.containerd.snapshotter.v1.btrfs',
          'io.containerd.snapshotter.v1.devmapper',
          'io.containerd.snapshotter.v1.zfs',
          'io.containerd.runtime.v1.linux',
          'io.containerd.internal.v1.tracing',
          'io.containerd.tracing.processor.v1.otlp',
        ]
          .map((p) => JSON.stringify(p))
          .join(', ') +
        ']',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(socket + '.ttrpc')}`,
      '[debug]',
      '  address = ""',
      '[metrics]',
      '  address = ""',
      '',
    ].join('\n'),
  );

  const proc = spawn(tools.containerd, ['--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(join(dir, 'containerd.log'));
  proc.stdout.pipe(log);
  proc.stderr.pipe(log);
  let tail = '';
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`containerd did not boot within 20 s:\n${tail}`)), 20_000);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`containerd exited (${code ?? signal}) before it booted:\n${tail}`));
      });
      onLines(proc.stderr, (line) => {
        tail = (tail + line + '\n').slice(-4000);
        if (line.includes('containerd successfully booted')) {
          clearTimeout(timer);
          ready();
        }
      });
    });
  } catch (err) {
    await stopProcess(proc, 2_000);
    throw err;
  }

  const ctr = (args: string[], redact: string[] = []) => runTool(tools.ctr, ['--address', socket, '--namespace', NAMESPACE, ...args], { redact, timeoutMs: 300_000 });
  return {
    socket,
    async pull(ref, p) {
      const args = ['images', 'pull', '--hosts-dir', resolve(p.hostsDir), '--snapshotter', 'overlayfs'];
      const secret = p.user ? `${p.user.user}:${p.user.password}` : undefined;
      if (secret) args.push('--user', secret);
      if (p.plainHttp) args.push('--plain-http');
      await ctr([...args, ref], secret ? [secret, p.user!.password] : []);
      // `images ls` columns: REF TYPE DIGEST SIZE PLATFORMS LABELS.
      const listed = (await ctr(['images', 'ls'])).split('\n').map((l) => l.trim().split(/\s+/));
      const digest = listed.find((cols) => cols[0] === ref)?.[2];
      if (!digest) throw new Error(`ctr pulled ${ref} but images ls does not list it`);
      return digest;
    },
    async contentDigests() {
      return new Set((await ctr(['content', 'ls', '--quiet'])).split('\n').map((l) => l.trim()).filter(Boolean));
    },
    async stop() {
      await stopProcess(proc, 10_000);
      await new Promise<void>((r) => log.end(r));
    },
  };
}
