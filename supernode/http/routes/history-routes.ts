import { z } from 'zod';
import { TaskParams } from '../../../core/wire/fields.ts';
import { pieceProvenance, servedBySource, timeline } from '../../../core/history/index.ts';
import { DamselflyError } from '../../../core/errors.ts';
import type { EventStore } from '../../store/event-store.ts';
import { problemResponses } from '../../../edge/http/problem-responses.ts';
import type { App } from '../server.ts';

export const TaskHistory = z.object({
  taskId: z.string(),
  events: z.array(z.object({ version: z.number().int(), position: z.number().int(), at: z.number(), type: z.string(), epoch: z.number().int(), summary: z.string() })),
  pieces: z.array(z.object({
    piece: z.number().int(), peerId: z.string(), source: z.string(), at: z.number(), version: z.number().int(), verified: z.boolean(),
    reason: z.string().optional(), ms: z.number().optional(),
  })),
  servedBySource: z.record(z.string(), z.number().int()).describe('Verified pieces per source (a peer id or "cdn").'),
});
/**
 * Provenance: the task's timeline and, per piece, which peer got it from which source, when,
 * and whether verification passed — read from the stored events alone, never the live state.
 */
export function registerHistoryRoutes(app: App, store: EventStore): void {
  app.get('/api/v1/tasks/:taskId/history', {
    schema: { summary: 'Event timeline and piece provenance of a task', security: [{ bearer: [] }], params: TaskParams, response: { 200: TaskHistory, ...problemResponses(400, 401, 404, 503) } },
  }, async (req) => {
    const events = await store.readStream(req.params.taskId);
    if (events.length === 0) throw new DamselflyError('DF_ERR_NOT_FOUND', `unknown task ${req.params.taskId}`);
    const transfers = pieceProvenance(events);
    return { taskId: req.params.taskId, events: timeline(events), pieces: transfers, servedBySource: servedBySource(transfers) };
  });
}
