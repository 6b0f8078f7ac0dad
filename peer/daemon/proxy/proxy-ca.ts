import { createPrivateKey, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DamselflyError, usageError } from '../../../core/errors.ts';
import { subtle, x509, type CryptoKey, type SigningAlgorithm } from './x509.ts';

/** The CA the daemon signs its interception certificates with. */
export interface ProxyCa {
  /** PEM. */
  cert: string;
  /** PKCS#8 PEM. */
  key: string;
  /** Where the certificate is, for the trust instructions. */
  certPath: string;
  /** Whether this start created it. */
  generated: boolean;
}

/** The CA as issuing needs it: parsed once. */
export interface CaSigner {
  cert: InstanceType<typeof x509.X509Certificate>;
  key: CryptoKey;
  algorithm: SigningAlgorithm;
}

const EC_SIGNING = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const CA_YEARS = 10;

/**
 * The CA given (`--ca-cert`/`--ca-key`) or, without them, the one generated into
 * `<dataDir>/proxy-ca/` on the first start and reused after: clients are told to trust it once.
 * The key is written 0600 in a 0700 folder, and the certificate last, so a start that died
 * half-way leaves no certificate without its key.
 */
export async function loadProxyCa(o: { certPath?: string; keyPath?: string; dataDir: string }): Promise<ProxyCa> {
  if (o.certPath || o.keyPath) {
    if (!o.certPath || !o.keyPath) throw usageError('daemon: --ca-cert and --ca-key go together');
    return { ...(await readCa(o.certPath, o.keyPath)), certPath: o.certPath, generated: false };
  }
  const dir = join(o.dataDir, 'proxy-ca');
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  try {
    return { ...(await readCa(certPath, keyPath)), certPath, generated: false };
  } catch (e) {
    if ((e as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENOENT') throw e;
  }
  const ca = await generateCa();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeAtomically(keyPath, ca.key, 0o600);
  await writeAtomically(certPath, ca.cert, 0o644);
  return { ...ca, certPath, generated: true };
}

async function readCa(certPath: string, keyPath: string): Promise<{ cert: string; key: string }> {
  const read = async (path: string) => {
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new DamselflyError('DF_ERR_USAGE', `daemon: cannot read the proxy CA file ${path}: ${(e as Error).message}`, { cause: e });
    }
  };
  const [cert, key] = [await read(certPath), await read(keyPath)];
  // Normalise whatever PEM the operator has (PKCS#1, SEC1, PKCS#8) to PKCS#8, which webcrypto imports.
  let pkcs8: string;
  try {
    pkcs8 = createPrivateKey(key).export({ type: 'pkcs8', format: 'pem' }).toString();
    new x509.X509Certificate(cert);
  } catch (e) {
    throw usageError(`daemon: the proxy CA (${certPath}, ${keyPath}) is not a PEM certificate and private key: ${(e as Error).message}`);
  }
  return { cert, key: pkcs8 };
}

async function generateCa(): Promise<{ cert: string; key: string }> {
  const keys = await subtle.generateKey(EC_SIGNING, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Damselfly daemon proxy CA ${randomBytes(4).toString('hex')}`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + CA_YEARS * 365 * 86_400_000),
    keys,
    signingAlgorithm: EC_SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const key = x509.PemConverter.encode(await subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  return { cert: cert.toString('pem'), key };
}

/** The CA's key imported for signing, with the algorithm its key type signs with. */
export async function caSigner(ca: { cert: string; key: string }): Promise<CaSigner> {
  const info = createPrivateKey(ca.key);
  const der = info.export({ type: 'pkcs8', format: 'der' });
  let algorithm: SigningAlgorithm;
  if (info.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[info.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw usageError(`daemon: the proxy CA's EC curve ${info.asymmetricKeyDetails?.namedCurve} is not supported (P-256, P-384, P-521)`);
    algorithm = { name: 'ECDSA', namedCurve: curve, hash: 'SHA-256' };
  } else if (info.asymmetricKeyType === 'rsa') {
    algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  } else {
    throw usageError(`daemon: the proxy CA's key type ${info.asymmetricKeyType} is not supported (EC or RSA)`);
  }
  const key = await subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
  return { cert: new x509.X509Certificate(ca.cert), key, algorithm };
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: positive, at most 20 octets, unpredictable). */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

async function writeAtomically(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode); // the umask may have taken bits from `mode`
  await rename(tmp, path);
}
