import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { originOnlyLowerBoundSeconds } from '../lower-bound.ts';
import { runImageBench } from './image-run.ts';
import { imageTable } from './image-table.ts';

const DEMO_DIR = '.damselfly/demo-image';

const Flags = z.object({
  daemons: z.coerce.number().int().min(1).max(16),
  size: sizeOption.pipe(z.number().int().min(1024)),
  registryUpload: sizeOption.pipe(z.number().int().positive()),
  nodeUpload: sizeOption.pipe(z.number().int().positive()),
  baseline: z.boolean().optional(),
});

/**
 * `damselfly demo image` (npm run demo:image): `bench image` small enough to watch — a real
 * docker-registry with a capped upload, a supernode and a few `damselfly daemon` processes
 * that pull one 3-layer image at the same moment. The registry sends each blob once; the
 * daemons send the rest to each other. Its files stay in .damselfly/demo-image/.
 */
export function demoImageCommand(): Command {
  return new Command('image')
    .description('pull one image through several daemons at once (registry and node uploads capped)')
    .option('--daemons <n>', 'daemon processes, one pull each', '4')
    .option('--size <size>', 'image size (3 layers)', '48MiB')
    .option('--registry-upload <rate>', 'cap on the registry and the CDN (bytes/s)', '8MiB')
    .option('--node-upload <rate>', 'each daemon\'s upload cap (bytes/s)', '4MiB')
    .option('--baseline', 'also time the same pulls straight from the registry')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'demo image');
      const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
      process.stdout.write(`damselfly demo image: ${f.daemons} daemons pull one ${mib(f.size)} image at the same moment; registry capped at ${mib(f.registryUpload)}/s, each daemon's upload at ${mib(f.nodeUpload)}/s\n`);
      const r = await runImageBench({
        daemons: f.daemons,
        layers: 3,
        imageBytes: f.size,
        caps: { registryUpload: f.registryUpload, cdnUpload: f.registryUpload, nodeUpload: f.nodeUpload },
        baseline: f.baseline ?? false,
        dir: DEMO_DIR,
        onStep: (what) => process.stdout.write(`  ${what}\n`),
        onPullDone: (round, i, p) => {
          const largest = p.blobs.reduce((a, b) => (b.size > a.size ? b : a));
          const where = round === 'p2p' ? `through daemon ${i}` : `straight from the registry (client ${i})`;
          process.stdout.write(`    pulled ${where} in ${(p.doneMs / 1000).toFixed(2)} s; largest layer's first byte after ${(largest.firstByteMs / 1000).toFixed(2)} s\n`);
        },
      });
      process.stdout.write(`\n${imageTable(r)}`);
      if (!r.baseline) {
        const alone = originOnlyLowerBoundSeconds({ fileBytes: r.imageBytes, peers: r.nodes, serverUpload: f.registryUpload, minDownload: Infinity });
        process.stdout.write(`  straight from the registry, ${r.nodes} pulls could not take less than ${alone.toFixed(2)} s (--baseline times them)\n`);
      }
      if (!r.pullsVerified || r.baseline?.pullsVerified === false) throw new Error('a pull did not get the pushed image');
    });
}
