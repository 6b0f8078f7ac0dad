import { describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { chooseUpstream } from '../../../peer/daemon/registry/choose-upstream.ts';
import { parseRegistryPath } from '../../../peer/daemon/registry/registry-path.ts';

const insecure = new Set(['127.0.0.1:5000', 'localhost']);
const choose = (c: Partial<Parameters<typeof chooseUpstream>[0]>) => chooseUpstream({ insecure, ...c }).href;

describe('chooseUpstream', () => {
  it('takes the header first, then ns=, then the default', () => {
    const defaultRegistry = new URL('http://127.0.0.1:6000');
    expect(choose({ header: 'https://reg.example:8443/', ns: 'quay.io', defaultRegistry })).toBe('https://reg.example:8443/');
    expect(choose({ ns: 'quay.io', defaultRegistry })).toBe('https://quay.io/');
    expect(choose({ defaultRegistry })).toBe('http://127.0.0.1:6000/');
  });

  it('maps docker.io to its API host and reaches insecure hosts (by host:port or host alone) over http', () => {
    expect(choose({ ns: 'docker.io' })).toBe('https://registry-1.docker.io/');
    expect(choose({ ns: '127.0.0.1:5000' })).toBe('http://127.0.0.1:5000/');
    expect(choose({ ns: '127.0.0.1:5001' })).toBe('https://127.0.0.1:5001/');
    expect(choose({ ns: 'localhost:5002' })).toBe('http://localhost:5002/');
    expect(choose({ ns: '[::1]:5000' })).toBe('https://[::1]:5000/');
  });

  it.each([{ ns: 'a b' }, { ns: 'host/path' }, { ns: '' }, { header: 'reg.example' }, { header: 'https://reg.example/v2/' }, {}])('refuses %j with a 400', (c) => {
    try {
      choose(c);
      expect.unreachable();
    } catch (err) {
      expect(isDamselflyError(err, 'DF_ERR_VALIDATION')).toBe(true);
    }
  });
});

describe('parseRegistryPath', () => {
  const digest = `sha256:${'e'.repeat(64)}`;
  it('parses the pull routes, with the longest name before the last route word', () => {
    expect(parseRegistryPath('/v2/')).toEqual({ kind: 'ping' });
    expect(parseRegistryPath('/v2/a/b-c/d__e/manifests/v1.2_x')).toEqual({ kind: 'manifest', name: 'a/b-c/d__e', reference: 'v1.2_x' });
    expect(parseRegistryPath(`/v2/a/manifests/${digest}`)).toEqual({ kind: 'manifest', name: 'a', reference: digest });
    expect(parseRegistryPath(`/v2/x/blobs/blobs/${digest}`)).toEqual({ kind: 'blob', name: 'x/blobs', digest });
    expect(parseRegistryPath('/v2/x/tags/list')).toEqual({ kind: 'tags', name: 'x' });
    expect(parseRegistryPath(`/v2/x/referrers/${digest}`)).toEqual({ kind: 'referrers', name: 'x', digest });
  });

  it.each(['/v2/a//b/manifests/v1', '/v2/a./b/manifests/v1', '/v2/-a/manifests/v1', '/v2/a/blobs/uploads/', '/v2/a/manifests/', '/v2x'])('refuses %s', (path) => {
    expect(parseRegistryPath(path)).toHaveProperty('refused');
  });
});
