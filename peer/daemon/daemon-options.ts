import { z } from 'zod';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HostPort } from '../../core/wire/fields.ts';
import { durationOption, integerOption, sizeOption } from '../../edge/cli/parse-options.ts';

const fraction = z.coerce.number().gt(0).lt(1);
const port = integerOption.min(0).max(65535);

/** `damselfly daemon` options as commander hands them over, validated once into typed values. */
export const DaemonFlags = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(65001),
    uploadHost: z.string().min(1).optional(),
    uploadPort: port.default(65002),
    advertiseHost: z.string().min(1).optional(),
    dataDir: z.string().min(1).default(join(homedir(), '.cache', 'damselfly', 'daemon')),
    node: z.string().transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean)).pipe(z.array(HostPort).min(1, 'at least one supernode host:port')),
    registry: z.string().url('a URL with its scheme, e.g. https://registry-1.docker.io').refine((u) => /^https?:/i.test(u), 'http or https').optional(),
    insecureRegistry: z.array(z.string().min(1)).default([]),
    uploadLimit: sizeOption.optional(),
    downloadLimit: sizeOption.optional(),
    gcHigh: fraction.default(0.85),
    gcLow: fraction.default(0.7),
    cacheTtl: durationOption.default(6 * 3600_000),
    gcInterval: durationOption.default(60_000),
    config: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .refine((o) => o.gcLow < o.gcHigh, { message: 'must be below --gc-high', path: ['gcLow'] });
export type DaemonFlags = z.infer<typeof DaemonFlags>;
