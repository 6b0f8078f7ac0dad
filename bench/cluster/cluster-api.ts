import type { z } from 'zod';
import { TaskOwner } from '../../supernode/http/routes/cluster-routes.ts';

// The cluster API's own schemas (the routes serialise with them): a change of shape fails here
// with a clear message instead of a wrong verdict.
export { ClusterView, TaskOwner } from '../../supernode/http/routes/cluster-routes.ts';

/** One GET with the token and a short timeout: a paused replica must not hang the caller. */
export async function getJson<T>(url: string, schema: z.ZodType<T>, token: string, timeoutMs = 3000): Promise<T> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}: ${text.slice(0, 300)}`);
  const parsed = schema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`GET ${url}: unexpected body (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}): ${text.slice(0, 300)}`);
  return parsed.data;
}

/** The task's owner as the first replica that answers tells it (GET /api/v1/cluster/tasks/:id). */
export async function ownerOf(replicas: readonly { id: string; base: string }[], taskId: string, token: string): Promise<TaskOwner> {
  const errors: string[] = [];
  for (const r of replicas) {
    try {
      return await getJson(`${r.base}/api/v1/cluster/tasks/${taskId}`, TaskOwner, token);
    } catch (err) {
      errors.push(`${r.id}: ${(err as Error).message}`); // this replica does not answer (one just killed): ask the next
    }
  }
  throw new Error(`no replica told the owner of ${taskId}: ${errors.join('; ') || 'none answering'}`);
}
