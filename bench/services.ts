import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The local PostgreSQL and Kafka for benchmarks, brought up exactly as the tests do
 * (infra/dev/up.sh: install if missing, reuse if running; the environment's settings win).
 */
export async function ensureServices(): Promise<{ databaseUrl: string; kafkaBrokers: string }> {
  const script = fileURLToPath(new URL('../infra/dev/up.sh', import.meta.url));
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const settings = Object.fromEntries(
    out.split('\n').map((l) => /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(l.trim())).filter((m) => m !== null).map((m) => [m![1], m![2]]),
  );
  const databaseUrl = settings.DAMSELFLY_DATABASE_URL;
  const kafkaBrokers = settings.DAMSELFLY_KAFKA_BROKERS;
  if (!databaseUrl || !kafkaBrokers) throw new Error('infra/dev/up.sh did not print DAMSELFLY_DATABASE_URL and DAMSELFLY_KAFKA_BROKERS');
  return { databaseUrl, kafkaBrokers };
}
