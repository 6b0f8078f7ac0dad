import { z } from 'zod';
import { parseSize } from '../../core/units/parse-size.ts';
import { parseDuration } from '../../core/units/parse-duration.ts';

/** Runs a parser that throws (core/units) inside a zod transform: its message becomes the issue. */
function attempt<T>(parse: () => T, ctx: z.RefinementCtx): T {
  try {
    return parse();
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
}

function parsed<T>(parse: (s: string) => T) {
  return z.string().transform((s, ctx) => attempt(() => parse(s), ctx));
}

const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port');
const size = parsed(parseSize);

/** `damselfly get` options as commander hands them over, validated once into typed values. */
export const GetOptions = z.object({
  url: z.string().url('the URL must be absolute (http:// or https://)').refine((u) => /^https?:/i.test(u), 'only http and https URLs'),
  output: z.string().min(1, '-o FILE is required'),
  node: z.string().transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean)).pipe(z.array(hostPort).min(1, 'at least one supernode host:port')),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits>').optional(),
  header: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s*.*$/, "expected 'Name: value'")).default([]),
  filter: z.string().optional().transform((s) => (s ? s.split('&').map((f) => f.trim()).filter(Boolean) : [])),
  identifier: z.string().max(500).optional(),
  totalLimit: size.optional(),
  uploadLimit: size.optional(),
  backSource: z.boolean().default(true),
  json: z.boolean().default(false),
  /** Absent: stop serving at once; a duration: serve that long; bare --linger: until SIGINT/SIGTERM. */
  linger: z
    .union([z.literal(true), z.string()])
    .optional()
    .transform((v, ctx) => (typeof v === 'string' ? attempt(() => parseDuration(v), ctx) : v)),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  waitForGo: z.boolean().default(false),
  lingerUntilEof: z.boolean().default(false),
  connectTimeout: z.coerce.number().int().positive().optional(),
  parallelism: z.coerce.number().int().min(1).max(64).optional(),
  /** TEST ONLY (hidden): make this peer's uploader lie, for the e2e test of a corrupt source. */
  testCorruptUploads: z
    .string()
    .regex(/^(all|\d+(,\d+)*)$/, "expected 'all' or a list of piece numbers such as 0,3,7")
    .transform((s) => (s === 'all' ? ('all' as const) : new Set(s.split(',').map(Number))))
    .optional(),
  /** TEST ONLY (hidden): append every report the supernode acknowledged to this file, for the chaos suite's checker. */
  ackLog: z.string().min(1).optional(),
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
