import { DamselflyError, isDamselflyError } from '../../core/errors.ts';
import { sqlState } from './sql-client.ts';

/**
 * How long a client is told to wait (Retry-After) when the database cannot be reached. A
 * PostgreSQL restart or fail-over takes seconds; one second keeps peers polling gently without
 * leaving them idle long after it is back.
 */
export const STORE_RETRY_AFTER_MS = 1_000;

// SQLSTATEs that mean "this connection or server is going away or not there yet", not "this
// statement is wrong": class 08 (connection exception), admin/crash shutdown (57P01, 57P02),
// cannot_connect_now (57P03, starting up or in recovery), idle_session_timeout (57P05), and
// too_many_connections (53300), which clears as soon as other sessions leave.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300']);

// Socket errors of a connection that failed or broke (node's `code` on system errors).
const SOCKET_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND',
]);

// node-postgres reports a lost or never-made connection with plain Errors and no code.
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout)/;

/**
 * True if `err` (or its cause) says the database could not be reached or the connection broke,
 * i.e. the same request may succeed unchanged once the database is back. Errors the statement
 * itself caused (constraint violations, syntax) are not.
 */
export function isConnectionLoss(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (isDamselflyError(e)) return e.code === 'DF_ERR_UNAVAILABLE';
    const state = sqlState(e);
    if (state !== undefined && (state.startsWith('08') || UNAVAILABLE_STATES.has(state) || SOCKET_CODES.has(state))) return true;
    if (PG_CONNECTION_MESSAGES.test(String((e as { message?: unknown }).message ?? ''))) return true;
  }
  return false;
}

/**
 * `err` as DF_ERR_UNAVAILABLE (503, retryable, Retry-After) if it is a connection loss, else
 * unchanged. The detail names the failure's code but not the database's address (it reaches
 * peers in problem+json); the original error stays the cause, for the log.
 *
 * A statement whose connection broke after it was sent may have committed: callers must treat
 * this error as "outcome unknown", never as "nothing was written" (an append retried on it
 * then meets VersionConflict if it had committed).
 */
export function asStoreError(err: unknown): unknown {
  if (isDamselflyError(err) || !isConnectionLoss(err)) return err;
  const code = sqlState(err);
  const what = code ?? String((err as { message?: unknown }).message ?? 'connection lost').split('\n')[0]!.slice(0, 80);
  return new DamselflyError('DF_ERR_UNAVAILABLE', `the event store's database is unavailable (${what})`, { cause: err, retryAfterMs: STORE_RETRY_AFTER_MS });
}

/** True if the store failed because its database is unavailable (asStoreError's output). */
export function isStoreUnavailable(err: unknown): err is DamselflyError {
  return isDamselflyError(err, 'DF_ERR_UNAVAILABLE');
}
