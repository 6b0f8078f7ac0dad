import { describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';

/**
 * The metadata address reached through an IPv6 form that embeds it (a dual-stack host, a NAT64
 * or 6to4 translator on the path delivers it to 169.254.169.254), and the clouds' metadata
 * addresses outside 169.254.0.0/16: refused in a URL and when DNS answers with them.
 */
const guard = new OriginGuard();
const refused = (url: string) => expect(() => guard.checkUrl(url)).toThrow(expect.objectContaining({ code: 'DF_ERR_FORBIDDEN_ORIGIN', status: 403 }));

describe('the origin guard and IPv4-embedded IPv6 forms', () => {
  it.each([
    ['IPv4-compatible', 'http://[::a9fe:a9fe]/latest/meta-data/'],
    ['IPv4-compatible, dotted', 'http://[::169.254.169.254]/'],
    ['IPv4-mapped', 'http://[::ffff:169.254.169.254]/'],
    ['IPv4-translated', 'http://[::ffff:0:a9fe:a9fe]/'],
    ['NAT64 well-known prefix', 'http://[64:ff9b::a9fe:a9fe]/'],
    ['NAT64 well-known prefix, dotted', 'http://[64:ff9b::169.254.169.254]/'],
    ['NAT64 local-use prefix', 'http://[64:ff9b:1::a9fe:a9fe]/'],
    ['6to4', 'http://[2002:a9fe:a9fe::]/'],
    ['6to4 with a host part', 'http://[2002:a9fe:a9fe:1::1]:8080/'],
    ['Teredo (client address, obfuscated)', 'http://[2001:0:4136:e378:8000:63bf:5601:5601]/'],
    ['ISATAP', 'http://[2001:db8::5efe:a9fe:a9fe]/'],
    ['NAT64 of Azure WireServer', 'http://[64:ff9b::a83f:8110]/'],
    ['IPv4-mapped Alibaba', 'http://[::ffff:100.100.100.200]/'],
  ])('refuses the metadata address as %s (%s)', (_form, url) => refused(url));

  it.each([
    ['Azure WireServer', 'http://168.63.129.16/machine?comp=goalstate'],
    ['Azure IMDS', 'http://169.254.169.254/metadata/instance'],
    ['Alibaba', 'http://100.100.100.200/latest/meta-data/'],
    ['Oracle (legacy)', 'http://192.0.0.192/'],
    ['Oracle (IPv6)', 'http://[fd00:c1::a9fe:a9fe]/opc/v2/'],
    ['GCP (IPv6)', 'http://[fd20:ce::254]/computeMetadata/v1/'],
    ['AWS (IPv6)', 'http://[fd00:ec2::254]/latest/'],
    ['Akamai/Linode (IPv6)', 'http://[fd00:a9fe:a9fe::1]/v1/'],
    ['Tencent (link-local)', 'http://169.254.0.23/'],
    ['AWS instance-data name', 'http://instance-data/latest/'],
    ['Tencent name', 'http://metadata.tencentyun.com/'],
  ])('refuses %s (%s)', (_cloud, url) => refused(url));

  it.each(['http://[::1]/f', 'http://[2002:0a00:0001::]/f', 'http://[64:ff9b::a00:1]/f', 'http://[::ffff:10.0.0.5]/f', 'http://[2001:db8::1]/f', 'http://168.63.129.17/'])(
    'still allows %s (loopback, private or public behind the same forms)',
    (url) => expect(() => guard.checkUrl(url)).not.toThrow(),
  );

  it('applies the allow list to the embedded address too', () => {
    const listed = new OriginGuard({ allowList: ['169.254.10.0/24'] });
    expect(() => listed.checkUrl('http://[::ffff:169.254.10.9]/')).not.toThrow();
    expect(() => listed.checkUrl('http://[64:ff9b::169.254.169.254]/')).toThrow(expect.objectContaining({ code: 'DF_ERR_FORBIDDEN_ORIGIN' }));
  });

  it.each(['::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::', '168.63.129.16'])('refuses a name whose DNS answer is %s', async (address) => {
    const dns = new OriginGuard({}, (_host, _o, cb) => cb(null, [{ address, family: address.includes(':') ? 6 : 4 }]));
    const err = await new Promise<unknown>((resolve) => dns.lookup('registry.example', { all: true }, (e) => resolve(e)));
    expect(isDamselflyError(err, 'DF_ERR_FORBIDDEN_ORIGIN')).toBe(true);
  });
});
