import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeTaskId } from '../../../core/ids/index.ts';
import { MAX_FILE_SIZE } from '../../../core/pieces/index.ts';
import { stateOf } from '../../../core/task/index.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { Seeding } from '../../../supernode/swarm/seeding.ts';
import { MemoryRuntime } from '../swarm/memory-runtime.ts';
import { TestOrigin } from './test-origin.ts';


/** Issue 12, finding 2: `damselfly supernode --max-file-size` bounds the files a task may have. */
describe('--max-file-size', () => {
  it('defaults to 1 TiB, takes a size, and refuses more than 1 TiB naming the flag', () => {
    expect(parseSupernodeConfig({}, {}).maxFileSize).toBe(MAX_FILE_SIZE);
    expect(parseSupernodeConfig({ maxFileSize: '200GiB' }, {}).maxFileSize).toBe(200 * 1024 ** 3);
    expect(() => parseSupernodeConfig({ maxFileSize: '2TiB' }, {})).toThrowError(expect.objectContaining({ code: 'DF_ERR_USAGE', message: expect.stringMatching(/--max-file-size: at most 1TiB/) }));
    expect(() => parseSupernodeConfig({ maxFileSize: 'lots' }, {})).toThrowError(/--max-file-size/);
  });

  describe('in the seeding', () => {
    let dir: string;
    let origin: TestOrigin;
    let cdn: Cdn;
    let runtime: MemoryRuntime;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'df-max-size-'));
      cdn = new Cdn({ dataDir: dir, allowPrivateOrigins: true, retries: 0 });
      runtime = new MemoryRuntime();
      origin = await new TestOrigin(3 * 1024 * 1024).start();
    });
    afterEach(async () => {
      await cdn.close();
      await origin.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** Creates the task of the origin's file and runs its seed to the end with `maxFileSize`. */
    async function seedWith(maxFileSize: number | undefined): Promise<string> {
      const url = origin.url();
      const taskId = computeTaskId({ url, filter: [] });
      const seeding = new Seeding({ runtime, cdn, credentials: new OriginCredentials(), clock: () => 1_000, logger: pino({ level: 'silent' }), maxFileSize });
      await runtime.execute(taskId, { type: 'CreateTask', at: 1, taskId, url, digest: null, identifier: null, range: null, filter: [] });
      seeding.ensure(taskId, 'created');
      await vi.waitFor(() => expect(seeding.isRunning(taskId)).toBe(false), { timeout: 10_000, interval: 5 });
      return taskId;
    }

    it('fails the task of a larger file with DF_ERR_FILE_TOO_LARGE after the HEAD alone: nothing laid out, nothing fetched', async () => {
      const taskId = await seedWith(1024 * 1024);
      const state = stateOf(await runtime.snapshot(taskId));
      expect(state).toMatchObject({ status: 'failed', pieceCount: null });
      expect(state.failure).toMatch(/DF_ERR_FILE_TOO_LARGE: the file is 3145728 bytes; the bound is 1048576 bytes/);
      expect(runtime.commands.map((c) => c.type)).toEqual(['CreateTask', 'FailTask']);
      expect(origin.requests.map((r) => r.method)).toEqual(['HEAD']);
    });

    it('seeds a file within the bound', async () => {
      const taskId = await seedWith(3 * 1024 * 1024);
      expect(stateOf(await runtime.snapshot(taskId)).status).toBe('seeded');
    });
  });
});
