/**
 * The outbox relay process: `BG_URL=postgres://… pnpm relay`. Forwards the jobs committed to
 * the transactional outbox (see `src/outbox-signups.ts`) to the queue, here PostgreSQL's own
 * (any adapter could be the target). Run one or several; `kill -9` loses nothing: the batch in
 * flight rolls back and the next relay takes it again.
 *
 * Environment: `BG_URL` (PostgreSQL), `BG_RELAY_NAME` (default `relay`), `BG_RELAY_BATCH` (rows
 * per transaction, default 100), `BG_RELAY_SEND_DELAY_MS` (default 0: added to every send, to
 * play a far-away queue in the demo). Prints `{"relaying":"<name>"}` once started.
 * @module
 */
import { type Adapter, BgError } from '@bg/core';
import type { PostgresAdapter } from '@bg/postgres';
import { startRelay } from '@bg/postgres/outbox';
import { connectBackend } from './connect-backend.js';

const env = process.env;
const name = env.BG_RELAY_NAME ?? 'relay';
const sendDelayMs = Number(env.BG_RELAY_SEND_DELAY_MS ?? 0);
const adapter = await connectBackend(env.BG_URL);
if (adapter.name !== 'postgres') {
  throw new BgError('INVALID_ARGUMENT', `the relay reads the outbox of a PostgreSQL BG_URL (got ${adapter.name})`, {
    retryable: false,
  });
}
const db = (adapter as PostgresAdapter).pool;

/** The target, with every send slowed down by `ms` (a queue on the far side of a slow link). */
function slowed(target: Adapter, ms: number): Adapter {
  if (ms <= 0) return target;
  const slow: Adapter = Object.create(target);
  return Object.assign(slow, {
    send: async (queue: string, messages: Parameters<Adapter['send']>[1]) => {
      await new Promise((r) => setTimeout(r, ms));
      return target.send(queue, messages);
    },
  });
}

const relay = startRelay({
  db,
  target: slowed(adapter, sendDelayMs),
  schema: (adapter as PostgresAdapter).schema,
  batchSize: Number(env.BG_RELAY_BATCH ?? 100),
  pollIntervalMs: 1_000,
  onError: (error) => console.error(`[${name}] ${error instanceof Error ? error.message : String(error)}`),
});

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  relay
    .stop()
    .then(() => adapter.close())
    .then(
      () => {
        console.log(JSON.stringify({ stopped: name, forwarded: relay.forwarded }));
        process.exit(0);
      },
      () => process.exit(1),
    );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
console.log(JSON.stringify({ relaying: name, pid: process.pid }));
