import { MAX_TIMER_MS } from '@bg/core';
import { abortableSleep, BgError } from '@bg/core/adapter';
import type pg from 'pg';
import { checkOut } from './checked-out-client.js';
import { migrationLockName, SCHEMA_VERSION, schemaSql } from './schema-sql.js';

/**
 * A query exempt from the pool's `query_timeout` (the adapter's `queryTimeoutMs`): waiting for
 * another process's migration lock, or building an index on a large table, may take longer.
 */
function unbounded(text: string, values?: unknown[]): pg.QueryConfig {
  return { text, ...(values === undefined ? {} : { values }), query_timeout: MAX_TIMER_MS } as pg.QueryConfig;
}

/** How often a migration waiting for another process's migration lock tries it again (ms). */
const LOCK_RETRY_MS = 100;

/**
 * Takes the schema's migration lock for this transaction, waiting while another process holds
 * it (its migration, maybe a long index build). It is tried, not waited for on the server: a
 * close() of the adapter (`signal`) ends the wait at once (`CLOSED`), where a server-side wait
 * held the connection, and so close(), until the other process let go.
 */
async function lockForMigration(client: pg.PoolClient, schema: string, signal: AbortSignal | undefined): Promise<void> {
  const name = migrationLockName(schema);
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_xact_lock(hashtext($1)) as locked', [name]);
    if (rows[0]?.locked === true) return;
    if (signal?.aborted) throw closedWhileWaiting();
    await abortableSleep(LOCK_RETRY_MS, signal);
    if (signal?.aborted) throw closedWhileWaiting();
  }
}

const closedWhileWaiting = (): BgError =>
  new BgError('CLOSED', 'the postgres adapter was closed while it waited for another process to migrate the schema');

/** The schema's version as this transaction sees it (undefined: no bg tables), without aborting it. */
async function versionIn(client: pg.PoolClient, versionSql: string): Promise<number | undefined> {
  await client.query('savepoint bg_version');
  try {
    const version = (await client.query<{ version: number | null }>(versionSql)).rows[0]?.version;
    await client.query('release savepoint bg_version');
    return version ?? undefined;
  } catch {
    await client.query('rollback to savepoint bg_version');
    return undefined;
  }
}

/**
 * Creates or completes bg's tables in `schema` over one connection of `pool`: nothing when
 * the schema is at {@link SCHEMA_VERSION} already, else {@link schemaSql} in a transaction
 * (rolled back on failure). The version is read again under the migration lock: a process that
 * waited for another one's migration runs nothing (the script's `create index if not exists`
 * would lock tables the other processes are sending to, and could deadlock with their keyed
 * sends, which lock `dedup` before `jobs`). While another process holds the lock, `signal` (the
 * adapter's close) ends the wait with `CLOSED`. Errors are node-postgres's (the caller maps them).
 */
export async function migrateSchema(pool: pg.Pool, schema: string, versionSql: string, signal?: AbortSignal): Promise<void> {
  const held = await checkOut(pool);
  const { client } = held;
  try {
    const current = await client
      .query<{ version: number }>(versionSql)
      .then((r) => r.rows[0]?.version)
      .catch(() => undefined);
    if (current !== undefined && current !== null && current >= SCHEMA_VERSION) return;
    await client.query('begin');
    try {
      // Nor by the pool's statement_timeout, for this transaction only.
      await client.query('set local statement_timeout = 0');
      await lockForMigration(client, schema, signal);
      const locked = await versionIn(client, versionSql);
      if (locked === undefined || locked < SCHEMA_VERSION) await client.query(unbounded(schemaSql(schema)));
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  } finally {
    held.release();
  }
}
