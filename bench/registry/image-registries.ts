import { join } from 'node:path';
import { startRegistry, type LocalRegistry } from './local-registry.ts';
import { buildOciLayout, pushImage, type BuiltImage } from './oci-image.ts';

export interface ImageRegistries {
  image: BuiltImage;
  /** Anonymous pulls. */
  open: LocalRegistry;
  /** htpasswd: pulls need `creds`. */
  private: LocalRegistry;
}

/**
 * What the daemon's end-to-end tests pull from: one image of `layers` (sizes in bytes), built
 * fresh under `dir` and pushed as `team/app:v1` to an open registry and to one that requires
 * `creds`, so every test can check both the swarm and the privacy rule on the same blobs.
 */
export async function startImageRegistries(dir: string, layers: number[], creds: { user: string; password: string }): Promise<ImageRegistries> {
  const image = await buildOciLayout(join(dir, 'layout'), { layers, seed: dir });
  const [open, locked] = await Promise.all([startRegistry({ dir: join(dir, 'registry') }), startRegistry({ dir: join(dir, 'private'), auth: creds })]);
  await pushImage(join(dir, 'layout'), `${open.host}/team/app:v1`);
  await pushImage(join(dir, 'layout'), `${locked.host}/team/app:v1`, { creds });
  return { image, open, private: locked };
}
