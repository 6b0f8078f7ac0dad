import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getCommand } from '../../../peer/dfget/get-command.ts';
import { deadAddress, startTestOrigin } from './peer-fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-get-cmd-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

const run = (args: string[]) => getCommand().parseAsync(args, { from: 'user' });

describe('damselfly get (the command)', () => {
  it('rejects bad flags with one line and exit code 2, before any network', async () => {
    const out = join(dir, 'x');
    const cases: [string[], RegExp][] = [
      [['not a url', '-o', out], /URL/],
      [['ftp://h/f', '-o', out], /only http and https/],
      [['http://h/f', '-o', out, '--total-limit', 'lots'], /--total-limit: invalid size "lots"/],
      [['http://h/f', '-o', out, '--digest', 'md5:abc'], /--digest: expected sha256/],
      [['http://h/f', '-o', out, '--node', 'nohost'], /expected host:port/],
      [['http://h/f', '-o', out, '--header', 'no colon here'], /Name: value/],
      [['http://h/f', '-o', out, '--linger', 'forever'], /invalid duration "forever"/],
    ];
    for (const [args, message] of cases) {
      const err = await run(args).catch((e: Error & { exitCode?: number }) => e);
      expect(err, args.join(' ')).toMatchObject({ exitCode: 2, message: expect.stringMatching(message) });
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('prints one JSON object on stdout with --json (here: back to the origin, no supernode up)', async () => {
    const content = randomBytes(50_000);
    const origin = await startTestOrigin(content);
    const writes: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    try {
      await run([origin.url, '-o', join(dir, 'f.bin'), '--node', await deadAddress(), '--json', '--total-limit', '10MiB', '--header', 'Authorization: Bearer s3cret']);
    } finally {
      await origin.close();
    }
    expect(writes).toHaveLength(1);
    const result = JSON.parse(writes[0]!);
    expect(result).toMatchObject({ backSource: true, bytes: content.length, outputPath: join(dir, 'f.bin') });
    expect(writes[0]).not.toContain('s3cret');
    expect(origin.requests[0]!.authorization).toBe('Bearer s3cret');
    expect(await readFile(join(dir, 'f.bin'))).toEqual(content);
  });

  it('exits 1 with one line when the download fails (--no-back-source, no supernode)', async () => {
    const err = await run(['http://127.0.0.1:9/f', '-o', join(dir, 'f.bin'), '--node', await deadAddress(), '--no-back-source']).catch((e: Error & { exitCode?: number }) => e);
    expect(err).toMatchObject({ exitCode: 1, message: expect.stringMatching(/no supernode answered.*back-to-source is disabled/) });
    expect((err as Error).message).not.toContain('\n');
    expect(await readdir(dir)).toEqual([]);
  });
});
