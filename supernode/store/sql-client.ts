import { DamselflyError } from '../../core/errors.ts';

/**
 * The little SQL surface the event store and the migrator need, so that one implementation
 * (SqlEventStore, migrate) runs on both PostgreSQL (pg Pool) and PGlite. Adapters:
 * pg-sql-client.ts and pglite-sql-client.ts. Results are plain row objects; column types may
 * differ between drivers (pg returns int8 as a string, PGlite as a number), so callers convert
 * explicitly (Number(), ::text casts) rather than trusting either.
 */
export interface SqlQueryable {
  /**
   * One statement, with $1.. parameters. `name` makes it a prepared statement, parsed and
   * planned once per connection (the append statement spends over half its time there);
   * adapters without named statements ignore it. One name must always mean one text.
   */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], name?: string): Promise<R[]>;
  /** Several statements, no parameters (migrations). */
  exec(text: string): Promise<void>;
}

export interface SqlClient extends SqlQueryable {
  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** Which engine this is, for error messages and MalformedEvent's `where`. */
  readonly engine: 'postgres' | 'pglite';
  close(): Promise<void>;
}

/** The SQLSTATE of a driver error (both drivers put it in `code`), or undefined. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Schema names end up in SQL text (identifiers cannot be parameters), so only plain ones pass. */
export function assertSchemaName(schema: string): void {
  if (!SCHEMA_NAME.test(schema)) throw new DamselflyError('DF_ERR_VALIDATION', `invalid schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*`);
}
