import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DAMSELFLY_BIN, freePort, spawnDamselfly, stopProcess, waitHealthy } from '../../bench/processes.ts';
import { databaseUrl } from '../shared/env.ts';

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [DAMSELFLY_BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

/** The `damselfly supernode` process: start-up validation, the embedded default, SIGTERM. */
describe('damselfly supernode (process)', () => {
  it('refuses a bad flag with one line and exit code 2', () => {
    const r = run(['supernode', '--port', 'eighty']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/port/);
  });

  it('refuses an unreachable database with one clear line and a non-zero exit', () => {
    const r = run(['supernode', '--port', '0', '--database-url', 'postgres://postgres@127.0.0.1:1/nothing', '--data-dir', mkdtempSync(join(tmpdir(), 'df-'))], { DAMSELFLY_KAFKA_BROKERS: '' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/cannot open the event store/);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('damselfly:'))).toHaveLength(1);
  });

  it('runs on the embedded store, keeps its tasks across a restart, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'df-sn-'));
    try {
      const port = await freePort();
      const env = { DAMSELFLY_DATABASE_URL: '', DAMSELFLY_KAFKA_BROKERS: '' };
      const args = ['supernode', '--port', String(port), '--data-dir', dir, '--log-level', 'warn'];
      let proc = spawnDamselfly(args, env);
      await waitHealthy(`http://127.0.0.1:${port}/healthy`, 60_000, proc);
      const origin = 'http://127.0.0.1:1/never-fetched.bin';
      const reg = await fetch(`http://127.0.0.1:${port}/api/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: origin }) });
      expect(reg.status).toBe(200);
      const { taskId, version } = (await reg.json()) as { taskId: string; version: number };
      expect(version).toBeGreaterThanOrEqual(1);
      expect(await stopProcess(proc)).toBe(0);

      proc = spawnDamselfly(args, env);
      await waitHealthy(`http://127.0.0.1:${port}/healthy`, 60_000, proc);
      const after = await fetch(`http://127.0.0.1:${port}/api/v1/tasks/${taskId}`);
      expect(after.status).toBe(200);
      expect(((await after.json()) as { version: number }).version).toBeGreaterThanOrEqual(version);
      expect(await stopProcess(proc)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the real PostgreSQL when --database-url is given', async () => {
    const port = await freePort();
    const proc = spawnDamselfly(['supernode', '--port', String(port), '--data-dir', mkdtempSync(join(tmpdir(), 'df-')), '--log-level', 'warn', '--database-url', databaseUrl()], { DAMSELFLY_KAFKA_BROKERS: '' });
    await waitHealthy(`http://127.0.0.1:${port}/healthy`, 60_000, proc);
    expect(await stopProcess(proc)).toBe(0);
  });
});
