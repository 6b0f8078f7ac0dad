// The helper lives with the benchmarks (they need fresh databases too); tests import it from here.
export * from '../../bench/cluster/fresh-database.ts';
