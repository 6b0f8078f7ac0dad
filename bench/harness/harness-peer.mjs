#!/usr/bin/env node
// Launcher of the harness peer (harness-peer.ts), like bin/damselfly.mjs: TypeScript through tsx's loader.
import { register } from 'tsx/esm/api';

register();
await import('./harness-peer.ts');
