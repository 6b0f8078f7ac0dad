import { z } from 'zod';
import { MAX_FILE_SIZE } from '../core/pieces/index.ts';
import { DEFAULT_POLICY } from '../core/scheduling/policy.ts';
import { HostPort } from '../core/wire/fields.ts';
import { durationOption, parseOptions, sizeOption } from '../edge/cli/parse-options.ts';

/**
 * Supernode configuration: parsed once at start-up from flags and environment into typed,
 * frozen values. A bad value stops the process with one clear line naming the flag, exit code 2
 * (edge/cli/parse-options.ts).
 */

export const SupernodeConfigSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8002),
  host: z.string().default('127.0.0.1'),
  /** host:port peers use to reach this supernode's CDN; defaults to host:port. */
  advertise: HostPort.optional(),
  replicaId: z.string().min(1).max(100).regex(/^[A-Za-z0-9._-]+$/).optional(),
  databaseUrl: z.string().url().optional(),
  kafkaBrokers: z.array(HostPort).default([]),
  kafkaTopic: z.string().min(1).default('damselfly.task-events'),
  dataDir: z.string().min(1).default('.damselfly/supernode'),
  token: z.string().min(1).optional(),
  /** Cap on the CDN's upload to peers, bytes/s (the benchmark's --origin-upload). */
  cdnUploadRate: z.number().int().positive().optional(),
  allowPrivateOrigins: z.boolean().default(false),
  /** Where peers are reached: the join's source IP with the declared port, or the declared host:port (NAT, proxies). */
  peerAddress: z.enum(['from-request', 'declared']).default('from-request'),
  /** Largest origin file a task may have, bytes: at most core's MAX_FILE_SIZE (1 TiB), the default. */
  maxFileSize: z.number().int().positive().max(MAX_FILE_SIZE, 'at most 1TiB (65536 pieces of 16MiB)').default(MAX_FILE_SIZE),
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
      parentsPerPeer: z.number().int().min(1).max(32).default(DEFAULT_POLICY.parentsPerPeer),
      maxChildren: z.number().int().positive().default(DEFAULT_POLICY.maxChildren),
      cdnChildren: z.number().int().positive().default(DEFAULT_POLICY.cdnChildren),
      syncIntervalMs: z.number().int().positive().default(DEFAULT_POLICY.syncIntervalMs),
      syncsPerSecond: z.number().int().positive().default(DEFAULT_POLICY.syncsPerSecond),
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
  peerAddress?: string;
  maxFileSize?: string;
  snapshotEvery?: string;
  shards?: string;
  leaseTtl?: string;
  logLevel?: string;
}

/** The flags that are sizes or durations, read before the rest. */
const UnitFlags = z.object({
  cdnUploadRate: sizeOption.optional(),
  cdnMaxBytes: sizeOption.optional(),
  cdnMaxAge: durationOption.optional(),
  leaseTtl: durationOption.optional(),
  maxFileSize: sizeOption.optional(),
});

/** Config fields that are not named after their flag. */
const FLAG_NAMES = { cdnMaxAgeMs: '--cdn-max-age', leaseTtlMs: '--lease-ttl', token: 'DAMSELFLY_TOKEN' };

export function parseSupernodeConfig(flags: SupernodeFlags, env: NodeJS.ProcessEnv = process.env): SupernodeConfig {
  const brokers = flags.kafkaBrokers ?? env.DAMSELFLY_KAFKA_BROKERS;
  const units = parseOptions(UnitFlags, { cdnUploadRate: flags.cdnUploadRate, cdnMaxBytes: flags.cdnMaxBytes, cdnMaxAge: flags.cdnMaxAge, leaseTtl: flags.leaseTtl, maxFileSize: flags.maxFileSize }, 'supernode');
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
    cdnUploadRate: units.cdnUploadRate,
    cdnMaxBytes: units.cdnMaxBytes,
    cdnMaxAgeMs: units.cdnMaxAge,
    allowPrivateOrigins: flags.allowPrivateOrigins,
    peerAddress: flags.peerAddress,
    maxFileSize: units.maxFileSize,
    snapshotEvery: flags.snapshotEvery === undefined ? undefined : Number(flags.snapshotEvery),
    shards: flags.shards === undefined ? undefined : Number(flags.shards),
    leaseTtlMs: units.leaseTtl,
    logLevel: flags.logLevel ?? env.DAMSELFLY_LOG_LEVEL,
  };
  return Object.freeze(parseOptions(SupernodeConfigSchema, raw, 'supernode', FLAG_NAMES));
}
