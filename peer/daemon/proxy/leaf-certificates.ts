import { isIP } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { LRUCache } from 'lru-cache';
import { caSigner, serialNumber, type CaSigner } from './proxy-ca.ts';
import { subtle, x509, type CryptoKeyPair } from './x509.ts';

const LEAF_KEY = { name: 'ECDSA', namedCurve: 'P-256' };
const DAY_MS = 86_400_000;
/** Short-lived: a leaf is re-issued after a week in the cache and valid for two, so none a client holds outlives its host's entry by much. */
const LEAF_VALID_MS = 14 * DAY_MS;
const CACHE_TTL_MS = 7 * DAY_MS;

export interface LeafIssuer {
  /** A TLS context presenting a certificate for `host` (a DNS name or an IP address) signed by the CA. */
  contextFor(host: string): Promise<SecureContext>;
  /** The same certificate and its key as PEM, for a server that takes them as files. */
  certificateFor(host: string): Promise<{ cert: string; key: string }>;
}

/**
 * Interception certificates on demand, one per host name and cached (the signature is the cost:
 * a few milliseconds). Every leaf shares one key pair made at the first issue, as mitmproxy's
 * do: the key never leaves this process and a fresh one per host would buy nothing but time.
 */
export function createLeafIssuer(ca: { cert: string; key: string }, o: { maxHosts?: number } = {}): LeafIssuer {
  let material: Promise<{ signer: CaSigner; keys: CryptoKeyPair; keyPem: string }> | undefined;
  const cache = new LRUCache<string, Promise<{ cert: string; key: string; context: SecureContext }>>({ max: o.maxHosts ?? 1024, ttl: CACHE_TTL_MS });
  const prepare = async () => {
    const keys = (await subtle.generateKey({ ...LEAF_KEY }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const keyPem = x509.PemConverter.encode(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
    return { signer: await caSigner(ca), keys, keyPem };
  };
  const issue = async (host: string) => {
    material ??= prepare();
    const { signer, keys, keyPem } = await material;
    const now = Date.now();
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject: `CN=${host.replace(/[,+="\\<>;#]/g, '')}`,
      issuer: signer.cert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_VALID_MS),
      publicKey: keys.publicKey,
      signingKey: signer.key,
      signingAlgorithm: signer.algorithm,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? 'ip' : 'dns', value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(signer.cert, false),
      ],
    });
    const cert = leaf.toString('pem');
    return { cert, key: keyPem, context: createSecureContext({ key: keyPem, cert }) };
  };
  const issued = (host: string) => {
    const name = host.toLowerCase();
    let leaf = cache.get(name);
    if (!leaf) {
      leaf = issue(name);
      cache.set(name, leaf);
      // A failed issue is not cached: the next handshake for the host tries again.
      leaf.catch(() => cache.delete(name));
    }
    return leaf;
  };
  return {
    contextFor: async (host) => (await issued(host)).context,
    certificateFor: async (host) => {
      const { cert, key } = await issued(host);
      return { cert, key };
    },
  };
}
