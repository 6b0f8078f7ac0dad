import type { z } from 'zod';

/**
 * A benchmark command's flags through its zod schema: the parsed flags, or a usage error
 * (exit code 2) naming the command, the flag and what is wrong with it.
 */
export function parseFlags<S extends z.ZodType>(schema: S, raw: unknown, command: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw Object.assign(new Error(`${command}: ${issue.path.join('.')}: ${issue.message}`), { exitCode: 2 });
}
