import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import type { TestProject } from 'vitest/node';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Global setup of the integration and e2e projects: makes sure a real PostgreSQL and a real
 * Kafka are up (installing and starting them on a fresh machine via infra/dev/up.sh) and hands
 * their settings to the tests as environment variables. Settings already in the environment
 * (DAMSELFLY_DATABASE_URL, DAMSELFLY_KAFKA_BROKERS) win: up.sh then only checks them.
 * Services this run started are stopped again at teardown; ones it found running are left.
 */
const upScript = fileURLToPath(new URL('../../infra/dev/up.sh', import.meta.url));
const downScript = fileURLToPath(new URL('../../infra/dev/down.sh', import.meta.url));

export default async function setup(project: TestProject) {
  // Services that were already running when the run began (a developer's, another run's) are
  // left running at teardown; only a run that had to start them stops them again.
  const alreadyUp = (await portOpen(Number(process.env.DAMSELFLY_PG_PORT ?? 55432))) && (await portOpen(Number(process.env.DAMSELFLY_KAFKA_PORT ?? 59092)));
  const out = execFileSync('bash', [upScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_500_000 });
  for (const line of out.split('\n')) {
    const m = /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) {
      process.env[m[1]!] = m[2]!;
      project.provide(m[1] as never, m[2] as never);
    }
  }
  return () => {
    if (alreadyUp || process.env.DAMSELFLY_KEEP_SERVICES === '1') return;
    execFileSync('bash', [downScript], { stdio: 'inherit', timeout: 120_000 });
  };
}
