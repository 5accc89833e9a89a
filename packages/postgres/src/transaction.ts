import type pg from 'pg';
import { checkOut } from './checked-out-client.js';

/**
 * Runs `work` in one transaction on a client of `pool`: `begin`, `work`, `commit`; a failure
 * rolls back (a client whose rollback fails too is destroyed, not reused) and is thrown as is.
 * Errors are node-postgres's (the caller maps them).
 */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const held = await checkOut(pool);
  const { client } = held;
  let broken = false;
  try {
    await client.query('begin');
    try {
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => {
        broken = true;
      });
      throw error;
    }
  } finally {
    held.release(broken);
  }
}
