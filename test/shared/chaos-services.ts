import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A PostgreSQL and a Kafka broker of the chaos suite's own, which its scenarios stop and
 * restart: the shared ones on 55432/59092 serve every other test file and must never go down.
 *
 * They are the same infra/dev scripts with another DAMSELFLY_DEV_DIR (`<dev dir>/chaos`: its own
 * data, pid and state files, and locks) and other ports, sharing only the Kafka jar cache of
 * the main dev dir (DAMSELFLY_KAFKA_LIBS_DIR), so nothing is downloaded twice. On a fresh
 * machine the scripts install what is missing exactly as for the shared services. A cold start
 * takes a few seconds (initdb once, then a JVM); a restart of either takes about as long.
 *
 * The ports are below Linux's ephemeral range (32768–60999 by default). Every outgoing
 * connection takes a local port from that range, and the suite makes thousands of them while
 * it restarts these services: in CI a restarted broker once failed twice with "failed to bind
 * to 127.0.0.1:60092: Address already in use" — some client socket held that port as its own.
 *
 * Knobs: DAMSELFLY_CHAOS_PG_PORT (27432), DAMSELFLY_CHAOS_KAFKA_PORT (27092),
 * DAMSELFLY_CHAOS_KAFKA_CONTROLLER_PORT (27093), DAMSELFLY_CHAOS_KEEP_SERVICES=1 (leave them
 * running after the file, for a fast edit-run loop). Two runs on one machine share these
 * services (same dev dir and ports): do not run two chaos suites at once.
 */
export interface ChaosServices {
  /** URL of the admin database (`damselfly`); scenarios create databases of their own beside it. */
  databaseUrl: string;
  kafkaBrokers: string[];
  postgres: RestartableService;
  kafka: RestartableService;
  /** Stops both (unless DAMSELFLY_CHAOS_KEEP_SERVICES=1). */
  down(): Promise<void>;
}

export interface RestartableService {
  /** Clean stop (PostgreSQL: fast shutdown, sessions rolled back; Kafka: SIGTERM). Data is kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data; resolves once it answers. */
  start(): Promise<void>;
}

const SCRIPTS = fileURLToPath(new URL('../../infra/dev/', import.meta.url));

function scriptEnv(): NodeJS.ProcessEnv {
  const mainDir = process.env.DAMSELFLY_DEV_DIR || join(homedir() || '/root', '.cache', 'damselfly');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DAMSELFLY_DEV_DIR: join(mainDir, 'chaos'),
    DAMSELFLY_KAFKA_LIBS_DIR: join(mainDir, 'kafka-libs'),
    DAMSELFLY_PG_PORT: process.env.DAMSELFLY_CHAOS_PG_PORT || '27432',
    DAMSELFLY_KAFKA_PORT: process.env.DAMSELFLY_CHAOS_KAFKA_PORT || '27092',
    DAMSELFLY_KAFKA_CONTROLLER_PORT: process.env.DAMSELFLY_CHAOS_KAFKA_CONTROLLER_PORT || '27093',
  };
  // These point the scripts at existing (shared) services, which they would then only check.
  delete env.DAMSELFLY_DATABASE_URL;
  delete env.DAMSELFLY_KAFKA_BROKERS;
  delete env.DAMSELFLY_PG_DIR;
  return env;
}

/**
 * Runs one infra/dev script asynchronously (a scenario's origin server lives in the test
 * process and must keep serving while a broker restarts) and returns its KEY=VALUE lines.
 */
async function run(script: string): Promise<Map<string, string>> {
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile('bash', [join(SCRIPTS, script)], { env: scriptEnv(), timeout: 1_500_000, maxBuffer: 16 << 20 }, (err, out, errOut) => {
      resolve({ stdout: out, stderr: errOut, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0 });
    });
  });
  if (code !== 0) {
    const tail = stderr.trim().split('\n').slice(-15).join('\n');
    throw new Error(`infra/dev/${script} for the chaos services failed (exit ${code}):\n${tail}`);
  }
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(DAMSELFLY_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

export async function startChaosServices(): Promise<ChaosServices> {
  const settings = await run('up.sh');
  const databaseUrl = settings.get('DAMSELFLY_DATABASE_URL');
  const brokers = settings.get('DAMSELFLY_KAFKA_BROKERS');
  if (!databaseUrl || !brokers) throw new Error('infra/dev/up.sh printed no settings for the chaos services');
  return {
    databaseUrl,
    kafkaBrokers: brokers.split(','),
    postgres: { stop: async () => void (await run('postgres-down.sh')), start: async () => void (await run('postgres-up.sh')) },
    kafka: { stop: async () => void (await run('kafka-down.sh')), start: async () => void (await run('kafka-up.sh')) },
    down: async () => {
      if (process.env.DAMSELFLY_CHAOS_KEEP_SERVICES === '1') return;
      await run('down.sh');
    },
  };
}
