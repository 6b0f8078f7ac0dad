import { describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { VersionConflict } from '../../../supernode/store/errors.ts';
import { GroupCommit } from '../../../supernode/store/group-commit.ts';
import type { SqlClient } from '../../../supernode/store/sql-client.ts';
import { asStoreError, isConnectionLoss, STORE_RETRY_AFTER_MS } from '../../../supernode/store/store-unavailable.ts';

const sys = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('asStoreError', () => {
  it.each([
    ['connection refused', sys('ECONNREFUSED', 'connect ECONNREFUSED 10.1.2.3:5432')],
    ['connection reset', sys('ECONNRESET', 'read ECONNRESET')],
    ['admin shutdown', sys('57P01', 'terminating connection due to administrator command')],
    ['starting up', sys('57P03', 'the database system is starting up')],
    ['connection exception class 08', sys('08006', 'connection failure')],
    ['too many clients', sys('53300', 'sorry, too many clients already')],
    ['pg: lost connection', new Error('Connection terminated unexpectedly')],
    ['pg: pool timeout', new Error('timeout exceeded when trying to connect')],
    ['pg: connect timeout', new Error('Connection terminated due to connection timeout', { cause: new Error('x') })],
    ['pg: broken client', new Error('Client has encountered a connection error and is not queryable')],
    ['a cause that is a socket error', new Error('wrapped', { cause: sys('ECONNREFUSED', 'connect ECONNREFUSED') })],
  ])('turns %s into DF_ERR_UNAVAILABLE (503, retryable, Retry-After, one line, no address)', (_, raw) => {
    const err = asStoreError(raw);
    expect(isDamselflyError(err, 'DF_ERR_UNAVAILABLE')).toBe(true);
    expect(err).toMatchObject({ status: 503, retryable: true, retryAfterMs: STORE_RETRY_AFTER_MS, cause: raw });
    expect((err as Error).message).not.toMatch(/\n|10\.1\.2\.3/);
    expect(isConnectionLoss(err)).toBe(true);
  });

  it.each([
    ['a unique violation', sys('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', sys('42601', 'syntax error at or near "SELEC"')],
    ['a query canceled by statement_timeout', sys('57014', 'canceling statement due to statement timeout')],
    ['a version conflict', new VersionConflict('s', 1, 2)],
    ['a plain error', new Error('something else')],
  ])('leaves %s as it is', (_, raw) => {
    expect(asStoreError(raw)).toBe(raw);
    expect(isConnectionLoss(raw)).toBe(false);
  });
});

describe('GroupCommit on a lost connection', () => {
  it('fails the whole batch with DF_ERR_UNAVAILABLE without re-running its jobs (the statement may have committed)', async () => {
    let transactions = 0;
    const client = {
      engine: 'postgres',
      transaction: async () => {
        transactions += 1;
        throw new Error('must not re-run a batch whose outcome is unknown');
      },
    } as unknown as SqlClient;
    const lost = asStoreError(new Error('Connection terminated unexpectedly'));
    const commits = new GroupCommit<string, string>(client, {
      maxBatch: 8,
      key: (j) => j,
      events: () => 1,
      runBatch: async () => {
        throw lost;
      },
      runOne: async (_tx, j) => j,
    });
    const results = await Promise.allSettled(['a', 'b', 'c'].map((j) => commits.run(j)));
    expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.value))).toEqual([lost, lost, lost]);
    expect(transactions).toBe(0);
    // Not wedged: the next batch runs.
    await expect(commits.run('d')).rejects.toBe(lost);
  });
});
