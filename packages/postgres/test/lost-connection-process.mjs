// A process whose effectivelyOnce transaction loses its connection between two queries (the
// parent terminates the backend while the handler waits). Reports how the call ended; an
// unhandled 'error' event on the checked-out client would end the process instead.
import pg from 'pg';
import { effectivelyOnce } from '../dist/index.js';

const db = new pg.Pool({ connectionString: process.env.BG_TEST_PG_URL, max: 2 });
db.on('error', () => {});
const handler = effectivelyOnce({ db, schema: process.env.BG_TEST_SCHEMA }, async (_payload, ctx) => {
  const { rows } = await ctx.tx.query('select pg_backend_pid() as pid');
  const ended = new Promise((resolve) => ctx.tx.once('end', resolve));
  process.send({ pid: rows[0].pid });
  await ended;
  await ctx.tx.query('select 1');
});
let outcome;
try {
  await handler({}, { jobId: `lost-${process.pid}` });
  outcome = { outcome: 'resolved' };
} catch (error) {
  outcome = { outcome: 'rejected', message: error instanceof Error ? error.message : String(error) };
}
const after = await db.query('select 1 as one').then(
  (r) => r.rows[0].one,
  (error) => `pool failed: ${error.message}`,
);
await db.end();
process.send({ ...outcome, after }, () => process.exit(0));
