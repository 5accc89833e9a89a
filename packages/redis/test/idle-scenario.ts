import { waitUntil } from '@bg/backends';
import { type Adapter, createQueue, createWorker, defineJob, type Worker } from '@bg/core';
import type { Redis } from 'ioredis';

interface Ping {
  readonly n: number;
}
/** The idle tests' job: records when its handler starts. */
export const ping = defineJob({
  type: 'idle.ping',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'test',
      types: undefined as unknown as { input: Ping; output: Ping },
      validate: (value: unknown) => ({ value: value as Ping }),
    },
  },
});

/** Commands `servers` ran (scripts' inner calls included), INFO, CONFIG, CLUSTER and CLIENT SETNAME left out. */
export async function commandCount(servers: readonly Redis[]): Promise<number> {
  let total = 0;
  for (const server of servers)
    for (const m of (await server.info('commandstats')).matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
      if (!/^(info|config|cluster\|.*|client\|setname)$/.test(m[1] ?? '')) total += Number(m[2]);
  return total;
}

/** Waits for the steady state: no command on `servers` for 500 ms (every queue checked once, the blocking reads up). */
export async function waitQuiet(servers: readonly Redis[]): Promise<void> {
  let last = -1;
  await waitUntil(
    'the idle workers to go quiet',
    async () => {
      const count = await commandCount(servers);
      const quietNow = count === last;
      last = count;
      return quietNow;
    },
    20_000,
    500,
  );
}

/** What {@link idleScenario} measured. */
export interface IdleMeasure {
  /** Commands the servers ran while every queue sat idle. */
  readonly used: number;
  readonly seconds: number;
  /** Per job, from the enqueue call to its handler's start (ms). */
  readonly latencies: number[];
  /** Per job, from the enqueue's resolution to its handler's start (ms): the wake-up path alone. */
  readonly wakeups: number[];
}

/**
 * One worker per queue on `adapter` (concurrency 4); once the servers go quiet, counts their
 * commands for `seconds`, then enqueues `jobs` jobs into queues that sat idle all along and times
 * each until its handler starts. Workers are stopped at the end.
 */
export async function idleScenario(
  adapter: Adapter,
  queues: readonly string[],
  servers: readonly Redis[],
  { seconds = 3, jobs = 10 }: { seconds?: number; jobs?: number } = {},
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
    await waitQuiet(servers);
    const before = await commandCount(servers);
    await new Promise((resolve) => setTimeout(resolve, seconds * 1_000));
    const used = (await commandCount(servers)) - before;
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
