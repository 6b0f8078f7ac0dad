import { describe, expect, it } from 'vitest';
import { connectionNamed, endToEndHeaders, isEndToEnd } from '../../../edge/http/hop-by-hop.ts';

describe('hop-by-hop headers', () => {
  it('drops the fixed list and what Connection names, on one line or several', () => {
    const named = connectionNamed(['close, X-Trace', ' keep-alive ']);
    expect([...named]).toEqual(['close', 'x-trace', 'keep-alive']);
    expect(isEndToEnd('x-trace', named)).toBe(false);
    expect(isEndToEnd('proxy-authorization', new Set())).toBe(false);
    expect(isEndToEnd('authorization', named)).toBe(true);
  });

  it('keeps end-to-end response headers as they are, lists included', () => {
    const out = endToEndHeaders({ connection: 'x-hop', 'x-hop': '1', 'transfer-encoding': 'chunked', 'set-cookie': ['a=1', 'b=2'], 'www-authenticate': 'Bearer realm="r"', absent: undefined });
    expect(out).toEqual({ 'set-cookie': ['a=1', 'b=2'], 'www-authenticate': 'Bearer realm="r"' });
  });
});
