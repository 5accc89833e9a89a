import type pg from 'pg';
import type { Statements } from './statements.js';
import { inTransaction } from './transaction.js';

/**
 * Deletes `queue` (its row, jobs, dead letters and deduplication keys) in one transaction of two
 * statements: the queue's row first, which waits for the writers holding it (a send, a replay, a
 * dead letter) and turns later ones away, then the rest, with a snapshot that sees what the
 * writers it waited for stored. Whether the queue existed (its row, or any row of it). Errors are
 * node-postgres's (the caller maps them); a failure rolls back.
 */
export function deleteQueueRows(pool: pg.Pool, sql: Statements, queue: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const row = await client.query(sql.deleteQueueRow, [queue]);
    const contents = await client.query<{ stored: boolean }>(sql.deleteQueueContents, [queue]);
    return (row.rowCount ?? 0) > 0 || contents.rows[0]?.stored === true;
  });
}
