/**
 * The web service process: `BG_URL=… PORT=3000 pnpm service`.
 *
 * Environment: `BG_URL` (backend), `BG_QUEUE` (default `signups`), `PORT` (default 3000;
 * 0 picks a free port), `HOST` (default 127.0.0.1), `BG_OUTBOX=1` (PostgreSQL only: each signup
 * writes its user row and its jobs in one transaction through the transactional outbox; run a
 * relay, `src/relay.ts`, to forward them). Prints `{"listening":<port>}` once ready.
 * @module
 */
import { createServer } from 'node:http';
import { type Adapter, BgError, createQueue } from '@bg/core';
import type { PostgresAdapter } from '@bg/postgres';
import { connectBackend } from './connect-backend.js';
import { createApp, type SignupStore } from './http-app.js';
import { ensureUsersTable, outboxSignupStore } from './outbox-signups.js';
import { setupTelemetry } from './telemetry.js';

/** The outbox signup store on the PostgreSQL backend's own pool (the users table is created if missing). */
async function outboxStore(adapter: Adapter, queueName: string): Promise<SignupStore> {
  if (adapter.name !== 'postgres') {
    throw new BgError('INVALID_ARGUMENT', `BG_OUTBOX=1 needs a PostgreSQL BG_URL (got ${adapter.name})`, { retryable: false });
  }
  const pg = adapter as PostgresAdapter;
  await pg.ensureQueue(queueName); // creates bg's tables (the outbox among them) if missing
  await ensureUsersTable(pg.pool);
  return outboxSignupStore(pg.pool, { schema: pg.schema, queue: queueName, capabilities: pg.capabilities });
}

const telemetry = setupTelemetry('bg-example-service');
const adapter = await connectBackend(process.env.BG_URL);
const queue = createQueue({
  adapter,
  queue: process.env.BG_QUEUE ?? 'signups',
  ...(telemetry ? { instrumentation: telemetry.otel } : {}),
});
const app = createApp(queue, process.env.BG_OUTBOX === '1' ? { signups: await outboxStore(adapter, queue.name) } : {});
const server = createServer(telemetry ? telemetry.traced(app) : app);
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
});

let closing = false;
const shutdown = (): void => {
  if (closing) return;
  closing = true;
  // Stop accepting requests, let the ones in flight finish (their jobs are stored before they
  // answer), then close the backend connection.
  server.close(() => {
    Promise.all([adapter.close(), telemetry?.shutdown()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
  server.closeIdleConnections();
  setTimeout(() => process.exit(1), 10_000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
