import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ServiceSettings {
  databaseUrl: string;
  kafkaBrokers: string[];
}

const UP_SCRIPT = fileURLToPath(new URL('../infra/dev/up.sh', import.meta.url));

/**
 * The PostgreSQL and Kafka the benchmark measures, found exactly as the tests find them: run
 * infra/dev/up.sh (idempotent: it reuses running services, or installs and starts them on a
 * fresh machine) and read its KEY=VALUE stdout lines. DAMSELFLY_DATABASE_URL and
 * DAMSELFLY_KAFKA_BROKERS win: up.sh then only checks that they answer.
 * Failure is one line (the script's last ERROR line), since the script's stderr is long.
 */
export async function ensureLocalServices(): Promise<ServiceSettings> {
  const { stdout, stderr, code } = await runScript(UP_SCRIPT);
  if (code !== 0) {
    const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
    const reason = lines.filter((l) => l.includes('ERROR')).at(-1) ?? lines.at(-1) ?? `exit code ${code}`;
    throw new Error(`local services unavailable (infra/dev/up.sh): ${reason.replace(/^\[damselfly-dev\] /, '')}`);
  }
  const settings = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) settings.set(m[1]!, m[2]!);
  }
  const databaseUrl = process.env.DAMSELFLY_DATABASE_URL || settings.get('DAMSELFLY_DATABASE_URL');
  const brokers = process.env.DAMSELFLY_KAFKA_BROKERS || settings.get('DAMSELFLY_KAFKA_BROKERS');
  if (!databaseUrl || !brokers) throw new Error('infra/dev/up.sh printed no DAMSELFLY_DATABASE_URL / DAMSELFLY_KAFKA_BROKERS');
  return { databaseUrl, kafkaBrokers: brokers.split(',').map((b) => b.trim()).filter(Boolean) };
}

function runScript(path: string): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    // A cold start installs PostgreSQL and fetches Kafka's jars: allow it the time the tests do.
    execFile('bash', [path], { timeout: 1_500_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ stdout, stderr, code });
    });
  });
}
