import { z } from 'zod';
import { isHostPort } from './host-port.ts';

/**
 * The fields every edge validates the same way: the API's params and bodies, the piece path,
 * CLI flags and configuration. They live in core/ (pure zod) rather than in edge/ because the
 * events and the wire contract validate with them too, and core/ imports nothing outside it.
 */

/** 64 lowercase hex digits: a sha256 in hex (a task id, a piece digest). */
export const SHA256_HEX = /^[0-9a-f]{64}$/;

export const Sha256Hex = z.string().regex(SHA256_HEX, 'expected 64 lowercase hex digits');

/** A task id (core/ids/task-id.ts computes it). */
export const TaskId = z.string().regex(SHA256_HEX, 'a task id is 64 hex digits');

/** `sha256:<hex>`, as --digest and RegisterTaskRequest.digest take a whole file's digest. */
export const Sha256Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits>');

/**
 * host:port as a client can dial it: a hostname (letters, digits, '-' and '_' in dot-separated
 * labels of at most 63), an IPv4 address (four decimal octets, no leading zeros) or a bracketed
 * IPv6 address that parses, then a port 1-65535. The pattern is what the OpenAPI document
 * states; the refinement is the parse (`[[[:::99999` fits the pattern and fails it).
 */
export const HostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'expected host:port')
  .refine(isHostPort, 'expected host:port: a hostname, an IPv4 address or a bracketed IPv6 address, and a port 1-65535');

/**
 * Text that may reach an event: no NUL and well-formed UTF-16. PostgreSQL refuses both U+0000
 * and an unpaired surrogate (it has no UTF-8 form) in text and jsonb, so such a string would
 * pass the edge and fail the append as a 500. A pattern rather than a refinement, so that the
 * OpenAPI document states the rule too (JavaScript and JSON Schema read it the same way).
 */
// eslint-disable-next-line no-control-regex -- U+0000 is exactly what this refuses
export const WELL_FORMED_TEXT = /^(?:[^\u0000\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** A string field of at most `max` UTF-16 code units, without NUL or an unpaired surrogate. */
export function text(max: number) {
  return z.string().max(max).regex(WELL_FORMED_TEXT, 'must not contain NUL (U+0000) or an unpaired UTF-16 surrogate');
}

/**
 * Free text the product writes itself (an origin's error excerpt in a failure reason) made
 * storable: NULs dropped, unpaired surrogates replaced by U+FFFD, cut to `max` code units
 * without splitting a pair.
 */
export function storableText(value: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- U+0000 is exactly what this removes
  let out = value.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (out.length > max) out = out.slice(0, /[\uD800-\uDBFF]/.test(out[max - 1] ?? '') ? max - 1 : max);
  return out;
}

/** TaskId as route params, for every /api/v1/tasks/:taskId route. */
export const TaskParams = z.object({ taskId: TaskId });
