import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

/**
 * Global setup of the integration and e2e projects: makes sure a real PostgreSQL and a real
 * Kafka are up (installing and starting them on a fresh machine via infra/dev/up.sh) and hands
 * their settings to the tests as environment variables. Settings already in the environment
 * (DAMSELFLY_DATABASE_URL, DAMSELFLY_KAFKA_BROKERS) win: up.sh then only checks them.
 * Services this run started are stopped again at teardown; ones it found running are left.
 */
const upScript = fileURLToPath(new URL('../../infra/dev/up.sh', import.meta.url));
const downScript = fileURLToPath(new URL('../../infra/dev/down.sh', import.meta.url));

export default function setup(project: TestProject) {
  const out = execFileSync('bash', [upScript], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_500_000 });
  for (const line of out.split('\n')) {
    const m = /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) {
      process.env[m[1]!] = m[2]!;
      project.provide(m[1] as never, m[2] as never);
    }
  }
  return () => {
    if (process.env.DAMSELFLY_KEEP_SERVICES === '1') return;
    execFileSync('bash', [downScript], { stdio: 'inherit', timeout: 120_000 });
  };
}
