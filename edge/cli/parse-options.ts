import { z } from 'zod';
import { usageError, type DamselflyError } from '../../core/errors.ts';
import { parseDuration } from '../units/parse-duration.ts';
import { parseSize } from '../units/parse-size.ts';

/**
 * Command-line options through a zod schema, once, into typed values: every command's flags
 * (get, supernode, replay, bench …) go through here, so a usage mistake is always one line
 * naming the command and the flag, and exit code 2 (DF_ERR_USAGE).
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, command: string, names: Record<string, string> = {}): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw usageError(`${command}: ${flagName(issue.path, names)}: ${issue.message}`);
}

/**
 * The flag a zod issue path points at: `totalLimit` → `--total-limit`, the positional `url` →
 * `URL`; `names` says it where the field is not named after its flag (`leaseTtlMs` → `--lease-ttl`).
 */
function flagName(path: PropertyKey[], names: Record<string, string>): string {
  const field = String(path[0] ?? 'url');
  const rest = path.length > 1 ? `[${path.slice(1).join('.')}]` : '';
  if (names[field]) return names[field] + rest;
  if (field === 'url') return 'URL';
  return `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${rest}`;
}

/** Runs a parser that throws (edge/units) inside a zod transform: its message becomes the issue. */
export function tryParse<T>(parse: (text: string) => T, text: string, ctx: z.RefinementCtx): T {
  try {
    return parse(text);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as DamselflyError).detail ?? (e as Error).message });
    return z.NEVER;
  }
}

function parsedBy<T>(parse: (text: string) => T) {
  return z.string().transform((text, ctx) => tryParse(parse, text, ctx));
}

/** A size or rate flag ("64MiB", "2MiB" a second): bytes. */
export const sizeOption = parsedBy(parseSize);
/** A duration flag ("500ms", "2s", "1m30s"): milliseconds. */
export const durationOption = parsedBy(parseDuration);
/** A whole-number flag as commander hands it over (a string). */
export const integerOption = z.coerce.number().int();
