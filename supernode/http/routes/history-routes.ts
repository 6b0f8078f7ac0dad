import { TaskParams } from '../../../core/wire/fields.ts';
import { pieceProvenance, servedBySource, timeline } from '../../../core/history/index.ts';
import { DamselflyError } from '../../../core/errors.ts';
import type { EventStore } from '../../store/event-store.ts';
import type { App } from '../server.ts';


/**
 * Provenance: the task's timeline and, per piece, which peer got it from which source, when,
 * and whether verification passed — read from the stored events alone, never the live state.
 */
export function registerHistoryRoutes(app: App, store: EventStore): void {
  app.get('/api/v1/tasks/:taskId/history', {
    schema: { summary: 'Event timeline and piece provenance of a task', security: [{ bearer: [] }], params: TaskParams },
  }, async (req) => {
    const events = await store.readStream(req.params.taskId);
    if (events.length === 0) throw new DamselflyError('DF_ERR_NOT_FOUND', `unknown task ${req.params.taskId}`);
    const transfers = pieceProvenance(events);
    return { taskId: req.params.taskId, events: timeline(events), pieces: transfers, servedBySource: servedBySource(transfers) };
  });
}
