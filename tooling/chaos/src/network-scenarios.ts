import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Adapter, createQueue, createWorker, defineJob, permanentError, type Worker, type WorkerEvent } from '@bg/core';
import { settleWithin } from '@bg/core/adapter';
import { z } from 'zod';
import { startFaultProxy } from './fault-proxy.js';
import type { NetworkTarget } from './network-targets.js';

/** How long a stop waits past its grace period for hand-backs and acks (the core's `STOP_SETTLE_WAIT_MS`). */
const STOP_SETTLE_WAIT_MS = 2_000;

/** A job that succeeds after `workMs`, recording its run. */
export const netJob = defineJob({
  type: 'net.job',
  schema: z.object({ n: z.number().int(), workMs: z.number().int().min(0) }),
  retry: { maxAttempts: 50, baseMs: 100, maxMs: 1_000 },
});

/** A job that fails for good: it must end dead-lettered `permanent-error`, once. */
export const netPoison = defineJob({
  type: 'net.poison',
  schema: z.object({ n: z.number().int() }),
  retry: { maxAttempts: 3, baseMs: 100, maxMs: 500 },
});

/** What one network-fault scenario saw, and what was wrong (`problems` empty: it passed). */
export interface NetworkReport {
  readonly adapter: string;
  readonly scenario: 'black-hole' | 'resets' | 'latency';
  /** One line for logs and assertion messages. */
  readonly line: string;
  readonly problems: readonly string[];
  readonly enqueued: number;
  readonly completed: number;
  /** Jobs whose handler ran more than once. */
  readonly duplicates: number;
  /** `error` events the workers reported. */
  readonly errors: number;
  /** Lease extensions the workers made. */
  readonly extensions: number;
  /** Black hole: from its start to the first `error` event of each worker, ms. */
  readonly noticeMs?: readonly number[];
  /** Black hole: how long `worker.stop()` called during it took, ms. */
  readonly stopMs?: number;
  /** Black hole: how long that worker's `adapter.close()` took, ms. */
  readonly closeMs?: number;
  /** From the heal (or the end of the fault) until every job was done, ms. */
  readonly recoveredMs?: number;
}

/** Timing of a scenario: `leaseMs` for the workers, `callTimeoutMs` for the adapters' own timeouts. */
export interface NetworkScenarioOptions {
  readonly target: NetworkTarget;
  readonly leaseMs: number;
  readonly callTimeoutMs: number;
  /** Lines for a post-mortem (default: none). */
  readonly log?: (line: string) => void;
}

interface Ledger {
  /** Handler starts per job number. */
  readonly runs: Map<number, number>;
  /** Handler completions (returned without being aborted) per job number. */
  readonly done: Map<number, number>;
  readonly events: WorkerEvent[];
  readonly errorsAt: number[][];
}

