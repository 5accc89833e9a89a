/**
 * The worker process: `BG_URL=… pnpm worker`. Run as many as you like, anywhere.
 *
 * Environment: `BG_URL` (backend), `BG_QUEUE` (default `signups`), `BG_CONCURRENCY`
 * (default 8), `BG_LEASE_MS` (default 30 000), `BG_GRACE_MS` (SIGTERM grace period, default
 * 10 000), `BG_WORKER_NAME` (default `worker`), `BG_LEDGER_DIR` (completion ledger folder,
 * default `.bg-data/ledger`), `BG_HEIC_FLAG_FILE` (the "HEIC support deployed" flag).
 * @module
 */
import { createWorker, stopOnSignals } from '@bg/core';
import { connectBackend } from './connect-backend.js';
import { registerHandlers } from './handlers.js';
import { openLedger } from './ledger.js';
import { setupTelemetry } from './telemetry.js';

const env = process.env;
const name = env.BG_WORKER_NAME ?? 'worker';
const ledger = openLedger(env.BG_LEDGER_DIR ?? '.bg-data/ledger', name);
const telemetry = setupTelemetry(`bg-example-${name}`);
const adapter = await connectBackend(env.BG_URL);
const worker = createWorker({
  adapter,
  ...(telemetry ? { instrumentation: telemetry.otel } : {}),
  queue: env.BG_QUEUE ?? 'signups',
  concurrency: Number(env.BG_CONCURRENCY ?? 8),
  leaseMs: Number(env.BG_LEASE_MS ?? 30_000),
  pollMs: 1_000,
  graceMs: Number(env.BG_GRACE_MS ?? 10_000),
  onEvent: (event) => {
    const t = Date.now();
    switch (event.type) {
      case 'started':
        ledger.write({ e: 'start', w: name, id: event.jobId, type: event.jobType, attempt: event.attempt, t });
        break;
      case 'deferred':
        if (event.why === 'shutdown') ledger.write({ e: 'back', w: name, id: event.jobId, t });
        break;
      case 'dead-lettered':
        ledger.write({ e: 'dead', w: name, id: event.jobId, reason: event.reason, error: event.error?.message ?? '', t });
        break;
      case 'error':
        console.error(`[${name}] ${event.during}: ${event.error.message}`);
        break;
      default:
    }
  },
});
registerHandlers(worker, {
  workerName: name,
  ledger,
  ...(env.BG_HEIC_FLAG_FILE ? { heicFlagFile: env.BG_HEIC_FLAG_FILE } : {}),
});

// SIGTERM/SIGINT: stop taking work, abort the handlers' signals, wait up to the grace period,
// hand the unfinished jobs back, close the connection, exit.
stopOnSignals([worker], {
  onStopped: async () => {
    ledger.write({ e: 'down', w: name, t: Date.now() });
    ledger.close();
    try {
      await Promise.all([adapter.close(), telemetry?.shutdown()]);
    } finally {
      process.exit(0);
    }
  },
});
await worker.start();
ledger.write({ e: 'up', w: name, pid: process.pid, t: Date.now() });
console.log(`[${name}] pid ${process.pid} working on ${adapter.name}`);
