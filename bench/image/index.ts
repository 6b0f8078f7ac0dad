// `damselfly bench image` and `damselfly demo image`: N daemons pull one image through the swarm.
export { imageBenchCommand } from './image-command.ts';
export { runImageBench, type ImageBenchOptions } from './image-run.ts';
export { imageBenchSummary, spread, type ImageBenchSummary, type ImageCaps, type ImageRound, type ImageShape } from './image-summary.ts';
export { layerSizes } from './layer-sizes.ts';
export { pullImage, type BlobPull, type ImagePull } from './pull-image.ts';
