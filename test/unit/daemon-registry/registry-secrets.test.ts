import { afterEach, expect, it } from 'vitest';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { fakeFetcher } from './fake-fetcher.ts';
import { blobOf, startFakeRegistry } from './fake-registry.ts';
import { startMirror } from './mirror-harness.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

it("the client's Authorization never reaches a log line, on success, refusal, a broken stream or an unreachable registry", async () => {
  const lines: string[] = [];
  const record = (obj: object, msg?: string) => void lines.push(JSON.stringify({ obj, msg }));
  const logger: LogSink = { debug: record, info: record, warn: record, error: record };
  const layer = blobOf('private layer bytes');
  const reg = await startFakeRegistry({ privateRepos: { 'team/private': 'TOKEN-1234' }, blobs: { [layer.digest]: layer.bytes } });
  const m = await startMirror({ fetcher: fakeFetcher({ [layer.digest]: layer.bytes }, { failAfter: 3 }).fetcher, defaultRegistry: reg.origin, logger });
  open.push(m, reg);
  const auth = ['authorization', 'Bearer TOKEN-1234'];
  const path = `/v2/team/private/blobs/${layer.digest}`;
  await m.get(path, auth).then((r) => r.body.arrayBuffer()).catch(() => 'aborted, as it should');
  await (await m.get(path, ['authorization', 'Bearer WRONG-5678'])).body.dump();
  await (await m.get(`/v2/team/private/manifests/v1?token=SECRET-QUERY`, [...auth, 'x-dragonfly-registry', 'http://127.0.0.1:9'])).body.dump();
  await new Promise((r) => setTimeout(r, 50));
  expect(lines.length).toBeGreaterThan(3);
  expect(lines.some((l) => l.includes('blob stream ended early'))).toBe(true);
  for (const secret of ['TOKEN-1234', 'WRONG-5678', 'SECRET-QUERY']) expect(lines.filter((l) => l.includes(secret))).toEqual([]);
});
