import { webcrypto } from 'node:crypto';

/**
 * @peculiar/x509 over Node's webcrypto, the one import of it. The library resolves its ASN.1
 * providers through tsyringe, which refuses to load without the Reflect metadata API
 * (`reflect-metadata` or core-js). Neither is a dependency yet, so until one is, the three
 * functions tsyringe calls are provided here, and only where no polyfill already is:
 * x509's classes are not compiled with decorator metadata, so nothing reads anything but what
 * tsyringe itself wrote.
 */
type MetadataTarget = object;
const store = new WeakMap<MetadataTarget, Map<unknown, unknown>>();
const reflect = Reflect as unknown as Record<string, unknown>;
if (typeof reflect['getMetadata'] !== 'function') {
  const own = (key: unknown, target: MetadataTarget) => store.get(target)?.get(key);
  reflect['defineMetadata'] = (key: unknown, value: unknown, target: MetadataTarget) => {
    if (!store.has(target)) store.set(target, new Map());
    store.get(target)!.set(key, value);
  };
  reflect['getOwnMetadata'] = own;
  reflect['getMetadata'] = (key: unknown, target: MetadataTarget): unknown => {
    for (let t: MetadataTarget | null = target; t; t = Object.getPrototypeOf(t) as MetadataTarget | null) {
      const value = own(key, t);
      if (value !== undefined) return value;
    }
    return undefined;
  };
}

const x509 = await import('@peculiar/x509');
x509.cryptoProvider.set(webcrypto as never);

export { x509 };
export const subtle = webcrypto.subtle;
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
/** What a CA key signs with, usable both to import the key and to sign (ECDSA needs the curve for one, the hash for the other). */
export type SigningAlgorithm = (webcrypto.EcKeyImportParams & webcrypto.EcdsaParams) | webcrypto.RsaHashedImportParams;
