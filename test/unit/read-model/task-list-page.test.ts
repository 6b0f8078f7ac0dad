import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, listPage, type TaskSummary } from '../../../supernode/read-model/index.ts';

function summary(taskId: string, lastEventAt: number, status: TaskSummary['status'] = 'seeded'): TaskSummary {
  return { taskId, lastEventAt, status, version: 3, url: `https://o.test/${taskId}`, pieceCount: 1, seededCount: 1, peers: 0 };
}

describe('listPage', () => {
  // Two tasks share a time: the task id breaks the tie.
  const all = [summary('b', 20), summary('a', 10, 'failed'), summary('d', 30, 'seeding'), summary('c', 20), summary('e', 5)];

  it('lists the most recently updated first, then by task id, and counts what matches', () => {
    const page = listPage(all, { limit: 100 });
    expect(page.tasks.map((t) => t.taskId)).toEqual(['d', 'b', 'c', 'a', 'e']);
    expect(page.total).toBe(5);
    expect(page.next).toBeUndefined();
  });

  it('pages with a cursor: every task once, in order, the last page without next', () => {
    const ids: string[] = [];
    let after;
    for (let pages = 0; pages < 10; pages++) {
      const page = listPage(all, { limit: 2, after });
      ids.push(...page.tasks.map((t) => t.taskId));
      expect(page.total).toBe(5);
      if (!page.next) break;
      after = decodeCursor(encodeCursor(page.next));
    }
    expect(ids).toEqual(['d', 'b', 'c', 'a', 'e']);
  });

  it('filters by status before paging', () => {
    const page = listPage(all, { status: 'seeded', limit: 2 });
    expect(page.tasks.map((t) => t.taskId)).toEqual(['b', 'c']);
    expect(page.total).toBe(3);
    expect(listPage(all, { status: 'seeded', limit: 2, after: page.next }).tasks.map((t) => t.taskId)).toEqual(['e']);
    expect(listPage(all, { status: 'evicted', limit: 2 })).toEqual({ tasks: [], total: 0 });
  });

  it('returns copies: a caller cannot change the model through a page', () => {
    const page = listPage(all, { limit: 1 });
    page.tasks[0]!.status = 'evicted';
    expect(all.find((s) => s.taskId === 'd')!.status).toBe('seeding');
  });
});

describe('the cursor', () => {
  it('round-trips and refuses anything it did not make', () => {
    const c = { lastEventAt: 1_700_000_000_123, taskId: 'ab'.repeat(32) };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    for (const bad of ['', 'xyz', encodeCursor(c) + '!', Buffer.from('12/').toString('base64url'), Buffer.from('-1/a').toString('base64url'), Buffer.from('99999999999999999/a').toString('base64url')]) {
      expect(decodeCursor(bad), bad).toBeUndefined();
    }
  });
});
