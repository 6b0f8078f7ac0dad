import type { ServerResponse } from 'node:http';
import { ErrorCodes, type ErrorCode } from '../../core/errors.ts';

/** The uploader's errors, rendered as the supernode renders its own: RFC 9457 problem+json. */
export function sendProblem(res: ServerResponse, code: ErrorCode, detail: string, headers: Record<string, string> = {}): void {
  const { status, title } = ErrorCodes[code];
  const body = JSON.stringify({ type: `urn:damselfly:error:${code}`, title, status, code, detail });
  res.writeHead(status, { ...headers, 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
