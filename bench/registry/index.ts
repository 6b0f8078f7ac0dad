// Real container tooling on loopback, for the daemon's tests and `damselfly bench image`:
// Debian's docker-registry, skopeo and containerd, installed by infra/dev/registry-tools.sh.
export { startRegistry, type LocalRegistry, type RegistryOptions } from './local-registry.ts';
export { type RegistryRequest } from './registry-access-log.ts';
export { buildOciLayout, pushImage, type BuiltImage } from './oci-image.ts';
export { startContainerd, type Containerd, type CtrPullOptions } from './containerd.ts';
export { skopeoCopy, type SkopeoCopyOptions } from './skopeo.ts';
export { registryTools, type RegistryTools } from './registry-tools.ts';
export { startImageRegistries, type ImageRegistries } from './image-registries.ts';
