/**
 * The one catalogue of Damselfly error codes. Codes are stable and never reused: clients match
 * on them. Every error the product raises is a DamselflyError with one of these codes; the HTTP
 * edges render it as application/problem+json (edge/http/problem.ts: type = code, title,
 * status, detail) and the CLI's one exit point (bin/cli.ts) prints it on one line and exits
 * with its `exitCode`.
 *
 * `retryable` tells a client that the same request may succeed later unchanged (the server
 * lost a race or is temporarily without a resource), as opposed to a request that is wrong.
 * `exitCode` is 1 (the command failed) unless said otherwise; 2 is a usage mistake.
 */
export interface ErrorSpec {
  status: number;
  title: string;
  retryable?: boolean;
  exitCode?: number;
}

export const ErrorCodes = {
  // Generic edge errors.
  DF_ERR_USAGE: { status: 400, title: 'The command line is invalid', exitCode: 2 },
  DF_ERR_VALIDATION: { status: 400, title: 'The request is invalid' },
  DF_ERR_UNAUTHORIZED: { status: 401, title: 'A valid token is required' },
  DF_ERR_FORBIDDEN_ORIGIN: { status: 403, title: 'The origin address is not allowed' },
  DF_ERR_NOT_FOUND: { status: 404, title: 'No such resource' },
  DF_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  DF_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'The request body must be JSON' },
  DF_ERR_VERSION_CONFLICT: { status: 409, title: 'The stream changed concurrently', retryable: true },
  DF_ERR_STALE_EPOCH: { status: 409, title: 'This replica no longer owns the task' },
  DF_ERR_DUPLICATE_EVENT: { status: 409, title: 'An event with this id is already stored' },
  DF_ERR_INTERNAL: { status: 500, title: 'Internal error' },
  DF_ERR_MALFORMED_EVENT: { status: 500, title: 'A stored event failed validation' },
  DF_ERR_MALFORMED_SNAPSHOT: { status: 500, title: 'A stored task snapshot failed validation' },
  DF_ERR_MIGRATION_CHANGED: { status: 500, title: 'An applied migration was changed on disk' },
  DF_ERR_ORIGIN: { status: 502, title: 'The origin failed' },
  DF_ERR_ORIGIN_CHANGED: { status: 502, title: 'The origin content changed while it was being fetched' },
  DF_ERR_RANGE_NOT_SATISFIABLE: { status: 416, title: 'The requested range is not satisfiable' },
  DF_ERR_UNAVAILABLE: { status: 503, title: 'The service is temporarily unavailable', retryable: true },
  // A replica that does not (or no longer) hold the task's shard and cannot forward to its owner
  // right now (no owner yet during a takeover, or the owner is unreachable): ask again shortly.
  DF_ERR_NOT_OWNER: { status: 503, title: 'No replica owns this task right now', retryable: true },
  // A request marked as forwarded by a replica came from an address that is no live replica's:
  // its client address cannot be believed (supernode/cluster/owner-routing.ts).
  // Retryable: a replica that was paused or cut off is missing from the others' view of live
  // replicas until its next heartbeat, and the peer it forwards for must then try another one.
  DF_ERR_FORWARD_UNTRUSTED: { status: 503, title: 'A forwarded request did not come from a live replica', retryable: true },

  // Task domain errors (core/task/decide).
  DF_ERR_TASK_EXISTS: { status: 409, title: 'The task already exists' },
  DF_ERR_TASK_ID_MISMATCH: { status: 400, title: 'The task id does not match the URL, digest and range' },
  DF_ERR_TASK_NOT_READY: { status: 409, title: 'The task is not ready for this yet', retryable: true },
  DF_ERR_TASK_STATE: { status: 409, title: 'The task is not in a state that allows this' },
  DF_ERR_TASK_FAILED: { status: 409, title: 'The task has failed' },
  DF_ERR_DIGEST_CONFLICT: { status: 409, title: 'A piece was seeded with a different digest' },
  DF_ERR_PIECE_OUT_OF_RANGE: { status: 400, title: 'The piece number is out of range' },
  DF_ERR_PIECE_SIZE: { status: 400, title: 'The piece size does not match the task layout' },
  // The origin's file is above the supernode's --max-file-size (or core's ceiling, 1 TiB):
  // refused before any per-piece state is laid out (core/pieces/piece-size.ts).
  DF_ERR_FILE_TOO_LARGE: { status: 413, title: 'The file is larger than this supernode accepts' },
  DF_ERR_NO_SPACE: { status: 507, title: 'Not enough free disk space for the file' },
  DF_ERR_UNKNOWN_PEER: { status: 404, title: 'The peer is not part of this task' },
  DF_ERR_UNKNOWN_SOURCE: { status: 400, title: 'The reported source is not part of this task' },
  DF_ERR_PEER_EXISTS: { status: 409, title: 'A peer with this id already joined with another address' },
  DF_ERR_PEER_GONE: { status: 409, title: 'The peer has left or failed this task' },

  // Peer side (dfget, the uploader, the daemon).
  DF_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'The method is not allowed on this resource' },
  DF_ERR_DIGEST_MISMATCH: { status: 502, title: 'The downloaded content does not match the expected digest' },
  // SIGINT/SIGTERM ended a command (130: the shell's code for an interrupt).
  DF_ERR_INTERRUPTED: { status: 499, title: 'The command was interrupted', exitCode: 130 },
  DF_ERR_SUPERNODE_UNREACHABLE: { status: 503, title: 'No supernode answered', retryable: true },
  // A supernode answered a peer's call with a 4xx problem; the remote code is on the error.
  DF_ERR_SUPERNODE_REJECTED: { status: 502, title: 'The supernode refused the request' },
  // `damselfly daemon config … --write|--remove` (peer/daemon/config/owned-file.ts).
  DF_ERR_RUNTIME_CONFIG_IO: { status: 500, title: 'A runtime configuration file could not be read or written' },
  // The file is in a state the helper will not change on its own (a foreign file over a kept
  // backup, an existing daemon.json that is not a JSON object): the user decides.
  DF_ERR_RUNTIME_CONFIG_CONFLICT: { status: 409, title: 'A runtime configuration file is not in a state damselfly will change' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ErrorCodes;

export class DamselflyError extends Error {
  readonly status: number;
  readonly title: string;
  readonly retryable: boolean;
  /** The CLI's exit code for this error. */
  readonly exitCode: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    const spec: ErrorSpec = ErrorCodes[code];
    super(detail ? `${code}: ${detail}` : `${code}: ${spec.title}`, options);
    this.name = 'DamselflyError';
    this.status = spec.status;
    this.title = spec.title;
    this.retryable = spec.retryable ?? false;
    this.exitCode = spec.exitCode ?? 1;
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** A hint for the client (rendered as Retry-After) when the error is temporary. */
  readonly retryAfterMs?: number;
}

export function isDamselflyError(e: unknown, code?: ErrorCode): e is DamselflyError {
  return e instanceof DamselflyError && (code === undefined || e.code === code);
}

/** A usage mistake on the command line (exit code 2): `detail` names the command and the flag. */
export function usageError(detail: string): DamselflyError {
  return new DamselflyError('DF_ERR_USAGE', detail);
}