/** Collects unhandled rejections and uncaught exceptions while a scenario runs. */
function watchProcess(): { readonly seen: string[]; stop(): void } {
  const seen: string[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(`unhandled rejection: ${String((reason as Error)?.stack ?? reason)}`);
  };
  const onException = (error: unknown): void => {
    seen.push(`uncaught exception: ${String((error as Error)?.stack ?? error)}`);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    seen,
    stop() {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** Waits until `check` is true, polling every 50 ms; false when `limitMs` passed first. */
export async function waitFor(check: () => boolean | Promise<boolean>, limitMs: number): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await sleep(50);
  }
}

/** Live messages of `queue` (ready + in flight + delayed) by the backend's counts, undefined when unknown. */
export async function liveCount(adapter: Adapter, queue: string): Promise<number | undefined> {
  const s = await adapter.stats(queue);
  if (s.total !== undefined && s.total !== null) return s.total;
  if (s.ready === null || s.inFlight === null || s.delayed === null) return undefined;
  return s.ready + s.inFlight + s.delayed;
}

/** Dead letters of `queue`, every page. */
async function deadLetters(adapter: Adapter, queue: string): Promise<{ id: string; reason: string }[]> {
  const all: { id: string; reason: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await adapter.listDeadLetters(queue, cursor === undefined ? { limit: 100 } : { limit: 100, cursor });
    for (const d of page.items) all.push({ id: d.id, reason: d.reason });
    cursor = page.cursor;
  } while (cursor !== undefined);
  return all;
}

/** A worker on `adapter` that records runs and events in `ledger` (worker number `index`). */
function ledgerWorker(
  adapter: Adapter,
  queue: string,
  ledger: Ledger,
  index: number,
  options: { leaseMs: number; graceMs: number; concurrency: number },
): Worker {
  ledger.errorsAt[index] = [];
  const worker = createWorker({
    adapter,
    queue,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs,
    pollMs: 1_000,
    graceMs: options.graceMs,
    onEvent: (event) => {
      ledger.events.push(event);
      if (event.type === 'error') ledger.errorsAt[index]?.push(Date.now());
    },
  });
  worker.handle(netJob, async ({ n, workMs }, ctx) => {
    ledger.runs.set(n, (ledger.runs.get(n) ?? 0) + 1);
    // Aborted (lease lost, worker stopping): throws, so the job is not acked by this run.
    if (workMs > 0) await sleep(workMs, undefined, { signal: ctx.signal });
    ledger.done.set(n, (ledger.done.get(n) ?? 0) + 1);
  });
  worker.handle(netPoison, ({ n }) => {
    throw permanentError(`poison ${n} fails for good`);
  });
  return worker;
}

/** The jobs a scenario enqueued, by number, and its poison jobs' ids. */
interface Enqueued {
  readonly healthy: Set<number>;
  readonly poisonIds: Set<string>;
  next: number;
}

async function enqueueJobs(
  adapter: Adapter,
  queue: string,
  into: Enqueued,
  count: number,
  workMs: (n: number) => number,
  poison = 0,
): Promise<void> {
  const q = createQueue({ adapter, queue });
  for (let i = 0; i < count; i++) {
    const n = into.next++;
    into.healthy.add(n);
    await q.enqueue(netJob, { n, workMs: workMs(n) });
  }
  for (let i = 0; i < poison; i++) {
    const n = into.next++;
    const { id } = await q.enqueue(netPoison, { n });
    into.poisonIds.add(id);
  }
}

/**
 * The end-state checks of every scenario: each healthy job completed (no healthy job dead-lettered),
 * each poison job dead-lettered `permanent-error` exactly once, and the backend holding no live
 * message (where it counts them). Awaited for at most `limitMs`; returns the problems.
 */
async function awaitDrained(
  target: NetworkTarget,
  queue: string,
  enqueued: Enqueued,
  ledger: Ledger,
  limitMs: number,
): Promise<{ problems: string[]; ms: number }> {
  const start = Date.now();
  let dead: { id: string; reason: string }[] = [];
  let live: number | undefined;
  const missing = (): number[] => [...enqueued.healthy].filter((n) => !ledger.done.has(n));
  const done = await waitFor(async () => {
    if (missing().length > 0) return false;
    dead = await deadLetters(target.direct, queue);
    if ([...enqueued.poisonIds].some((id) => !dead.some((d) => d.id === id))) return false;
    live = await liveCount(target.direct, queue);
    return live === undefined || live === 0;
  }, limitMs);
  const ms = Date.now() - start;
  const problems: string[] = [];
  if (!done) {
    const lost = missing();
    if (lost.length > 0)
      problems.push(`${lost.length} healthy jobs never completed within ${limitMs} ms: ${lost.slice(0, 10).join(', ')}`);
    const absent = [...enqueued.poisonIds].filter((id) => !dead.some((d) => d.id === id));
    if (absent.length > 0)
      problems.push(`${absent.length} poison jobs not dead-lettered within ${limitMs} ms: ${absent.join(', ')}`);
    if (live !== undefined && live > 0)
      problems.push(`the backend still holds ${live} live messages ${limitMs} ms after the fault ended (stuck leases?)`);
  }
  dead = await deadLetters(target.direct, queue);
  for (const d of dead) {
    if (!enqueued.poisonIds.has(d.id)) problems.push(`job ${d.id} dead-lettered (${d.reason}) though it is not a poison job`);
    else if (d.reason !== 'permanent-error')
      problems.push(`poison job ${d.id} dead-lettered with reason ${d.reason}, expected permanent-error`);
  }
  const ids = dead.map((d) => d.id);
  if (new Set(ids).size !== ids.length) problems.push(`a job is dead-lettered twice: ${ids.join(', ')}`);
  return { problems, ms };
}

const newQueue = (scenario: string): string => `net-${scenario}-${randomBytes(4).toString('hex')}`;

function summarize(
  target: NetworkTarget,
  scenario: NetworkReport['scenario'],
  enqueued: Enqueued,
  ledger: Ledger,
  problems: string[],
  extra: Partial<NetworkReport>,
  details: string,
): NetworkReport {
  const completed = [...enqueued.healthy].filter((n) => ledger.done.has(n)).length;
  const duplicates = [...ledger.runs.values()].filter((count) => count > 1).length;
  const errors = ledger.events.filter((e) => e.type === 'error').length;
  const extensions = ledger.events.filter((e) => e.type === 'lease-extended').length;
  const total = enqueued.healthy.size + enqueued.poisonIds.size;
  const line =
    `${target.name} ${scenario}: enqueued ${total} (${enqueued.poisonIds.size} poison), completed ${completed}, ` +
    `duplicates ${duplicates}, worker errors ${errors}, extensions ${extensions}; ${details} — ` +
    (problems.length === 0 ? 'PASS' : `FAIL: ${problems.join('; ')}`);
  return { adapter: target.name, scenario, line, problems, enqueued: total, completed, duplicates, errors, extensions, ...extra };
}

/** Options of {@link runBlackHole}. */
export interface BlackHoleOptions extends NetworkScenarioOptions {
  /** How long the network stays black-holed (longer than the lease). */
  readonly holeMs: number;
  /** Grace period of the worker stopped during the black hole. */
  readonly graceMs: number;
  /** How black-holed connections end at the heal (default `half-open`). */
  readonly held?: 'half-open' | 'reset';
  /** Longest a worker may take to report an error once the black hole starts. */
  readonly noticeWithinMs: number;
  /** Longest `worker.stop()` may take past `graceMs` (default {@link STOP_SETTLE_WAIT_MS} + 1 s). */
  readonly stopMarginMs?: number;
  /** Longest `adapter.close()` of the stopped worker's adapter may take during the black hole. */
  readonly closeWithinMs: number;
  /** Longest the queue may take to drain after the heal. */
  readonly recoverWithinMs: number;
  /** Jobs enqueued before the black hole (default 24; 8 more during it and 8 after). */
  readonly jobs?: number;
}

/**
 * Black hole, then heal. Two workers (each with its own adapter) run through one fault proxy
 * while jobs flow; the proxy black-holes every connection (existing and new) for `holeMs`.
 * Each worker must report an error within `noticeWithinMs`; worker A is stopped during the
 * black hole and must resolve within `graceMs` + margin, and its adapter must close within
 * `closeWithinMs`; worker B must recover after the heal without a restart. Jobs are enqueued
 * before, during and after (straight to the backend): every healthy one must complete, every
 * poison one be dead-lettered `permanent-error`, and the backend hold no live message.
 */
export async function runBlackHole(o: BlackHoleOptions): Promise<NetworkReport> {
  const { target, leaseMs } = o;
  const log = o.log ?? (() => {});
  const queue = newQueue('hole');
  await target.direct.ensureQueue(queue);
  const proxy = await startFaultProxy(target.backend);
  const watch = watchProcess();
  const ledger: Ledger = { runs: new Map(), done: new Map(), events: [], errorsAt: [] };
  const enqueued: Enqueued = { healthy: new Set(), poisonIds: new Set(), next: 0 };
  const adapters = [target.adapterVia(proxy.address, o.callTimeoutMs), target.adapterVia(proxy.address, o.callTimeoutMs)];
  const [adapterA, adapterB] = adapters as [Adapter, Adapter];
  const workers = [
    ledgerWorker(adapterA, queue, ledger, 0, { leaseMs, graceMs: o.graceMs, concurrency: 4 }),
    ledgerWorker(adapterB, queue, ledger, 1, { leaseMs, graceMs: o.graceMs, concurrency: 4 }),
  ];
  const [workerA, workerB] = workers as [Worker, Worker];
  const problems: string[] = [];
  const extra: { -readonly [K in keyof NetworkReport]?: NetworkReport[K] } = {};
  try {
    // Long enough that both workers hold jobs in their handlers when the hole opens.
    await enqueueJobs(target.direct, queue, enqueued, o.jobs ?? 24, (n) => 200 + (n % 4) * 100, 1);
    await Promise.all(workers.map((w) => w.start()));
    const started = await waitFor(() => ledger.done.size >= 6, 15_000 + leaseMs);
    if (!started)
      problems.push(
        `the workers completed only ${ledger.done.size} jobs before the black hole (expected 6 within ${15_000 + leaseMs} ms)`,
      );
    const holeAt = Date.now();
    proxy.blackHole();
    log(`${target.name}: black hole at ${new Date(holeAt).toISOString()} (${workerA.active}+${workerB.active} deliveries held)`);
    await enqueueJobs(target.direct, queue, enqueued, 8, () => 50, 1);

    // Both workers notice.
    const noticed = await waitFor(() => ledger.errorsAt.every((times) => times.some((t) => t >= holeAt)), o.noticeWithinMs);
    const noticeMs = ledger.errorsAt.map((times) => {
      const first = times.find((t) => t >= holeAt);
      return first === undefined ? Number.NaN : first - holeAt;
    });
    extra.noticeMs = noticeMs;
    if (!noticed)
      problems.push(
        `a worker reported no error within ${o.noticeWithinMs} ms of the black hole (first error after ${noticeMs.map((ms) => (Number.isNaN(ms) ? 'never' : `${ms} ms`)).join(' / ')}): it hangs on a dead connection`,
      );

    // Worker A stops during the black hole: bounded by its grace period plus the settle wait.
    const stopLimit = o.graceMs + (o.stopMarginMs ?? STOP_SETTLE_WAIT_MS + 1_000);
    const stopStart = Date.now();
    const stopped = await settleWithin(workerA.stop(), stopLimit);
    extra.stopMs = Date.now() - stopStart;
    if (!stopped)
      problems.push(`worker.stop() during the black hole did not resolve within graceMs ${o.graceMs} + margin = ${stopLimit} ms`);
    const closeStart = Date.now();
    const closed = await settleWithin(adapterA.close(), o.closeWithinMs);
    extra.closeMs = Date.now() - closeStart;
    if (!closed)
      problems.push(`adapter.close() of the stopped worker during the black hole did not resolve within ${o.closeWithinMs} ms`);

    const left = holeAt + o.holeMs - Date.now();
    if (left > 0) await sleep(left); // the fault's own duration
    if (!proxy.blackHoled) problems.push('the black hole ended early');
    const healAt = Date.now();
    proxy.heal({ held: o.held ?? 'half-open' });
    log(`${target.name}: healed after ${healAt - holeAt} ms (${proxy.counts().droppedBytes} bytes dropped)`);
    await enqueueJobs(target.direct, queue, enqueued, 8, () => 50, 1);

    if (!workerB.running) problems.push('worker B is not running after the heal');
    const drained = await awaitDrained(target, queue, enqueued, ledger, o.recoverWithinMs);
    problems.push(...drained.problems);
    extra.recoveredMs = Date.now() - healAt;
  } finally {
    await settleWithin(Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 }))), 10_000);
    await settleWithin(Promise.all(adapters.map((a) => a.close())), 10_000);
    await proxy.close();
    watch.stop();
  }
  problems.push(...watch.seen);
  const details =
    `notice ${extra.noticeMs?.map((ms) => `${ms} ms`).join(' / ')}, stop during the hole ${extra.stopMs} ms, ` +
    `close ${extra.closeMs} ms, drained ${extra.recoveredMs} ms after the heal`;
  return summarize(target, 'black-hole', enqueued, ledger, problems, extra, details);
}

