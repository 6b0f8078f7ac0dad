import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DamselflyError } from '../../../core/errors.ts';
import { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { Seeding, type CdnPort, type SeedingRuntime } from '../../../supernode/swarm/seeding.ts';

/**
 * The seeding remembers when to retry a task whose seed failed for this replica's own trouble;
 * a task never touched again must not keep that entry for good.
 */
const storeDown: SeedingRuntime = {
  snapshot: () => Promise.reject(new DamselflyError('DF_ERR_UNAVAILABLE', 'the event store is unavailable')),
  execute: () => Promise.reject(new DamselflyError('DF_ERR_UNAVAILABLE', 'the event store is unavailable')),
};
const unusedCdn = {} as CdnPort;
const settled = () => new Promise((resolve) => setImmediate(resolve));

function seedingAt(clock: () => number): Seeding {
  return new Seeding({ runtime: storeDown, cdn: unusedCdn, credentials: new OriginCredentials(), clock, logger: pino({ level: 'silent' }), refillRetryMs: 1_000 });
}

describe('Seeding retries', () => {
  it('drops the retry times that have passed, so failed tasks never touched again are not kept', async () => {
    let now = 0;
    const seeding = seedingAt(() => now);
    for (let i = 0; i < 500; i++) seeding.ensure(`t${i}`, 'created');
    await settled();
    expect(seeding.pendingRetries).toBe(500);
    // Those 500 are never touched again; later failures must not pile up on top of them.
    now += 5_000;
    seeding.ensure('later', 'created');
    await settled();
    expect(seeding.pendingRetries).toBe(1);
    // The one still backing off is kept, and still backs off.
    seeding.ensure('later', 'created');
    expect(seeding.isRunning('later')).toBe(false);
  });

  it('forgets every retry on stopAll', async () => {
    const seeding = seedingAt(() => 0);
    for (let i = 0; i < 10; i++) seeding.ensure(`t${i}`, 'created');
    await settled();
    seeding.stopAll();
    expect(seeding.pendingRetries).toBe(0);
  });
});
