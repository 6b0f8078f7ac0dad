import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { storableText, WELL_FORMED_TEXT } from '../../../../core/wire/fields.ts';
import { JoinRequest, LeaveRequest, MAX_HEADER_BYTES, MAX_HEADERS, RegisterTaskRequest } from '../../../../core/wire/peer-api.ts';

const URL_ = 'https://origin.example/file.bin';
const BAD = { nul: 'a\u0000b', 'lone high surrogate': 'a\uD800b', 'lone low surrogate': 'a\uDC00b', 'high surrogate at the end': 'ab\uD83D' };

/** Where a body is refused and why: the paths and messages the 400's detail is made of. */
function refusal(schema: z.ZodType, body: unknown): { path: string; message: string }[] {
  const parsed = schema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

/** Issue 12, finding 4: strings that would reach an event are refused at the edge, naming the field. */
describe('the wire contract refuses text PostgreSQL cannot store', () => {
  for (const [what, bad] of Object.entries(BAD)) {
    it(`refuses a ${what} in url, identifier, filter and a leave reason`, () => {
      const refusedAt = (schema: z.ZodType, body: unknown) => refusal(schema, body).map((i) => i.path);
      expect(refusedAt(RegisterTaskRequest, { url: `${URL_}?q=${bad}` })).toEqual(['url']);
      expect(refusedAt(RegisterTaskRequest, { url: URL_, identifier: bad })).toEqual(['identifier']);
      expect(refusedAt(RegisterTaskRequest, { url: URL_, filter: ['ok', bad] })).toEqual(['filter.1']);
      expect(refusedAt(LeaveRequest, { outcome: 'failed', reason: bad })).toEqual(['reason']);
      expect(refusedAt(JoinRequest, { peerId: bad, hostId: 'h', address: '127.0.0.1:1' })).toContain('peerId');
      expect(refusal(RegisterTaskRequest, { url: URL_, identifier: bad })[0]!.message).toMatch(/NUL.*surrogate/);
    });
  }

  it('accepts well-formed text, astral characters included', () => {
    expect(refusal(RegisterTaskRequest, { url: `${URL_}?name=😀`, identifier: 'naïve 😀 名前', filter: ['sig'] })).toEqual([]);
    expect(refusal(LeaveRequest, { outcome: 'failed', reason: 'disk full 😀' })).toEqual([]);
  });
});

describe('origin headers are bounded', () => {
  const register = (headers: Record<string, string>) => refusal(RegisterTaskRequest, { url: URL_, headers });

  it(`allows ${MAX_HEADERS} headers and ${MAX_HEADER_BYTES} bytes of names and values, and no more`, () => {
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-h${i}`, 'v']));
    expect(register(many(MAX_HEADERS))).toEqual([]);
    expect(register(many(MAX_HEADERS + 1))).toEqual([{ path: 'headers', message: `at most ${MAX_HEADERS} headers (got ${MAX_HEADERS + 1})` }]);
    const exact = { a: 'x'.repeat(8192), b: 'x'.repeat(MAX_HEADER_BYTES - 8192 - 2) };
    expect(register(exact)).toEqual([]);
    expect(register({ ...exact, c: '' })).toEqual([{ path: 'headers', message: `at most ${MAX_HEADER_BYTES} bytes of header names and values (got ${MAX_HEADER_BYTES + 1})` }]);
  });

  it('takes names that are HTTP tokens and values without control characters', () => {
    expect(register({ Authorization: 'Bearer abc', 'X-Api-Key': 'k\tv é' })).toEqual([]);
    expect(register({ 'bad name': 'v' })).toEqual([{ path: 'headers.bad name', message: expect.stringMatching(/HTTP token/) }]);
    expect(register({ 'x-a\u0000': 'v' })[0]!.path).toBe('headers.x-a\u0000');
    for (const value of ['a\u0000b', 'a\r\nInjected: 1', 'a\uD800', '名前']) expect(register({ 'x-a': value })[0]!.path).toBe('headers.x-a');
  });
});

describe('storableText', () => {
  it('makes any string well-formed and bounded, without splitting a pair', () => {
    expect(storableText('a\u0000b\uD800c\uDC00😀', 100)).toBe('ab\uFFFDc\uFFFD😀');
    expect(storableText('ab😀', 3)).toBe('ab');
    expect(storableText('ab😀', 4)).toBe('ab😀');
    for (const s of ['\uD800\uD800\uDC00', '\uDC00\uD800', 'x'.repeat(10) + '\uD83D']) expect(storableText(s, 8)).toMatch(WELL_FORMED_TEXT);
  });
});

describe('a content-addressed registration', () => {
  it('needs the digest it is addressed by', () => {
    expect(refusal(RegisterTaskRequest, { url: URL_, contentAddressed: true }).map((i) => i.path)).toEqual(['contentAddressed']);
    expect(refusal(RegisterTaskRequest, { url: URL_, contentAddressed: true, digest: 'sha256:' + 'a'.repeat(64) })).toEqual([]);
  });
});
