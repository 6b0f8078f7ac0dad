import { z } from 'zod';
import { HostPort, Sha256Digest } from '../../core/wire/fields.ts';
import { integerOption, sizeOption, tryParse } from '../../edge/cli/parse-options.ts';
import { parseDuration } from '../../edge/units/parse-duration.ts';

/** `damselfly get` options as commander hands them over, validated once into typed values. */
export const GetOptions = z.object({
  url: z.string().url('the URL must be absolute (http:// or https://)').refine((u) => /^https?:/i.test(u), 'only http and https URLs'),
  output: z.string().min(1, '-o FILE is required'),
  node: z.string().transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean)).pipe(z.array(HostPort).min(1, 'at least one supernode host:port')),
  digest: Sha256Digest.optional(),
  header: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s*.*$/, "expected 'Name: value'")).default([]),
  filter: z.string().optional().transform((s) => (s ? s.split('&').map((f) => f.trim()).filter(Boolean) : [])),
  identifier: z.string().max(500).optional(),
  totalLimit: sizeOption.optional(),
  uploadLimit: sizeOption.optional(),
  backSource: z.boolean().default(true),
  json: z.boolean().default(false),
  /** Absent: stop serving at once; a duration: serve that long; bare --linger: until SIGINT/SIGTERM. */
  linger: z
    .union([z.literal(true), z.string()])
    .optional()
    .transform((v, ctx) => (typeof v === 'string' ? tryParse(parseDuration, v, ctx) : v)),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  connectTimeout: integerOption.positive().optional(),
  parallelism: integerOption.min(1).max(64).optional(),
  protocol: z.enum(['rounds', 'sync']).default('rounds'),
});
export type GetOptions = z.infer<typeof GetOptions>;

/** 'Name: value' strings → a header record (names lower-cased; a repeated name keeps the last value). */
export function headerRecord(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}
