export { createRegistryMirror, type RegistryMirror, type RegistryMirrorOptions } from './registry-mirror.ts';
