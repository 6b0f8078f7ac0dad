import { writeHeapSnapshot } from 'node:v8';
import { runSimulation } from './simulate/simulate-run.ts';
let done = false;
runSimulation({ peers: 5000, pieceCount: 256, pieceMs: 250, parallelism: 6, seed: 1, onProgress: (p) => {
  if (!done && p.virtualSeconds >= 6) { done = true; global.gc?.(); console.log(process.memoryUsage().heapUsed / 2 ** 20, 'MiB'); console.log(writeHeapSnapshot('/tmp/s13/sim5k.heapsnapshot')); }
} });
