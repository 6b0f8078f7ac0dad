#!/usr/bin/env node
// `dfget URL -o FILE ...` is `damselfly get URL -o FILE ...` (Dragonfly users' muscle memory).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli.ts');
await main([process.argv[0], process.argv[1], 'get', ...process.argv.slice(2)]);
