import type { ServerResponse } from 'node:http';
import { problemHeaders, problemOfError } from '../../../edge/http/problem.ts';

/**
 * The mirror's own refusals (a bad name, a method that is not a pull, no upstream configured,
 * the swarm failing) as Damselfly's problem+json with one extension member: `errors`, in the
 * distribution spec's error format. containerd and containers/image decode `errors` from any
 * error body whatever its media type and show its message; a problem alone would reach the user
 * as a bare "unexpected status code". Errors that come from the registry never go through
 * here: they pass through unchanged.
 */
export type RegistryErrorCode = 'NAME_INVALID' | 'TAG_INVALID' | 'DIGEST_INVALID' | 'NOT_FOUND' | 'UNSUPPORTED' | 'UNAVAILABLE' | 'UNKNOWN';

export function sendRegistryProblem(res: ServerResponse, err: unknown, registryCode?: RegistryErrorCode, headers: Record<string, string> = {}): void {
  const problem = problemOfError(err);
  const code = registryCode ?? (problem.status === 405 ? 'UNSUPPORTED' : problem.status === 503 ? 'UNAVAILABLE' : 'UNKNOWN');
  const body = JSON.stringify({ ...problem, errors: [{ code, message: problem.detail ?? problem.title }] });
  // For a HEAD, node:http sends the headers and drops the body.
  res.writeHead(problem.status, { ...headers, ...problemHeaders(problem), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
