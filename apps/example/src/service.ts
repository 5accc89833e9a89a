/**
 * The web service process: `BG_URL=… PORT=3000 pnpm service`.
 *
 * Environment: `BG_URL` (backend), `BG_QUEUE` (default `signups`), `PORT` (default 3000;
 * 0 picks a free port), `HOST` (default 127.0.0.1). Prints `{"listening":<port>}` once ready.
 * @module
 */
import { createServer } from 'node:http';
import { createQueue } from '@bg/core';
import { connectBackend } from './connect-backend.js';
import { createApp } from './http-app.js';
import { setupTelemetry } from './telemetry.js';

const telemetry = setupTelemetry('bg-example-service');
const adapter = await connectBackend(process.env.BG_URL);
const queue = createQueue({
  adapter,
  queue: process.env.BG_QUEUE ?? 'signups',
  ...(telemetry ? { instrumentation: telemetry.otel } : {}),
});
const app = createApp(queue);
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
