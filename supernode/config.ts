import { z } from 'zod';
import { DEFAULT_POLICY } from '../core/scheduling/policy.ts';
import { parseSize } from '../core/units/parse-size.ts';
import { parseDuration } from '../core/units/parse-duration.ts';

/**
 * Supernode configuration: parsed once at start-up from flags and environment into typed,
 * frozen values. A bad value stops the process with one clear line (see bin/cli.ts).
 */
const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port');

export const SupernodeConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8002),
  host: z.string().default('127.0.0.1'),
  /** host:port peers use to reach this supernode's CDN; defaults to host:port. */
  advertise: hostPort.optional(),
  replicaId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/).optional(),
  databaseUrl: z.string().url().optional(),
  kafkaBrokers: z.array(hostPort).default([]),
  kafkaTopic: z.string().min(1).default('damselfly.task-events'),
  dataDir: z.string().min(1).default('.damselfly/supernode'),
  token: z.string().min(1).optional(),
  /** Cap on the CDN's upload to peers, bytes/s (the benchmark's --origin-upload). */
  cdnUploadRate: z.number().int().positive().optional(),
  allowPrivateOrigins: z.boolean().default(false),
  /** CDN disk quota, bytes: beyond it the least recently used tasks are collected. */
  cdnMaxBytes: z.number().int().positive().optional(),
  /** CDN tasks unused this long are collected, ms. */
  cdnMaxAgeMs: z.number().int().positive().optional(),
  snapshotEvery: z.number().int().positive().default(200),
  /** Virtual shards (core/cluster/shard-of.ts): fixed for a cluster's data, the same on every replica. */
  shards: z.number().int().min(1).max(4096).default(64),
  /** Shard lease TTL, ms; renewed every third of it (docs/operations.md, "Running a cluster"). */
  leaseTtlMs: z.number().int().min(300).max(600_000).default(2000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  policy: z
    .object({
      maxAssignmentsPerRound: z.number().int().positive(),
      peerUploadSlots: z.number().int().positive(),
      cdnUploadSlots: z.number().int().positive(),
      pieceTimeoutMs: z.number().int().positive(),
      quarantineAfterFailures: z.number().int().positive(),
      peerExpiryMs: z.number().int().positive(),
      waitRetryMs: z.number().int().positive(),
    })
    .default({ ...DEFAULT_POLICY }),
});
export type SupernodeConfig = Readonly<z.infer<typeof SupernodeConfigSchema>>;

/** Raw CLI flags as commander hands them over (strings), merged with the environment. */
export interface SupernodeFlags {
  port?: string;
  host?: string;
  advertise?: string;
  replicaId?: string;
  databaseUrl?: string;
  kafkaBrokers?: string;
  kafkaTopic?: string;
  dataDir?: string;
  cdnUploadRate?: string;
  cdnMaxBytes?: string;
  cdnMaxAge?: string;
  allowPrivateOrigins?: boolean;
  snapshotEvery?: string;
  shards?: string;
  leaseTtl?: string;
  logLevel?: string;
}

export function parseSupernodeConfig(flags: SupernodeFlags, env: NodeJS.ProcessEnv = process.env): SupernodeConfig {
  const brokers = flags.kafkaBrokers ?? env.DAMSELFLY_KAFKA_BROKERS;
  const raw = {
    port: flags.port,
    host: flags.host,
    advertise: flags.advertise,
    replicaId: flags.replicaId,
    databaseUrl: flags.databaseUrl ?? (env.DAMSELFLY_DATABASE_URL || undefined),
    kafkaBrokers: brokers ? brokers.split(',').map((b) => b.trim()).filter(Boolean) : undefined,
    kafkaTopic: flags.kafkaTopic,
    dataDir: flags.dataDir,
    token: env.DAMSELFLY_TOKEN || undefined,
    cdnUploadRate: flags.cdnUploadRate ? parseSize(flags.cdnUploadRate) : undefined,
    cdnMaxBytes: flags.cdnMaxBytes ? parseSize(flags.cdnMaxBytes) : undefined,
    cdnMaxAgeMs: flags.cdnMaxAge ? parseDuration(flags.cdnMaxAge) : undefined,
    allowPrivateOrigins: flags.allowPrivateOrigins,
    snapshotEvery: flags.snapshotEvery === undefined ? undefined : Number(flags.snapshotEvery),
    shards: flags.shards === undefined ? undefined : Number(flags.shards),
    leaseTtlMs: flags.leaseTtl ? parseDuration(flags.leaseTtl) : undefined,
    logLevel: flags.logLevel ?? env.DAMSELFLY_LOG_LEVEL,
  };
  const parsed = SupernodeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0]!;
    throw Object.assign(new Error(`invalid supernode option ${first.path.join('.')}: ${first.message}`), { exitCode: 2 });
  }
  return Object.freeze(parsed.data);
}
