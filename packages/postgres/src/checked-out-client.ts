import type pg from 'pg';

/** A client taken from a pool for several queries, and how to give it back. */
export interface CheckedOutClient {
  readonly client: pg.PoolClient;
  /**
   * Gives the client back; `broken` (or a lost connection) destroys it instead of reusing it.
   * Only the first call counts (a relay's `stop()` may destroy a client its round still holds).
   */
  release(broken?: boolean): void;
}

/**
 * Takes a client from `pool` for several queries (a transaction, a migration). While a client
 * is out, the pool no longer listens for its `error` event: a connection lost between two
 * queries (the server restarted) would be an unhandled `'error'` that ends the process. This
 * listens for it until the release, so the next query fails instead (and the caller's error
 * handling sees it), and the lost client is destroyed, not reused. The listener is attached in
 * the pool's own callback, in the turn the client is handed over: a promise would leave a gap in
 * which a failure read together with the end of the connection's start-up (a server restarting
 * while a process boots) has nobody listening.
 */
export function checkOut(pool: pg.Pool): Promise<CheckedOutClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client, done) => {
      if (error || client === undefined) {
        reject(error ?? new Error('the pool handed over no client'));
        return;
      }
      let lost = false;
      let released = false;
      const onError = (): void => {
        lost = true;
      };
      client.on('error', onError);
      resolve({
        client,
        release(broken = false) {
          if (released) return;
          released = true;
          client.off('error', onError);
          done(broken || lost);
        },
      });
    });
  });
}
