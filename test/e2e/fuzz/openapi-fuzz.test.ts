import { execFile, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { freePort, spawnDamselfly, stopProcess, waitHealthy } from '../../../bench/processes.ts';
import { databaseUrl } from '../../shared/env.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const fuzzTools = fileURLToPath(new URL('../../../infra/dev/fuzz-tools.sh', import.meta.url));
/** Test cases per operation and phase: ~1 200 requests, well under a minute on two cores. */
const MAX_EXAMPLES = process.env.DAMSELFLY_FUZZ_EXAMPLES ?? '50';
/** Fixed so that a failure in CI replays at a desk; set DAMSELFLY_FUZZ_SEED to explore others. */
const SEED = process.env.DAMSELFLY_FUZZ_SEED ?? '12';

/**
 * Issue 12's fuzz suite: schemathesis (installed by infra/dev/fuzz-tools.sh) against a real
 * supernode process on PostgreSQL, from its own /api/v1/openapi.json, with the cluster token.
 * Every check runs (test/e2e/fuzz/schemathesis.toml): it fails on any 5xx, crash, undocumented
 * status, response that breaks its schema or lacks Content-Type, schema-violating request
 * accepted, schema-valid request refused, ignored auth, or wrong answer to an undeclared method.
 * The supernode runs in a loopback-only sandbox (loopback-only.mjs): the fuzzer registers tasks
 * for any URL, and the CDN must not go and fetch them from the world.
 */
describe('schemathesis against the supernode', () => {
  let st: string;
  let proc: ChildProcess;
  let port: number;
  let db: { url: string; drop: () => Promise<void> };
  let dir: string;
  const token = randomBytes(16).toString('hex');

  beforeAll(async () => {
    const out = execFileSync('bash', [fuzzTools], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 });
    st = /^DAMSELFLY_SCHEMATHESIS=(.+)$/m.exec(out)?.[1] ?? '';
    expect(st, `fuzz-tools.sh printed no DAMSELFLY_SCHEMATHESIS=: ${out}`).not.toBe('');
    // A database of its own: one database is one cluster, and another run's replicas would own shards.
    db = await freshDatabase(databaseUrl(), 'fuzz');
    dir = mkdtempSync(join(tmpdir(), 'df-fuzz-'));
    port = await freePort();
    const sandbox = `--import=${pathToFileURL(join(here, 'loopback-only.mjs')).href}`;
    proc = spawnDamselfly(['supernode', '--port', String(port), '--data-dir', dir, '--log-level', 'warn', '--database-url', db.url], {
      DAMSELFLY_TOKEN: token,
      DAMSELFLY_KAFKA_BROKERS: '',
      NODE_OPTIONS: [process.env.NODE_OPTIONS, sandbox].filter(Boolean).join(' '),
    });
    await waitHealthy(`http://127.0.0.1:${port}/healthy`, 60_000, proc);
  }, 660_000);

  afterAll(async () => {
    if (proc) await stopProcess(proc);
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds nothing in the OpenAPI document\'s operations', async () => {
    const args = [
      '--config-file', join(here, 'schemathesis.toml'), '--no-color',
      'run', `http://127.0.0.1:${port}/api/v1/openapi.json`,
      '--header', `Authorization: Bearer ${token}`,
      '--checks', 'all', '--max-examples', MAX_EXAMPLES, '--seed', SEED, '--workers', '1', '--request-timeout', '15',
      // The piece route belongs to the piece protocol, not the JSON API: pieces-fuzz.test.ts.
      '--exclude-path-regex', '^/pieces/',
    ];
    const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
      // cwd: the run's own directory, so Hypothesis's example database goes with it.
      execFile(st, args, { cwd: dir, env: { ...process.env, SCHEMATHESIS_HOOKS: 'schemathesis_hooks', PYTHONPATH: here, PYTHONDONTWRITEBYTECODE: '1' }, maxBuffer: 64 << 20, timeout: 240_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, output: `${stdout}\n${stderr}` }),
      );
    });
    expect(proc.exitCode, 'the supernode died during the run').toBeNull();
    // The whole report on failure: each finding with a curl line that reproduces it.
    expect(run.code, run.output.slice(-20_000)).toBe(0);
    // Every operation of the document ran (none skipped for a schema schemathesis could not read).
    const [, selected, tested] = /Selected: (\d+)\/\d+\s+Tested: (\d+)/.exec(run.output) ?? [];
    expect(Number(tested)).toBe(Number(selected));
    expect(Number(tested)).toBeGreaterThanOrEqual(9);
  });
});
