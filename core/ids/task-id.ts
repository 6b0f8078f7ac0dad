import { createHash } from 'node:crypto';
import { normaliseUrl } from './normalise-url.ts';
import { SHA256_HEX } from '../wire/fields.ts';

export interface TaskIdInput {
  url: string;
  /** Query parameter names left out of the id (see normaliseUrl). */
  filter?: readonly string[];
  /** Expected digest, e.g. "sha256:<hex>"; takes precedence over the identifier. */
  digest?: string | null;
  /** Caller-chosen identity of the content when there is no digest. */
  identifier?: string | null;
  /** HTTP Range of a partial download, e.g. "bytes=0-1023". */
  range?: string | null;
  /**
   * With a digest: the id comes from the content alone, not the URL, so the same bytes named by
   * different URLs (an image layer through any tag, repository or registry) are one task.
   */
  contentAddressed?: boolean | null;
}

/**
 * The task id: sha256 (hex) over the normalised URL, the digest or else the identifier, and the
 * range — or, content-addressed, over the digest and the range alone. Fields are tagged and NUL-separated so that no two different inputs hash the same text.
 * Headers are never part of the id: two users with different credentials share one task.
 */
export function computeTaskId(input: TaskIdInput): string {
  const range = input.range ? `r:${input.range}` : '';
  // The URL is still parsed: a task needs a fetchable origin either way.
  const url = normaliseUrl(input.url, input.filter ?? []);
  if (input.contentAddressed && input.digest) return createHash('sha256').update(`c:${input.digest}\0${range}`).digest('hex');
  const content = input.digest ? `d:${input.digest}` : input.identifier ? `i:${input.identifier}` : '';
  return createHash('sha256').update(`u:${url}\0${content}\0${range}`).digest('hex');
}

export function isTaskId(value: string): boolean {
  return SHA256_HEX.test(value);
}