/** Options of {@link runResets}. */
export interface ResetsOptions extends NetworkScenarioOptions {
  /** How long connections are reset (every `everyMs`, alternately all at once and mid-reply). */
  readonly resetForMs: number;
  readonly everyMs?: number;
  /** Jobs enqueued before the resets start (default 30; 4 more every third round). */
  readonly jobs?: number;
  readonly recoverWithinMs: number;
}

/**
 * Connections reset every `everyMs` (alternately: every open connection at once, and each one in
 * the middle of the backend's next reply) for `resetForMs` while two workers drain jobs enqueued
 * before and during: nothing lost, no crash, no unhandled rejection.
 */
export async function runResets(o: ResetsOptions): Promise<NetworkReport> {
  const { target, leaseMs } = o;
  const queue = newQueue('reset');
  await target.direct.ensureQueue(queue);
  const proxy = await startFaultProxy(target.backend);
  const watch = watchProcess();
  const ledger: Ledger = { runs: new Map(), done: new Map(), events: [], errorsAt: [] };
  const enqueued: Enqueued = { healthy: new Set(), poisonIds: new Set(), next: 0 };
  const adapters = [target.adapterVia(proxy.address, o.callTimeoutMs), target.adapterVia(proxy.address, o.callTimeoutMs)];
  const workers = adapters.map((a, i) => ledgerWorker(a, queue, ledger, i, { leaseMs, graceMs: 1_000, concurrency: 4 }));
  const problems: string[] = [];
  const extra: { -readonly [K in keyof NetworkReport]?: NetworkReport[K] } = {};
  try {
    await enqueueJobs(target.direct, queue, enqueued, o.jobs ?? 30, (n) => 20 + (n % 5) * 20, 1);
    await Promise.all(workers.map((w) => w.start()));
    const every = o.everyMs ?? 200;
    const end = Date.now() + o.resetForMs;
    for (let round = 0; Date.now() < end; round++) {
      await sleep(every); // the fault's own rhythm
      if (round % 2 === 0) proxy.reset();
      else proxy.resetMidReply();
      if (round % 3 === 0) await enqueueJobs(target.direct, queue, enqueued, 4, () => 20, round === 3 ? 1 : 0);
    }
    const calmAt = Date.now();
    for (const [i, w] of workers.entries()) if (!w.running) problems.push(`worker ${i} stopped running during the resets`);
    const drained = await awaitDrained(target, queue, enqueued, ledger, o.recoverWithinMs);
    problems.push(...drained.problems);
    extra.recoveredMs = Date.now() - calmAt;
  } finally {
    await settleWithin(Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 }))), 10_000);
    await settleWithin(Promise.all(adapters.map((a) => a.close())), 10_000);
    await proxy.close();
    watch.stop();
  }
  problems.push(...watch.seen);
  const counts = proxy.counts();
  if (counts.resets === 0) problems.push('the proxy reset no connection: the scenario tested nothing');
  const details = `${counts.resets} connections reset (${counts.accepted} accepted), drained ${extra.recoveredMs} ms after the last reset`;
  return summarize(target, 'resets', enqueued, ledger, problems, extra, details);
}

