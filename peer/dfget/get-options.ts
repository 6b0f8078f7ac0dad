import { z } from 'zod';
import { parseSize } from '../../core/units/parse-size.ts';

const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port');
const size = z.string().transform((s, ctx) => {
  try {
    return parseSize(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

/** `damselfly get` options as commander hands them over, validated once into typed values. */
export const GetOptions = z.object({
  url: z.string().url('the URL must be absolute (http:// or https://)').refine((u) => /^https?:/i.test(u), 'only http and https URLs'),
  output: z.string().min(1, '-o FILE is required'),
  node: z.string().transform((s) => s.split(',').map((n) => n.trim()).filter(Boolean)).pipe(z.array(hostPort).min(1)),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 hex digits>').optional(),
  header: z.array(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+:\s*.*$/, "expected 'Name: value'")).default([]),
  filter: z.string().optional().transform((s) => (s ? s.split('&').map((f) => f.trim()).filter(Boolean) : [])),
  identifier: z.string().max(500).optional(),
  totalLimit: size.optional(),
  uploadLimit: size.optional(),
  backSource: z.boolean().default(true),
  json: z.boolean().default(false),
  linger: z.coerce.number().int().min(0).default(0),
  waitForGo: z.boolean().default(false),
  lingerUntilEof: z.boolean().default(false),
  connectTimeout: z.coerce.number().int().positive().optional(),
  parallelism: z.coerce.number().int().min(1).max(64).optional(),
  /** TEST ONLY (hidden): make this peer's uploader lie, for the e2e test of a corrupt source. */
  testCorruptUploads: z
    .string()
    .regex(/^(all|\d+(,\d+)*)$/, "expected 'all' or a list of piece numbers such as 0,3,7")
    .transform((s) => (s === 'all' ? 'all' as const : new Set(s.split(',').map(Number))))
    .optional(),
});
export type GetOptions = z.infer<typeof GetOptions>;

/** 'Name: value' strings → a header record. */
export function headerRecord(lines: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return out;
}
