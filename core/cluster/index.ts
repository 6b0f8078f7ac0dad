export * from './shard-of.ts';
export * from './desired-shards.ts';
