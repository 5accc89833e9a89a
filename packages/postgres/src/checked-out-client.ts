import type pg from 'pg';

/** A client taken from a pool for several queries, and how to give it back. */
export interface CheckedOutClient {
  readonly client: pg.PoolClient;
  /** Gives the client back; `broken` (or a lost connection) destroys it instead of reusing it. */
  release(broken?: boolean): void;
}

/**
 * Takes a client from `pool` for several queries (a transaction, a migration). While a client
 * is out, the pool no longer listens for its `error` event: a connection lost between two
 * queries (the server restarted) would be an unhandled `'error'` that ends the process. This
 * listens for it until the release, so the next query fails instead (and the caller's error
 * handling sees it), and the lost client is destroyed, not reused.
 */
export async function checkOut(pool: pg.Pool): Promise<CheckedOutClient> {
  const client = await pool.connect();
  let lost = false;
  const onError = (): void => {
    lost = true;
  };
  client.on('error', onError);
  return {
    client,
    release(broken = false) {
      client.off('error', onError);
      client.release(broken || lost);
    },
  };
}
