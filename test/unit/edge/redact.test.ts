import { describe, expect, it } from 'vitest';
import { REDACTED, redactHeaders, redactUrl } from '../../../edge/log/redact.ts';

describe('what a peer may log about origin credentials', () => {
  it('masks every header whose name could carry a credential', () => {
    expect(
      redactHeaders({ authorization: 'Bearer x', cookie: 'a=b', 'x-amz-security-token': 't', 'private-token': 'p', 'x-api-key': 'k', accept: '*/*', range: 'bytes=0-1' }),
    ).toEqual({ authorization: REDACTED, cookie: REDACTED, 'x-amz-security-token': REDACTED, 'private-token': REDACTED, 'x-api-key': REDACTED, accept: '*/*', range: 'bytes=0-1' });
  });

  it('masks userinfo and token-like query values in URLs', () => {
    const u = redactUrl('https://user:pw@host/f?X-Amz-Signature=abc&token=t&v=1');
    expect(u).not.toMatch(/pw|abc|token=t/);
    expect(u).toContain('v=1');
    expect(redactUrl('not a url with secret')).toBe(REDACTED);
  });
});
