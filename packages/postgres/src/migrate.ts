import type pg from 'pg';
import { checkOut } from './checked-out-client.js';
import { SCHEMA_VERSION, schemaSql } from './schema-sql.js';

/**
 * Creates or completes bg's tables in `schema` over one connection of `pool`: nothing when
 * the schema is at {@link SCHEMA_VERSION} already, else {@link schemaSql} in a transaction
 * (rolled back on failure). Errors are node-postgres's (the caller maps them).
 */
export async function migrateSchema(pool: pg.Pool, schema: string, versionSql: string): Promise<void> {
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
      await client.query(schemaSql(schema));
      await client.query('commit');
    } catch (error) {
      await client.query('rollback').catch(() => {});
      throw error;
    }
  } finally {
    held.release();
  }
}
