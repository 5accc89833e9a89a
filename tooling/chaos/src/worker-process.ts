/**
 * A chaos worker process: one bg worker on the queue under test, recording every handler
 * start and completion in its own append-only ledger. Started (and killed) by the harness.
 *
 * Environment: CHAOS_WORKER (id), CHAOS_LEDGER (folder), CHAOS_QUEUE, CHAOS_URL (connect
 * URL), CHAOS_REDIS_CLUSTER (a Redis Cluster's startup nodes and prefix, JSON) or
 * CHAOS_CAPABILITIES (memory over IPC), CHAOS_LEASE_MS, CHAOS_CONCURRENCY,
 * CHAOS_GRACE_MS; CHAOS_TEST_ONLY_BREAKAGE (tests only: a worker that loses jobs on purpose,
 * see `breakage.ts`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipcAdapter } from '@bg/conformance';
import { type Adapter, type Capabilities, connect, createWorker, isBgError, stopOnSignals } from '@bg/core';
import type { RedisClusterTarget } from './backends.js';
import type { BootPhase } from './boot-phases.js';
import { ackOnReceive, TEST_ONLY_BREAKAGE_ENV, testOnlyBreakage } from './breakage.js';
import { FLAKY_FAILURES, flakyJob, healthyJob, longJob, poisonJob } from './jobs.js';
import { LedgerWriter } from './ledger.js';
import { traceAdapter } from './trace-adapter.js';

function env(name: string): string {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
}

// SIGTERM while booting (before the worker exists): nothing is leased yet, exit cleanly.
const onEarlyTerm = (): never => process.exit(0);
process.on('SIGTERM', onEarlyTerm);

const id = env('CHAOS_WORKER');
const ledger = new LedgerWriter(env('CHAOS_LEDGER'), id);
const mark = (phase: BootPhase, t = Date.now()): void => {
  const { user, system } = process.cpuUsage();
  ledger.write({ e: 'boot', phase, cpu: phase === 'process' ? 0 : Math.round((user + system) / 1_000) }, t);
};
// Boot milestones (for `pnpm boot-time` and the summary's boot line): Node's own start, then
// this module running, i.e. its static imports loaded.
mark('process', Math.round(performance.timeOrigin));
mark('main');
const queue = env('CHAOS_QUEUE');
const graceMs = Number(env('CHAOS_GRACE_MS'));
const say = (level: string, message: string): void => {
  process.stderr.write(`${new Date().toISOString()} ${id} ${level} ${message}\n`);
};

const breakage = testOnlyBreakage(process.env[TEST_ONLY_BREAKAGE_ENV]);
/** The adapter under test: from a URL, on a Redis Cluster (no URL names one), or memory over IPC. */
async function adapterUnderTest(): Promise<Adapter> {
  if (process.env.CHAOS_URL) return connect(process.env.CHAOS_URL, { load: (name) => import(name) });
  const cluster = process.env.CHAOS_REDIS_CLUSTER;
  if (cluster) {
    // Loaded only here, as connect() loads an adapter package: other workers never pay for it.
    const { redisAdapter } = await import('@bg/redis');
    const { nodes, prefix } = JSON.parse(cluster) as RedisClusterTarget;
    return redisAdapter({ cluster: nodes, prefix });
  }
  return ipcAdapter(JSON.parse(env('CHAOS_CAPABILITIES')) as Capabilities);
}

const traced: Adapter = traceAdapter(await adapterUnderTest(), {
  mark,
  received: (m) => ledger.write({ e: 'received', id: m.id, attempt: m.deliveryCount }),
});
// Tests only: outside the trace, as if the adapter itself were broken; the ledger is untouched.
const adapter: Adapter = breakage === 'ack-on-receive' ? ackOnReceive(traced, healthyJob.type) : traced;
if (breakage) say('warn', `TEST-ONLY BREAKAGE ${breakage}: this worker loses jobs on purpose`);
mark('adapter');

const worker = createWorker({
  adapter,
  queue,
  concurrency: Number(env('CHAOS_CONCURRENCY')),
  leaseMs: Number(env('CHAOS_LEASE_MS')),
  pollMs: 1_000,
  graceMs,
  unknownVersionWindowMs: 2_000,
  logger: { warn: (m) => say('warn', m), error: (m) => say('error', m) },
  onEvent(event) {
    switch (event.type) {
      case 'retried':
        ledger.write({ e: 'retried', id: event.jobId, attempt: event.attempt });
        break;
      case 'dead-lettered':
        ledger.write({ e: 'dead', id: event.jobId, attempt: event.attempt, reason: event.reason });
        break;
      case 'deferred':
        ledger.write({ e: 'deferred', id: event.jobId, reason: event.why });
        break;
      case 'lease-lost':
        ledger.write({ e: 'lease-lost', id: event.jobId });
        break;
      case 'error':
        ledger.write({ e: 'error', reason: event.during, message: event.error.message.slice(0, 300) });
        break;
      default:
    }
  },
});

worker.handle(healthyJob, async ({ workMs }, ctx) => {
  ledger.write({ e: 'start', id: ctx.jobId, attempt: ctx.attempt });
  await sleep(workMs);
  ledger.write({ e: 'done', id: ctx.jobId, attempt: ctx.attempt });
});
worker.handle(flakyJob, async ({ workMs }, ctx) => {
  ledger.write({ e: 'start', id: ctx.jobId, attempt: ctx.attempt });
  await sleep(workMs);
  if (ctx.attempt <= FLAKY_FAILURES) throw new Error(`flaky: attempt ${ctx.attempt} fails`);
  ledger.write({ e: 'done', id: ctx.jobId, attempt: ctx.attempt });
});
worker.handle(poisonJob, async ({ workMs }, ctx) => {
  ledger.write({ e: 'start', id: ctx.jobId, attempt: ctx.attempt });
  await sleep(workMs);
  throw new Error('poison: always fails');
});
worker.handle(longJob, async ({ workMs }, ctx) => {
  ledger.write({ e: 'start', id: ctx.jobId, attempt: ctx.attempt });
  await sleep(workMs); // deaf to ctx.signal on purpose: only the grace period can save it
  ledger.write({ e: 'done', id: ctx.jobId, attempt: ctx.attempt });
});

process.off('SIGTERM', onEarlyTerm);
stopOnSignals([worker], {
  graceMs,
  async onStopped() {
    await adapter.close();
    ledger.close();
    process.exit(0);
  },
});

// A worker that boots while the backend is down must wait for it, not die.
for (let attempt = 1; ; attempt++) {
  try {
    await worker.start();
    break;
  } catch (error) {
    if (!isBgError(error) || !error.retryable) throw error;
    say('warn', `start failed (${error.code}: ${error.message}); retrying`);
    ledger.write({ e: 'error', reason: 'start', message: error.message.slice(0, 300) });
    await sleep(Math.min(100 * 2 ** attempt, 2_000));
  }
}
ledger.write({ e: 'ready' });
// A marker file the harness checks cheaply before picking this process to kill.
writeFileSync(join(env('CHAOS_LEDGER'), `${id}.ready`), '');
