import { Command } from 'commander';
import { request } from 'undici';
import { DamselflyError } from '../../core/errors.ts';
import { ClusterView } from '../http/routes/cluster-routes.ts';

/** `damselfly cluster status`: the operator view (GET /api/v1/cluster) of any replica. */
export function clusterCommand(): Command {
  const status = new Command('status')
    .description('replicas, shard leases, epochs and relay lag, as one replica sees them')
    .option('--node <host:port>', 'any replica of the cluster', '127.0.0.1:8002')
    .option('--json', 'print the API\'s JSON answer')
    .exitOverride()
    .action(async (flags: { node: string; json?: boolean }) => {
      const token = process.env.DAMSELFLY_TOKEN;
      const res = await request(`http://${flags.node}/api/v1/cluster`, { headers: token ? { authorization: `Bearer ${token}` } : {} }).catch((err: Error) => {
        throw new DamselflyError('DF_ERR_SUPERNODE_UNREACHABLE', `cannot reach ${flags.node}: ${err.message}`);
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new DamselflyError('DF_ERR_SUPERNODE_REJECTED', `${flags.node} answered ${res.statusCode}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
      const view = ClusterView.parse(JSON.parse(text));
      process.stdout.write(flags.json ? `${JSON.stringify(view)}\n` : render(view));
    });
  return new Command('cluster').description('inspect a supernode cluster').addCommand(status).exitOverride();
}

function render(view: ClusterView): string {
  const epochs = new Map<string, number[]>();
  for (const s of view.shards) if (s.held && s.owner) epochs.set(s.owner, [...(epochs.get(s.owner) ?? []), s.epoch]);
  const unowned = view.shards.filter((s) => !s.held).map((s) => s.shard);
  const never = view.shardCount - view.shards.length;
  const lines = [
    `cluster seen by ${view.self}: ${view.replicas.length} live replica(s), ${view.shardCount} shards, lease TTL ${view.leaseTtlMs} ms`,
    '',
    `${'REPLICA'.padEnd(24)} ${'ADDRESS'.padEnd(22)} ${'SHARDS'.padStart(6)}  EPOCHS`,
    ...view.replicas.map((r) => {
      const e = epochs.get(r.replicaId) ?? [];
      const range = e.length ? `${Math.min(...e)}..${Math.max(...e)}` : '-';
      return `${r.replicaId.padEnd(24)} ${r.address.padEnd(22)} ${String(r.shards).padStart(6)}  ${range}`;
    }),
    '',
    `unowned shards: ${unowned.length + never}${unowned.length ? ` (${unowned.slice(0, 20).join(', ')}${unowned.length > 20 ? ', …' : ''})` : ''}`,
    `relay lag (${view.self}): ${view.relayLag} event(s); warm copies: ${view.warmCopies} task(s)`,
  ];
  return `${lines.join('\n')}\n`;
}
