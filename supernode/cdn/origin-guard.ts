import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { DamselflyError } from '../../core/errors.ts';

/**
 * Which origins the CDN may fetch from. The supernode fetches URLs that peers hand it, so
 * without a guard any peer could make it read the cloud metadata service (SSRF: instance
 * credentials at 169.254.169.254). Refused unless configured: link-local addresses
 * (169.254.0.0/16, fe80::/10, which include the AWS/GCP/Azure/OpenStack metadata endpoint),
 * AWS's IPv6 metadata address, Alibaba's 100.100.100.200, and the metadata host names.
 * Loopback and RFC 1918 stay allowed: tests and the demo run origins on 127.0.0.1, and
 * in-cluster registries commonly live on private addresses.
 */
export interface OriginPolicy {
  /** Allow every address (a lab setup, or an origin that really is link-local). */
  allowPrivateOrigins?: boolean;
  /** Host names, IP addresses or CIDR blocks ("169.254.10.0/24") allowed despite the rules. */
  allowList?: readonly string[];
}

type LookupAll = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

const FORBIDDEN_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

function forbiddenBlocks(): BlockList {
  const blocks = new BlockList();
  blocks.addSubnet('169.254.0.0', 16, 'ipv4');
  blocks.addSubnet('fe80::', 10, 'ipv6');
  blocks.addAddress('fd00:ec2::254', 'ipv6');
  blocks.addAddress('100.100.100.200', 'ipv4');
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

  isForbiddenAddress(ip: string): boolean {
    if (this.policy.allowPrivateOrigins) return false;
    const fam = family(ip);
    return this.forbidden.check(ip, fam) && !this.allowedBlocks.check(ip, fam);
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
