import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, spawnDamselfly } from '../../../bench/processes.ts';
import { sha256Of, startSupernodeProcess, startUniqueOrigin, tempDir, TOKEN, type SupernodeProcess, type TestOrigin } from './swarm-fixture.ts';

/** Runs `damselfly get …` to completion (asynchronously: the origin lives in this process). */
function runGet(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const proc = spawnDamselfly(['get', ...args], { DAMSELFLY_TOKEN: TOKEN });
  proc.stdin!.end();
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.once('close', (status) => resolve({ status, stdout, stderr })));
}

/** stderr is exactly one line: the error. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, `stderr: ${stderr}`).toHaveLength(1);
  return lines[0]!;
}

/** The one error line among stderr's lines (a download may also log warnings, e.g. on falling back to the origin). */
function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n').filter((l) => l.startsWith('damselfly:'));
  expect(lines, `stderr: ${stderr}`).toHaveLength(1);
  return lines[0]!;
}

const SIZE = 1024 * 1024 + 17;
const WRONG_DIGEST = `sha256:${'ab'.repeat(32)}`;

/**
 * dfget's contract at the command line: exit 0 done, 1 the download failed, 2 bad usage, each
 * failure with one line on stderr; back to the origin when no supernode answers (unless told
 * not to); and a failed download never leaves a file (or a temp file) behind.
 */
describe('damselfly get (dfget) on the command line', () => {
  const work = tempDir('df-e2e-cli-');
  let origin: TestOrigin;
  let deadNode: string;
  let supernode: SupernodeProcess;

  beforeAll(async () => {
    origin = await startUniqueOrigin(SIZE);
    deadNode = `127.0.0.1:${await freePort()}`; // nothing listens there
    supernode = await startSupernodeProcess({ dir: work.dir, topic: `e2e-swarm-cli-${randomUUID()}`, cdnUploadRate: '64MiB' });
  });

  afterAll(async () => {
    await supernode?.stop();
    await origin?.close();
    work.remove();
  });

  const leftovers = (name: string) => readdirSync(work.dir).filter((f) => f.startsWith(name));

  it('fails with exit 1 and one line when no supernode answers and back-to-source is off', async () => {
    const out = join(work.dir, 'no-back-source.out');
    const r = await runGet([origin.url, '-o', out, '--node', deadNode, '--no-back-source']);
    expect(r.status).toBe(1);
    expect(oneLine(r.stderr)).toMatch(/no supernode answered.*back-to-source is disabled/);
    expect(leftovers('no-back-source')).toEqual([]);
    expect(origin.bytesServed()).toBe(0);
  });

  it('falls back to the origin when no supernode answers', async () => {
    const out = join(work.dir, 'back-source.out');
    const r = await runGet([origin.url, '-o', out, '--node', deadNode, '--json', '--digest', `sha256:${origin.sha256}`]);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as { backSource: boolean; bytes: number; taskId: string | null };
    expect(result).toMatchObject({ backSource: true, bytes: SIZE, taskId: null });
    expect(sha256Of(out)).toBe(origin.sha256);
    expect(leftovers('back-source')).toEqual(['back-source.out']);
  });

  it.each([
    ['a digest that is not sha256', ['--digest', 'md5:x'], /digest/],
    ['a rate with an unknown unit', ['--total-limit', '12XB'], /total-?limit.*invalid size/i],
    ['a malformed --node', ['--node', 'nowhere'], /node/],
  ])('refuses %s with exit 2 and one line', async (_what, flags, message) => {
    const out = join(work.dir, 'bad-flag.out');
    const r = await runGet([origin.url, '-o', out, '--node', supernode.address, ...flags]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a relative URL with exit 2 and one line', async () => {
    const r = await runGet(['/file.bin', '-o', join(work.dir, 'relative.out'), '--node', supernode.address]);
    expect(r.status).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/absolute/);
  });

  it.each([
    ['through the swarm', () => supernode.address],
    ['from the origin', () => deadNode],
  ])('fails with exit 1 and leaves no file when the --digest does not match (%s)', async (how, node) => {
    const name = `wrong-digest-${how.replace(/\W/g, '-')}`;
    const r = await runGet([origin.url, '-o', join(work.dir, `${name}.out`), '--node', node(), '--digest', WRONG_DIGEST]);
    expect(r.status).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/DIGEST_MISMATCH|does not match/);
    expect(leftovers(name)).toEqual([]);
  });
});
