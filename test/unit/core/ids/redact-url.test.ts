import { describe, expect, it } from 'vitest';
import type { EventOf, StoredEvent } from '../../../../core/events/index.ts';
import { timeline } from '../../../../core/history/index.ts';
import { computeTaskId } from '../../../../core/ids/index.ts';
import { redactUrl, urlCarriesCredentials } from '../../../../core/ids/redact-url.ts';
import { decide, evolve, initialTaskSnapshot, initialTaskState, stateHash, stateOf, taskView } from '../../../../core/task/index.ts';
import { OPTIONS } from '../task/fixtures.ts';

/**
 * A task URL's credentials (userinfo, token-like query values) never leave in the task's
 * events or views: TaskCreated stores the URL redacted, deterministically (replay and the
 * state hash do not change between runs), and the views redact events written before that.
 */
const REAL = 'https://deploy:pw-s3cret@Origin.Example/v2/blob?v=1&X-Amz-Signature=abc123&a=%20b&access_token=t0k&sig=s1';

describe('redactUrl', () => {
  it('masks the userinfo and the token-like values, keeping the rest of the query byte for byte', () => {
    const r = redactUrl(REAL);
    expect(r).toBe('https://%5Bredacted%5D@origin.example/v2/blob?v=1&X-Amz-Signature=[redacted]&a=%20b&access_token=[redacted]&sig=[redacted]');
    expect(redactUrl(r)).toBe(r); // idempotent
    expect(redactUrl('https://origin.example/plain?v=1')).toBe('https://origin.example/plain?v=1');
    expect(redactUrl('not a url pw-s3cret')).toBe('[redacted]');
  });

  it('says whether a URL names credentials, whether still there or already redacted', () => {
    expect(urlCarriesCredentials(REAL)).toBe(true);
    expect(urlCarriesCredentials(redactUrl(REAL))).toBe(true);
    expect(urlCarriesCredentials('https://origin.example/plain?v=1')).toBe(false);
  });
});

describe('the task URL in events and views', () => {
  const taskId = computeTaskId({ url: REAL });
  const created = () => decide({ type: 'CreateTask', at: 1, taskId, url: REAL, digest: null, identifier: null, range: null, filter: [] }, initialTaskState(taskId), OPTIONS);

  it('TaskCreated holds the redacted URL; the id is the real URL’s; the same command gives the same state hash', () => {
    const events = created();
    expect(events).toMatchObject([{ type: 'TaskCreated', data: { taskId, url: redactUrl(REAL) } }]);
    expect(JSON.stringify(events)).not.toMatch(/s3cret|abc123|t0k/);
    const hash = () => stateHash(created().reduce(evolve, initialTaskSnapshot(taskId)));
    expect(hash()).toBe(hash());
  });

  it('an event written before the redaction still reads, and the views redact it', () => {
    const old: EventOf<'TaskCreated'> = { type: 'TaskCreated', data: { taskId, url: REAL, digest: null, identifier: null, range: null, filter: [], at: 1 } };
    const state = stateOf(evolve(initialTaskSnapshot(taskId), old));
    expect(state.url).toBe(REAL);
    expect(taskView(state).url).not.toMatch(/s3cret|abc123|t0k/);
    const stored = { ...old, streamId: taskId, version: 1, position: 1, epoch: 0, eventId: 'e1', schemaVersion: 2 } as unknown as StoredEvent;
    expect(timeline([stored])[0]!.summary).not.toMatch(/s3cret|abc123|t0k/);
  });
});