/** Options of {@link runLatency}. */
export interface LatencyOptions extends NetworkScenarioOptions {
  /** Delay each way (default 200 ms). */
  readonly latencyMs?: number;
  /** Handler time of the long jobs (several heartbeats: leaseMs/3 each). */
  readonly longWorkMs: number;
  /** Short jobs besides the two long ones (default 20). */
  readonly shortJobs?: number;
  readonly drainWithinMs: number;
}

/**
 * Every chunk delayed `latencyMs` each way, from the first connection: jobs (short ones and two
 * long ones whose handlers outlive the lease) must all complete exactly once — no duplicate run
 * from a lease extension that came too late — with their leases extended and none lost.
 */
export async function runLatency(o: LatencyOptions): Promise<NetworkReport> {
  const { target, leaseMs } = o;
  const latencyMs = o.latencyMs ?? 200;
  const queue = newQueue('slow');
  await target.direct.ensureQueue(queue);
  const proxy = await startFaultProxy(target.backend);
  proxy.setLatency(latencyMs);
  const watch = watchProcess();
  const ledger: Ledger = { runs: new Map(), done: new Map(), events: [], errorsAt: [] };
  const enqueued: Enqueued = { healthy: new Set(), poisonIds: new Set(), next: 0 };
  const adapter = target.adapterVia(proxy.address, o.callTimeoutMs);
  const worker = ledgerWorker(adapter, queue, ledger, 0, { leaseMs, graceMs: 1_000, concurrency: 6 });
  const problems: string[] = [];
  const extra: { -readonly [K in keyof NetworkReport]?: NetworkReport[K] } = {};
  try {
    await enqueueJobs(target.direct, queue, enqueued, 2, () => o.longWorkMs);
    await enqueueJobs(target.direct, queue, enqueued, o.shortJobs ?? 20, (n) => 10 + (n % 3) * 10, 1);
    const start = Date.now();
    await worker.start();
    const drained = await awaitDrained(target, queue, enqueued, ledger, o.drainWithinMs);
    problems.push(...drained.problems);
    extra.recoveredMs = Date.now() - start;
  } finally {
    await settleWithin(worker.stop({ graceMs: 1_000 }), 10_000);
    await settleWithin(adapter.close(), 10_000);
    await proxy.close();
    watch.stop();
  }
  problems.push(...watch.seen);
  const dups = [...ledger.runs.entries()].filter(([, count]) => count > 1);
  if (dups.length > 0)
    problems.push(
      `jobs ran more than once under ${latencyMs} ms latency (lease ${leaseMs} ms): ${dups.map(([n, c]) => `#${n} ×${c}`).join(', ')}`,
    );
  const lost = ledger.events.filter((e) => e.type === 'lease-lost');
  if (lost.length > 0)
    problems.push(`${lost.length} leases lost under latency: ${lost.map((e) => ('jobId' in e ? e.jobId : '')).join(', ')}`);
  const extensions = ledger.events.filter((e) => e.type === 'lease-extended').length;
  if (extensions === 0)
    problems.push(`no lease was extended, though two handlers ran ${o.longWorkMs} ms on a ${leaseMs} ms lease`);
  const errors = ledger.events.filter((e) => e.type === 'error');
  if (errors.length > 0)
    problems.push(
      `${errors.length} worker errors under latency alone: ${errors
        .slice(0, 3)
        .map((e) => (e.type === 'error' ? `${e.during}: ${e.error.message}` : ''))
        .join(' | ')}`,
    );
  return summarize(
    target,
    'latency',
    enqueued,
    ledger,
    problems,
    extra,
    `latency ${latencyMs} ms each way, drained in ${extra.recoveredMs} ms`,
  );
}

