/**
 * The CDN masks origin secrets with the one implementation both sides use (edge/log): by value
 * in its errors and logs (every encoding an echo takes), by name in what it says about headers.
 */
export { maskSecrets, SecretMask, type SecretSource } from '../../edge/log/secret-mask.ts';
export { headerNames } from '../../edge/log/redact.ts';
