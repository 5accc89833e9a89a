import { type Adapter, createQueue, createWorker, defineJob, type Worker } from '@bg/core';
import { passThrough } from './pass-through-schema.js';
import { waitUntil } from './server-process.js';

interface Ping {
  readonly n: number;
}

/** The idle tests' job: records when its handler starts. */
export const ping = defineJob({
  type: 'idle.ping',
  schema: passThrough<Ping>('test'),
});

/**
 * Counts the backend calls made so far (Redis: the servers' `INFO commandstats`; PostgreSQL: the
 * statements sent through the pool). Only differences are used.
 */
export type CallCounter = () => Promise<number> | number;

/** Waits for the steady state: no call for 500 ms (every queue looked at once, the blocking reads up). */
export async function waitQuiet(count: CallCounter): Promise<void> {
  let last = -1;
  await waitUntil(
    'the idle workers to go quiet',
    async () => {
      const now = await count();
      const quietNow = now === last;
      last = now;
      return quietNow;
    },
    20_000,
    500,
  );
}

/** What {@link idleScenario} measured. */
export interface IdleMeasure {
  /** Backend calls while every queue sat idle. */
  readonly used: number;
  readonly seconds: number;
  /** Per job, from the enqueue call to its handler's start (ms). */
  readonly latencies: number[];
  /** Per job, from the enqueue's resolution to its handler's start (ms): the wake-up path alone. */
  readonly wakeups: number[];
}

/**
 * One worker per queue on `adapter` (concurrency 4); once the backend goes quiet (no call for
 * 500 ms; or, given `settleMs`, that long after the start, for backends whose idle workers keep
 * making a few calls), counts its calls for `seconds`, then enqueues `jobs` jobs into queues that
 * sat idle all along and times each until its handler starts. Workers are stopped at the end.
 */
export async function idleScenario(
  adapter: Adapter,
  queues: readonly string[],
  count: CallCounter,
  { seconds = 3, jobs = 10, settleMs }: { seconds?: number; jobs?: number; settleMs?: number } = {},
): Promise<IdleMeasure> {
  for (const queue of queues) await adapter.ensureQueue(queue);
  const startedAt = new Map<number, number>();
  const workers: Worker[] = queues.map((queue) => {
    const worker = createWorker({ adapter, queue, concurrency: 4 });
    worker.handle(ping, (payload) => {
      startedAt.set(payload.n, performance.now());
    });
    return worker;
  });
  try {
    await Promise.all(workers.map((w) => w.start()));
    if (settleMs === undefined) await waitQuiet(count);
    else await new Promise((resolve) => setTimeout(resolve, settleMs));
    const before = await count();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    const used = (await count()) - before;
    const latencies: number[] = [];
    const wakeups: number[] = [];
    for (let n = 0; n < jobs; n++) {
      const queue = queues[(n * 7) % queues.length] as string;
      const producer = createQueue({ adapter, queue });
      const t0 = performance.now();
      await producer.enqueue(ping, { n });
      const t1 = performance.now();
      await waitUntil(`job ${n} on ${queue} to start`, () => startedAt.has(n), 10_000, 2);
      latencies.push((startedAt.get(n) as number) - t0);
      wakeups.push((startedAt.get(n) as number) - t1);
    }
    return { used, seconds, latencies, wakeups };
  } finally {
    await Promise.all(workers.map((w) => w.stop({ graceMs: 1_000 })));
  }
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

/** The part of vitest's `expect` {@link expectIdleCost} uses. */
type IdleExpect = (
  actual: number,
  message: string,
) => { toBeLessThanOrEqual(bound: number): void; toBeLessThan(bound: number): void };

/**
 * Prints and checks what {@link idleScenario} measured: at most `perQueuePerSecond` calls per
 * second per idle queue (a window of s seconds may hold s + 1 of a call made once a second, so
 * the bound allows one more per queue when `fencepost`), and a median start of a job sent into an
 * idle queue below `startMs`. `detail` (what the calls were, say) is added to the message of a
 * cost over the bound.
 */
export function expectIdleCost(
  expect: IdleExpect,
  label: string,
  { used, seconds, latencies }: IdleMeasure,
  {
    queues,
    unit,
    startMs,
    fencepost = false,
    detail,
  }: { queues: number; unit: string; startMs: number; fencepost?: boolean; detail?: string },
): void {
  const bound = queues * (seconds + (fencepost ? 1 : 0));
  console.log(`${label} idle: ${queues} queues, ${used} ${unit}s in ${seconds} s`);
  expect(
    used,
    `${queues} idle queues over ${seconds} s must cost ≤ 1 ${unit}/s/queue (≤ ${bound}); they cost ${used}${detail ? ` (${detail})` : ''}`,
  ).toBeLessThanOrEqual(bound);
  const p50 = median(latencies);
  console.log(
    `${label} idle: enqueue call → handler start p50 ${p50.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`,
  );
  expect(
    p50,
    `enqueue into an idle queue → handler start: p50 ${p50.toFixed(1)} ms (must be < ${startMs} ms); all: ${latencies.map((l) => l.toFixed(0)).join(', ')}`,
  ).toBeLessThan(startMs);
}
