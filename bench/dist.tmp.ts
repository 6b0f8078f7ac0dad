import { runSwarm } from './swarm/swarm-run.ts';
const protocol = (process.argv[2] ?? 'sync') as 'sync' | 'rounds';
const r = await runSwarm({ peers: 20, fileBytes: 32 * 1024 * 1024, peerUpload: 1024 * 1024, originUpload: 4 * 1024 * 1024, mode: 'p2p', protocol });
console.log(protocol, 'ratio', r.ratioToBound.toFixed(3), 'cpu', JSON.stringify(r.cpu));
console.log('finish s', r.peerResults.map((p) => p.seconds).sort((a, b) => a - b).map((s) => s.toFixed(1)).join(' '));
console.log('fromCdn', r.peerResults.map((p) => p.fromCdn).join(' '));