/** The timings of the three scenarios for one backend. */
export interface NetworkTimings {
  readonly blackHole: Omit<BlackHoleOptions, 'target' | 'log'>;
  readonly resets: Omit<ResetsOptions, 'target' | 'log'>;
  readonly latency: Omit<LatencyOptions, 'target' | 'log'>;
}

/**
 * Timings for `target`: `ci` sized for a 2-core CI box (short leases, a black hole of the lease
 * plus 1.5 s), `full` longer (a 5 s black hole past the lease, resets for 6 s, more jobs). Pub/Sub's
 * shortest lease is 10 s, so its black hole lasts 11.5 s (full: 15 s).
 */
export function networkTimings(target: NetworkTarget, size: 'ci' | 'full'): NetworkTimings {
  const full = size === 'full';
  const leaseMs = Math.max(target.minLeaseMs, full ? 3_000 : 1_000);
  const callTimeoutMs = 1_000;
  const latencyLeaseMs = Math.max(target.minLeaseMs, 2_000);
  return {
    blackHole: {
      leaseMs,
      callTimeoutMs,
      holeMs: leaseMs + (full ? 5_000 : 1_500),
      graceMs: 1_000,
      // A call in flight fails after callTimeoutMs (a retried one after two); a heartbeat may wait leaseMs/3 to start.
      noticeWithinMs: 3 * callTimeoutMs + Math.round(leaseMs / 3) + 2_000,
      closeWithinMs: 2 * callTimeoutMs + 3_000,
      // The stopped worker's leases run out, then the other takes its jobs (retries back off ≤ 1 s).
      recoverWithinMs: 2 * leaseMs + 4 * callTimeoutMs + 10_000,
      ...(full ? { jobs: 60 } : { jobs: 16 }),
    },
    resets: {
      leaseMs,
      callTimeoutMs,
      resetForMs: full ? 6_000 : 1_500,
      recoverWithinMs: 2 * leaseMs + 4 * callTimeoutMs + 10_000,
      jobs: full ? 60 : 16,
    },
    latency: {
      // Well above the 400 ms round trip, so extensions never come late.
      leaseMs: latencyLeaseMs,
      callTimeoutMs: 5_000,
      latencyMs: 200,
      // Past the lease (CI: by 0.5 s), so a late or missing extension means a second run.
      longWorkMs: full ? 3 * latencyLeaseMs : latencyLeaseMs + 500,
      shortJobs: full ? 40 : 8,
      drainWithinMs: 60_000,
    },
  };
}
