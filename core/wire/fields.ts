import { z } from 'zod';

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

/** host:port (a name, an IPv4 address or a bracketed IPv6 address, then a port). */
export const HostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/, 'expected host:port');

/** TaskId as route params, for every /api/v1/tasks/:taskId route. */
export const TaskParams = z.object({ taskId: TaskId });
