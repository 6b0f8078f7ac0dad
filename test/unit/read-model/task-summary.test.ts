import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, type StoredEvent, type TaskEvent } from '../../../core/events/index.ts';
import { applyTaskEvent, initialTaskState, taskView, type TaskState } from '../../../core/task/index.ts';
import { emptySummary, foldSummary, listedUrl } from '../../../supernode/read-model/index.ts';
import { OPTIONS, TASK_ID } from '../core/task/fixtures.ts';
import { runScenario, scenarioArb } from '../core/task/histories.ts';

function stored(event: TaskEvent, version: number): StoredEvent {
  return { ...event, eventId: `e${version}`, schemaVersion: SCHEMA_VERSION, streamId: TASK_ID, version, position: version, epoch: 1, recordedAt: 0 } as StoredEvent;
}

describe('foldSummary', () => {
  it('shows what the task machine shows (status, pieces, seeded, peers, version) after every event of random histories', () => {
    const seenStatuses = new Set<string>();
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const summary = emptySummary(TASK_ID);
        let version = 0;
        runScenario(scenario, initialTaskState(TASK_ID), (state, event) => applyTaskEvent(state, event), OPTIONS, (state: TaskState, event) => {
          foldSummary(summary, stored(event, ++version));
          const view = taskView(state);
          seenStatuses.add(view.status);
          expect(summary.summary, `after ${event.type}`).toEqual({
            taskId: TASK_ID,
            version: view.version,
            status: view.status,
            url: 'https://origin.example/files/big.bin',
            pieceCount: view.pieceCount,
            seededCount: view.seededCount,
            peers: view.peers,
            lastEventAt: event.data.at,
          });
        });
      }),
      { numRuns: 150 },
    );
    // The histories reached every status a task can be listed in.
    expect([...seenStatuses].sort()).toEqual(['created', 'evicted', 'failed', 'seeded', 'seeding']);
  });
});

describe('listedUrl', () => {
  it('drops the userinfo, the query and the fragment, whatever they hold', () => {
    expect(listedUrl('https://user:s3cret@Origin.Example:8443/a/b.bin?X-Amz-Signature=abc&token=t&v=1#frag')).toBe('https://origin.example:8443/a/b.bin');
    expect(listedUrl('http://origin.test/plain')).toBe('http://origin.test/plain');
    expect(listedUrl('not a url s3cret')).toBeNull();
  });

  it('is what a task created with credentials in its URL is listed with', () => {
    const s = emptySummary('t');
    foldSummary(s, {
      eventId: 'e1', schemaVersion: SCHEMA_VERSION, streamId: 't', version: 1, position: 1, epoch: 1, recordedAt: 0,
      type: 'TaskCreated', data: { taskId: 't', url: 'https://u:pw@o.test/f?sig=xyz', digest: null, identifier: null, range: null, filter: [], at: 5 },
    });
    expect(JSON.stringify(s.summary)).not.toMatch(/pw|sig|xyz/);
    expect(s.summary).toMatchObject({ url: 'https://o.test/f', status: 'created', version: 1 });
  });
});
