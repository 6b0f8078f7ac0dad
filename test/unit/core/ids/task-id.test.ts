import { describe, expect, it } from 'vitest';
import { computeTaskId, isTaskId, normaliseUrl } from '../../../../core/ids/index.ts';
import { isDamselflyError } from '../../../../core/errors.ts';

describe('normaliseUrl', () => {
  it('lowercases the host, drops the fragment and a default port', () => {
    expect(normaliseUrl('HTTP://Example.COM:80/A/b?x=1#frag')).toBe('http://example.com/A/b?x=1');
  });

  it('removes filtered parameters and keeps the others in order and encoding', () => {
    const url = 'https://cdn.example.com/blob?z=1&X-Amz-Signature=abc&a=%20b&Expires=9&a=2';
    expect(normaliseUrl(url, ['X-Amz-Signature', 'Expires'])).toBe('https://cdn.example.com/blob?z=1&a=%20b&a=2');
  });

  it('drops the question mark when every parameter is filtered', () => {
    expect(normaliseUrl('https://h/p?sig=1&exp=2', ['sig', 'exp'])).toBe('https://h/p');
  });

  it('matches percent-encoded parameter names and keeps flag parameters', () => {
    expect(normaliseUrl('https://h/p?my%20key=1&flag&b=2', ['my key'])).toBe('https://h/p?flag&b=2');
  });

  it('rejects what is not a URL with DF_ERR_VALIDATION', () => {
    expect(() => normaliseUrl('not a url')).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
  });
});

describe('computeTaskId', () => {
  const base = { url: 'https://registry.example.com/v2/lib/blobs/sha256:aa?token=1&ns=docker.io' };

  it('is a sha256 hex, stable across calls', () => {
    const id = computeTaskId(base);
    expect(isTaskId(id)).toBe(true);
    expect(computeTaskId({ ...base })).toBe(id);
  });

  it('ignores filtered parameters, fragment and host case', () => {
    const a = computeTaskId({ url: 'https://H.example/f?sig=1&k=v#x', filter: ['sig'] });
    const b = computeTaskId({ url: 'https://h.example/f?k=v&sig=2', filter: ['sig'] });
    expect(a).toBe(b);
  });

  it('differs by unfiltered parameters, digest, identifier and range', () => {
    const ids = new Set([
      computeTaskId(base),
      computeTaskId({ url: base.url + '&x=1' }),
      computeTaskId({ ...base, digest: 'sha256:' + 'a'.repeat(64) }),
      computeTaskId({ ...base, identifier: 'v1' }),
      computeTaskId({ ...base, range: 'bytes=0-99' }),
      computeTaskId({ ...base, range: 'bytes=0-999' }),
    ]);
    expect(ids.size).toBe(6);
  });

  it('prefers the digest over the identifier', () => {
    const digest = 'sha256:' + 'b'.repeat(64);
    expect(computeTaskId({ ...base, digest, identifier: 'x' })).toBe(computeTaskId({ ...base, digest }));
  });

  it('cannot be confused by an identifier that looks like a digest', () => {
    const text = 'sha256:' + 'c'.repeat(64);
    expect(computeTaskId({ ...base, identifier: text })).not.toBe(computeTaskId({ ...base, digest: text }));
  });

  it('content-addressed: the same digest through any URL is one task, apart from URL-keyed tasks', () => {
    const digest = 'sha256:' + 'd'.repeat(64);
    const a = computeTaskId({ url: 'https://registry-1.docker.io/v2/library/alpine/blobs/' + digest, digest, contentAddressed: true });
    const b = computeTaskId({ url: 'http://127.0.0.1:5000/v2/mirror/alpine/blobs/' + digest, digest, contentAddressed: true });
    expect(a).toBe(b);
    expect(a).not.toBe(computeTaskId({ url: 'https://registry-1.docker.io/v2/library/alpine/blobs/' + digest, digest }));
    expect(computeTaskId({ ...base, digest, contentAddressed: true, range: 'bytes=0-9' })).not.toBe(a);
    // Without a digest there is no content to address: the URL decides as before.
    expect(computeTaskId({ ...base, contentAddressed: true })).toBe(computeTaskId(base));
  });

  it('throws a catalogued error for a bad URL', () => {
    try {
      computeTaskId({ url: '::' });
      expect.unreachable();
    } catch (e) {
      expect(isDamselflyError(e, 'DF_ERR_VALIDATION')).toBe(true);
    }
  });
});
