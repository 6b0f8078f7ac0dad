export { download, startDownload, type Download, type DownloadOptions, type DownloadResult } from './download.ts';
export { getCommand } from './get-command.ts';
export { SupernodeClient, SupernodeRejected, SupernodesUnreachable } from './supernode-client.ts';
export { SwarmCounters } from './swarm-counters.ts';
