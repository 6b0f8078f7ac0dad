import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DamselflyError } from '../../core/errors.ts';

/**
 * Which origins the CDN may fetch from. The supernode fetches URLs that peers hand it, so
 * without a guard any peer could make it read the cloud metadata service (SSRF: instance
 * credentials at 169.254.169.254). Refused unless configured: link-local addresses
 * (169.254.0.0/16, fe80::/10, which hold the AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack,
 * Hetzner and Tencent metadata endpoints), the other known metadata and host-agent addresses of
 * the big clouds (METADATA_ADDRESSES), their metadata host names, and any of these embedded in
 * an IPv6 address (IPv4-mapped, -compatible or -translated, NAT64, 6to4, Teredo, ISATAP: a
 * dual-stack host or a translator on the path reaches the IPv4 address behind them).
 * Loopback and RFC 1918 stay allowed: tests and the demo run origins on 127.0.0.1, and
 * in-cluster registries commonly live on private addresses. docs/security.md lists them.
 */
export interface OriginPolicy {
  /** Allow every address (a lab setup, or an origin that really is link-local). */
  allowPrivateOrigins?: boolean;
  /** Host names, IP addresses or CIDR blocks ("169.254.10.0/24") allowed despite the rules. */
  allowList?: readonly string[];
}

type LookupAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/** Metadata services outside the link-local ranges (address, family, whose). */
export const METADATA_ADDRESSES: readonly (readonly [string, 'ipv4' | 'ipv6', string])[] = [
  ['fd00:ec2::254', 'ipv6', 'AWS instance metadata (IPv6)'],
  ['fd20:ce::254', 'ipv6', 'GCP metadata server (IPv6)'],
  ['168.63.129.16', 'ipv4', 'Azure WireServer (host agent)'],
  ['100.100.100.200', 'ipv4', 'Alibaba Cloud metadata'],
  ['192.0.0.192', 'ipv4', 'Oracle Cloud metadata (legacy)'],
  ['fd00:c1::a9fe:a9fe', 'ipv6', 'Oracle Cloud metadata (IPv6)'],
  ['fd00:a9fe:a9fe::1', 'ipv6', 'Akamai/Linode metadata (IPv6)'],
];

const FORBIDDEN_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.platformequinix.com',
]);

function forbiddenBlocks(): BlockList {
  const blocks = new BlockList();
  blocks.addSubnet('169.254.0.0', 16, 'ipv4');
  blocks.addSubnet('fe80::', 10, 'ipv6');
  for (const [address, fam] of METADATA_ADDRESSES) blocks.addAddress(address, fam);
  return blocks;
}

const family = (ip: string) => (isIP(ip) === 6 ? 'ipv6' : 'ipv4');
const bare = (hostname: string) => hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();

export class OriginGuard {
  private readonly forbidden = forbiddenBlocks();
  private readonly allowedBlocks = new BlockList();
  private readonly allowedNames = new Set<string>();
  private readonly resolveAll: LookupAll;

  /** `resolve` replaces DNS (tests map names to addresses with it). */
  constructor(private readonly policy: OriginPolicy = {}, resolve?: LookupAll) {
    this.resolveAll = resolve ?? (dnsLookup as unknown as LookupAll);
    for (const entry of policy.allowList ?? []) {
      const [ip, bits] = entry.split('/');
      if (ip && isIP(ip) && bits !== undefined) this.allowedBlocks.addSubnet(ip, Number(bits), family(ip));
      else if (ip && isIP(ip)) this.allowedBlocks.addAddress(ip, family(ip));
      else this.allowedNames.add(bare(entry));
    }
  }

  /**
   * Checks what can be checked before connecting: the scheme, the host name, and the host
   * when it is an IP literal (the connector never resolves those). Returns the parsed URL.
   */
  checkUrl(raw: string | URL): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      // The message of a URL parse error repeats the input; the input is ours to describe.
      throw new DamselflyError('DF_ERR_VALIDATION', 'the origin URL is not a valid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new DamselflyError('DF_ERR_FORBIDDEN_ORIGIN', `only http and https origins are allowed, not ${url.protocol}`);
    }
    const host = bare(url.hostname);
    if (this.policy.allowPrivateOrigins || this.allowedNames.has(host)) return url;
    if (FORBIDDEN_NAMES.has(host)) throw forbidden(host);
    if (isIP(host) && this.isForbiddenAddress(host)) throw forbidden(host);
    return url;
  }

  /** The address, or an IPv4 address it embeds, is forbidden and not allowed by the list. */
  isForbiddenAddress(ip: string): boolean {
    if (this.policy.allowPrivateOrigins) return false;
    const candidates = isIP(ip) === 6 ? [ip.replace(/%.*$/, ''), ...embeddedIpv4(ip)] : [ip];
    return candidates.some((a) => this.forbidden.check(a, family(a)) && !this.allowedBlocks.check(a, family(a)));
  }

  /**
   * A `lookup` for the socket connector: it resolves, refuses the whole name if any of its
   * addresses is forbidden (DNS rebinding could otherwise alternate), and hands the checked
   * addresses to the socket, so the address connected to is the address checked.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const name = bare(hostname);
    this.resolveAll(name, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const allowedByName = this.policy.allowPrivateOrigins || this.allowedNames.has(name);
      const bad = allowedByName ? undefined : FORBIDDEN_NAMES.has(name) ? name : addresses.find((a) => this.isForbiddenAddress(a.address))?.address;
      if (bad !== undefined) return callback(forbidden(`${name} (${bad})`) as unknown as NodeJS.ErrnoException, '', 0);
      // dns.lookup's contract: the caller (the socket) reports ENOTFOUND like any failed lookup.
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${name}`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function forbidden(what: string): DamselflyError {
  return new DamselflyError('DF_ERR_FORBIDDEN_ORIGIN', `the origin ${what} is a link-local or cloud metadata address; allow it with allowPrivateOrigins or the allow list`);
}

/**
 * The IPv4 addresses an IPv6 address embeds by a standard translation or tunnelling scheme:
 * IPv4-compatible ::/96, IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, NAT64
 * 64:ff9b::/96 and 64:ff9b:1::/48 (RFC 6052, as /96), 6to4 2002::/16, Teredo 2001::/32 (server
 * and de-obfuscated client) and ISATAP (interface id 0:5efe / 200:5efe).
 */
export function embeddedIpv4(ip: string): string[] {
  const g = ipv6Groups(ip);
  if (!g) return [];
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  const out: string[] = [];
  if (zero(0, 5) && (g[5] === 0 || g[5] === 0xffff)) out.push(v4(g[6]!, g[7]!));
  if (zero(0, 4) && g[4] === 0xffff && g[5] === 0) out.push(v4(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b && (zero(2, 6) || g[2] === 1)) out.push(v4(g[6]!, g[7]!));
  if (g[0] === 0x2002) out.push(v4(g[1]!, g[2]!));
  if (g[0] === 0x2001 && g[1] === 0) out.push(v4(g[2]!, g[3]!), v4(g[6]! ^ 0xffff, g[7]! ^ 0xffff));
  if ((g[4] === 0 || g[4] === 0x200) && g[5] === 0x5efe) out.push(v4(g[6]!, g[7]!));
  return out;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail and a zone allowed). */
function ipv6Groups(ip: string): number[] | undefined {
  let text = ip.replace(/%.*$/, '').toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail, ...more] = text.split('::');
  if (more.length > 0) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const fill = 8 - left.length - right.length;
  if (fill < 0 || (tail === undefined && fill !== 0)) return undefined;
  const groups = [...left, ...new Array<number>(fill).fill(0), ...right];
  return groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : undefined;
}
