import type pg from 'pg';

/** Options of `postgresAdapter`: give a `url`, or a `pool` (the application's own). */
export interface PostgresAdapterOptions {
  /** `postgres://user:password@host:port/database` (`postgresql://` too). */
  readonly url?: string;
  /**
   * Bring your own `pg.Pool` (the application's): the adapter never ends it. One of its
   * connections is kept for LISTEN while a worker waits for jobs.
   */
  readonly pool?: pg.Pool;
  /** Schema of bg's tables (default `bg`). */
  readonly schema?: string;
  /**
   * `'auto'` (default): `ensureQueue` creates or completes the tables (see `schemaSql`)
   * under an advisory lock. `'never'`: the tables must exist (run `migrate()` or the SQL
   * yourself); a missing table is `QUEUE_NOT_FOUND`.
   */
  readonly migrate?: 'auto' | 'never';
  /** Largest body accepted, in bytes (default 1 MiB). */
  readonly maxPayloadBytes?: number;
  /** Connections of the pool the adapter creates from `url` (default 10). */
  readonly poolSize?: number;
  /** How long a connection may take before calls fail with `UNREACHABLE` (default 5 s). */
  readonly connectTimeoutMs?: number;
  /**
   * Longest an idle long poll waits without looking at the table, in case a notification was
   * lost (default 2 000 ms). Notifications and the next delayed job's time wake it sooner.
   */
  readonly pollIntervalMs?: number;
}
