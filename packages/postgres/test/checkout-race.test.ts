import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { checkOut } from '../src/checked-out-client.js';

const url = inject('pgUrl') as string;

/**
 * A pg Client whose connection fails right after it is ready, in the same turn: what a server
 * restart does when its FATAL (57P01) arrives in the same TCP read as the ReadyForQuery that
 * completed the connection (a worker booting while PostgreSQL restarts). Throws of an `error`
 * event nobody listens to are kept, not left to end the test process.
 */
const unhandled: unknown[] = [];
class FailingRightAfterConnect extends pg.Client {
  override connect(callback?: (err: Error) => void): never {
    return super.connect((error: Error) => {
      callback?.(error);
      if (error) return;
      try {
        this.emit('error', new Error('terminating connection due to administrator command (simulated 57P01)'));
      } catch (thrown) {
        unhandled.push(thrown);
      }
    }) as never;
  }
}

describe.skipIf(!url)('checkOut: a client checked out of the pool is never without an error listener', () => {
  const pool = new pg.Pool({ connectionString: url, max: 1, Client: FailingRightAfterConnect as typeof pg.Client });
  pool.on('error', () => {});
  afterAll(async () => {
    await pool.end();
  });

  it('a connection that fails in the turn it became ready is caught, and the client is destroyed on release', async () => {
    const held = await checkOut(pool);
    expect(
      unhandled.map(String),
      "an 'error' event between the pool handing the client over and checkOut listening (it ended a booting worker)",
    ).toEqual([]);
    held.release();
    expect(pool.totalCount, 'the failed client is destroyed on release, not put back in the pool').toBe(0);
  });
});
