// Moved to bench/cluster (the failover benchmark runs replicas too); kept so the chaos files import one place.
export * from '../../bench/cluster/replica-process.ts';
