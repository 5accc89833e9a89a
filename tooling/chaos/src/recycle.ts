import { mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { createQueue, type ReceivedMessage } from '@bg/core';
import type { ChaosBackend } from './backends.js';
import { longJob } from './jobs.js';
import { readLedgers } from './ledger.js';
import { WorkerPool } from './worker-pool.js';

/** The outcome of the graceful-recycle scenario. */
export interface RecycleReport {
  readonly adapter: string;
  /** Jobs that finished within the grace period (must be acked: never delivered again). */
  readonly finished: number;
  /** Jobs handed back at the end of the grace period. */
  readonly handedBack: number;
  /** Latest redelivery of a handed-back job, ms after the grace period ended. */
  readonly backAfterGraceMs: number;
  /** Process exit, ms after SIGTERM. */
  readonly exitAfterMs: number;
  readonly problems: readonly string[];
  readonly ok: boolean;
  readonly line: string;
}

/** Options of {@link runRecycle}. */
export interface RunRecycleOptions {
  readonly backend: ChaosBackend;
  readonly runDir: string;
  /** Jobs in flight when SIGTERM arrives (default 50: half finish in the grace period, half cannot). */
  readonly jobs?: number;
  readonly graceMs?: number;
  readonly log?: (message: string) => void;
}

/**
 * Graceful recycle: one worker process with 50 long jobs in flight gets SIGTERM with a 2 s
 * grace. Jobs that finish in time must be acked; the rest must be back in the queue within
 * a second of the grace ending (not after the lease), and the process must exit by itself.
 */
export async function runRecycle(options: RunRecycleOptions): Promise<RecycleReport> {
  const { backend, runDir } = options;
  const jobs = options.jobs ?? 50;
  const graceMs = options.graceMs ?? 2_000;
  const log = options.log ?? (() => {});
  mkdirSync(runDir, { recursive: true });
  const queue = `recycle-${Date.now().toString(36)}`;
  await backend.adapter.ensureQueue(queue);
  const problems: string[] = [];

  // Half finish 1 s after they start (inside the grace), half would need 5 minutes.
  const quick = new Set<string>();
  const slow = new Set<string>();
  const producer = createQueue({ adapter: backend.adapter, queue });
  const payloads = Array.from({ length: jobs }, (_, n) => ({ n, workMs: n % 2 === 0 ? 1_000 : 300_000 }));
  const results = await producer.enqueueMany(longJob, payloads);
  for (const [i, r] of results.entries()) (payloads[i]?.workMs === 1_000 ? quick : slow).add(r.id);

  const pool = new WorkerPool({ backend, queue, runDir, concurrency: jobs, graceMs });
  const worker = pool.spawn();
  const deadline = Date.now() + 60_000;
  for (;;) {
    const started = new Set(readLedgers(runDir).flatMap((e) => (e.e === 'start' && e.id ? [e.id] : [])));
    if (started.size >= jobs) break;
    if (Date.now() > deadline) throw new Error(`only ${started.size}/${jobs} jobs started within 60 s`);
    await sleep(50);
  }
  const termAt = Date.now();
  pool.terminate(worker);
  log(`${backend.name}: SIGTERM with ${jobs} jobs in flight, grace ${graceMs} ms`);
  const graceEnd = termAt + graceMs;

  // Receive with the harness's own adapter until every slow job is back.
  const back = new Map<string, number>();
  const received: ReceivedMessage[] = [];
  const collectUntil = graceEnd + Math.max(backend.leaseMs, 10_000) + 5_000;
  while (Date.now() < collectUntil && [...slow].some((id) => !back.has(id))) {
    const got = await backend.adapter.receive(queue, {
      max: Math.min(backend.adapter.capabilities.maxBatchSize, jobs),
      leaseMs: Math.max(60_000, backend.adapter.capabilities.minLeaseMs),
      waitMs: 100,
    });
    for (const m of got) {
      received.push(m);
      if (!back.has(m.id)) back.set(m.id, Date.now());
    }
  }
  // Watch a little longer: no finished job may come back.
  const quietUntil = Date.now() + 1_000;
  while (Date.now() < quietUntil) {
    const got = await backend.adapter.receive(queue, {
      max: 10,
      leaseMs: Math.max(60_000, backend.adapter.capabilities.minLeaseMs),
      waitMs: 100,
    });
    for (const m of got) {
      received.push(m);
      if (!back.has(m.id)) back.set(m.id, Date.now());
    }
  }
  const exit = await worker.exited;
  for (const m of received) await backend.adapter.ack(queue, m.handle).catch(() => {});

  const entries = readLedgers(runDir);
  const done = new Set(entries.flatMap((e) => (e.e === 'done' && e.id ? [e.id] : [])));
  const finished = [...quick].filter((id) => done.has(id)).length;
  if (finished !== quick.size) problems.push(`${quick.size - finished} quick jobs did not finish in the grace period`);
  for (const id of quick) if (back.has(id)) problems.push(`finished job ${id} was delivered again (not acked)`);
  const missing = [...slow].filter((id) => !back.has(id));
  if (missing.length > 0) problems.push(`${missing.length} unfinished jobs were not handed back`);
  const latest = Math.max(0, ...[...slow].map((id) => back.get(id) ?? 0)) - graceEnd;
  if (latest > 1_000) problems.push(`unfinished jobs came back ${latest} ms after the grace ended (limit 1 000 ms)`);
  const exitAfterMs = exit.at - termAt;
  if (!exit.expected) problems.push(`worker exited with code ${exit.code}, signal ${exit.signal}`);
  if (exitAfterMs > graceMs + 3_000) problems.push(`worker took ${exitAfterMs} ms to exit`);
  const ok = problems.length === 0;
  const line =
    `${backend.name} [recycle]: SIGTERM with ${jobs} in flight, grace ${graceMs} ms: ${finished} finished and acked, ` +
    `${slow.size - missing.length}/${slow.size} handed back, the last ${latest} ms after the grace ended; ` +
    `process exited by itself (code ${exit.code}) ${exitAfterMs} ms after SIGTERM — ${ok ? 'PASS' : 'FAIL'}`;
  return {
    adapter: backend.name,
    finished,
    handedBack: slow.size - missing.length,
    backAfterGraceMs: latest,
    exitAfterMs,
    problems,
    ok,
    line,
  };
}
