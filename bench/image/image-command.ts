import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { runImageBench } from './image-run.ts';
import { imageTable } from './image-table.ts';

const Flags = z.object({
  daemons: z.coerce.number().int().min(1).max(64),
  layers: z.coerce.number().int().min(1).max(32),
  size: sizeOption.pipe(z.number().int().min(1024)),
  registryUpload: sizeOption.pipe(z.number().int().positive()),
  cdnUpload: sizeOption.pipe(z.number().int().positive()).optional(),
  nodeUpload: sizeOption.pipe(z.number().int().positive()),
  baseline: z.boolean(),
  json: z.boolean().optional(),
});

/**
 * `damselfly bench image`: N daemons pull one image at the same moment, cold; the time to the
 * last pull done against the P2P lower bound, registry bytes against the image, the largest
 * layer's first byte against its completion, and the same pulls straight from the registry.
 *
 * Default caps: the registry (and the CDN, which with it is the bound's server) 4 MiB/s, each
 * node 1 MiB/s — those of `bench swarm`, whose runs showed that at twice that, a dozen Node
 * processes on two cores measure the machine rather than the swarm.
 */
export function imageBenchCommand(): Command {
  return new Command('image')
    .description('N daemons pull one image at once through the swarm; compare with the P2P lower bound and with pulls straight from the registry')
    .option('--daemons <n>', 'daemon processes, one pull each', '10')
    .option('--layers <n>', 'layers of the image (one holds half of it)', '4')
    .option('--size <size>', 'image size (layers in all)', '192MiB')
    .option('--registry-upload <rate>', 'cap on what the registry sends (bytes/s)', '4MiB')
    .option('--cdn-upload <rate>', 'cap on the supernode CDN\'s upload to nodes (default: --registry-upload)')
    .option('--node-upload <rate>', 'each daemon\'s upload cap (bytes/s)', '1MiB')
    .option('--no-baseline', 'skip the pulls straight from the registry')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'bench image');
      const result = await runImageBench({
        daemons: f.daemons,
        layers: f.layers,
        imageBytes: f.size,
        caps: { registryUpload: f.registryUpload, cdnUpload: f.cdnUpload ?? f.registryUpload, nodeUpload: f.nodeUpload },
        baseline: f.baseline,
        onStep: f.json ? undefined : (what) => process.stderr.write(`… ${what}\n`),
      });
      process.stdout.write(f.json ? `${JSON.stringify(result)}\n` : imageTable(result));
      if (!result.pullsVerified || result.baseline?.pullsVerified === false) throw new Error('a pull did not get the pushed image (wrong manifest or blob digest)');
    });
}
