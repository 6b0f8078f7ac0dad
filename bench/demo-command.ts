import { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../edge/cli/parse-options.ts';
import { runSwarm } from './swarm/swarm-run.ts';
import { demoImageCommand } from './image/demo-image-command.ts';

const DEMO_DIR = '.damselfly/demo';

const Flags = z.object({
  peers: z.coerce.number().int().min(1).max(64),
  size: sizeOption,
  peerUpload: sizeOption,
  originUpload: sizeOption,
});

/**
 * `damselfly demo` (npm run demo): the main job on the embedded default. An origin serving a
 * generated file, an embedded supernode process and N `damselfly get` processes; the file
 * travels P2P and the report shows time against the lower bound, origin bytes against the
 * file size, pieces served by peers against the CDN, and whether every copy is identical.
 * Links are capped (as on a real network) so that the P2P effect is visible on one machine.
 * `damselfly demo image` pulls a container image through several daemons instead.
 */
export function demoCommand(): Command {
  return new Command('demo')
    .description('distribute a generated file from an origin to N peers through an embedded supernode')
    .option('--peers <n>', 'peer processes', '8')
    .option('--size <size>', 'file size', '64MiB')
    .option('--peer-upload <rate>', 'each peer\'s upload cap (bytes/s)', '8MiB')
    .option('--origin-upload <rate>', 'cap on the origin and the CDN (bytes/s)', '16MiB')
    .addCommand(demoImageCommand())
    .enablePositionalOptions()
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'demo');
      const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
      process.stdout.write(`damselfly demo: ${f.peers} peers fetch a ${mib(f.size)} file; origin+CDN capped at ${mib(f.originUpload)}/s, each peer's upload at ${mib(f.peerUpload)}/s\n`);
      const bar = new SingleBar({ format: ' peers done [{bar}] {value}/{total}  {last}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 1000 }, Presets.shades_classic);
      bar.start(f.peers, 0, { last: '' });
      let done = 0;
      const r = await runSwarm({
        peers: f.peers,
        fileBytes: f.size,
        peerUpload: f.peerUpload,
        originUpload: f.originUpload,
        mode: 'p2p',
        dir: DEMO_DIR,
        onPeerDone: (i, res) => bar.update(++done, { last: `peer ${i}: ${res.seconds.toFixed(2)} s, ${res.fromPeers ?? 0} pieces from peers, ${res.fromCdn ?? 0} from CDN` }),
      });
      bar.stop();
      const lines = [
        '',
        `task               ${r.taskId ?? '?'}`,
        `distribution time  ${r.seconds.toFixed(2)} s   (P2P lower bound ${r.lowerBoundSeconds.toFixed(2)} s, ratio ${r.ratioToBound.toFixed(2)})`,
        `origin bytes       ${mib(r.originBytes)} for a ${mib(r.fileBytes)} file (${r.originBytesRatio.toFixed(3)} ×); all-from-origin would send ${mib(r.fileBytes * r.peers)}`,
        `pieces             ${r.piecesFromPeers} from peers, ${r.piecesFromCdn} from the CDN`,
        `outputs            ${r.filesIdentical ? `all ${r.peers} byte-identical to the origin` : 'MISMATCH'}`,
        '',
        'every assignment and piece result is an event in the embedded store; look:',
        `  npx damselfly history --task ${r.taskId} --data-dir ${DEMO_DIR}/supernode`,
        `  npx damselfly replay --task ${r.taskId} --data-dir ${DEMO_DIR}/supernode`,
        '',
      ];
      process.stdout.write(lines.join('\n'));
      if (!r.filesIdentical) throw new Error('an output differs from the origin');
    });
}
