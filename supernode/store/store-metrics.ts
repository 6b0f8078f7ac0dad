/**
 * Hooks the supernode wires to prom-client (supernode/metrics.ts); the store itself stays free
 * of a metrics library. Called synchronously after the fact; must not throw.
 */
export interface StoreMetrics {
  /**
   * One group-commit batch: how many appends it carried, how many of them failed alone, and
   * whether it had to be re-run with a savepoint per append (an append failed with an SQL error).
   */
  onCommit?(batch: { appends: number; failed: number; events: number; seconds: number; savepoints: boolean }): void;
  /** One append, from the call to its outcome (queueing included). */
  onAppend?(append: { events: number; seconds: number; ok: boolean }): void;
}
