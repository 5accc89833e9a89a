import type { Inspector } from '@bg/conformance';
import { uuidv7 } from '@bg/core';
import pg from 'pg';

/** Reads the queue's rows with its own pool of `connections` (not through the adapter). */
export function pgInspector(
  url: string,
  schema: string,
  connections = 2,
): Inspector & { readonly pool: pg.Pool; close(): Promise<void> } {
  const pool = new pg.Pool({ connectionString: url, max: connections });
  pool.on('error', () => {}); // reconnects by itself across the durability case's restart
  const count = async (sql: string, queue: string): Promise<number> => {
    const r = await pool.query<{ n: string }>(sql, [queue]);
    return Number(r.rows[0]?.n ?? 0);
  };
  return {
    pool,
    liveCount: (queue) => count(`select count(*) as n from "${schema}".jobs where queue = $1`, queue),
    deadCount: (queue) => count(`select count(*) as n from "${schema}".dead where queue = $1`, queue),
    async sendRaw(queue, body) {
      const now = Date.now();
      await pool.query(`insert into "${schema}".jobs (queue, id, body, visible_at, enqueued_at) values ($1, $2, $3, $4, $4)`, [
        queue,
        uuidv7(),
        body,
        now,
      ]);
    },
    async close() {
      await pool.end();
    },
  };
}
