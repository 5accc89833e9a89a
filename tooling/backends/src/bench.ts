import { randomBytes } from 'node:crypto';
import { type Adapter, createQueue, createWorker, defineJob } from '@bg/core';

/** The benchmarks' no-op job: a ~200-byte payload, validated by a pass-through Standard Schema. */
export const benchJob = defineJob({
  type: 'bench.noop',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'bg-bench',
      types: undefined as unknown as { input: BenchPayload; output: BenchPayload },
      validate: (value: unknown) => ({ value: value as BenchPayload }),
    },
  },
});

/** Payload of {@link benchJob}. */
export interface BenchPayload {
  readonly userId: string;
  readonly locale: string;
  readonly note: string;
}

/** Options of {@link coreRound}. */
export interface CoreRoundOptions {
  readonly queue: string;
  readonly jobs: number;
  readonly concurrency: number;
  readonly leaseMs?: number;
}

/**
 * One end-to-end round through `@bg/core`: `enqueueMany` N jobs, drain them with
 * `createWorker` and a no-op handler, and return jobs/s measured until the last ack
 * (the worker's `succeeded` event comes after the ack resolved).
 */
export async function coreRound(adapter: Adapter, options: CoreRoundOptions): Promise<number> {
  const { queue, jobs: n } = options;
  await adapter.ensureQueue(queue);
  const jobs = createQueue({ adapter, queue });
  const payloads: BenchPayload[] = Array.from({ length: n }, (_, i) => ({
    userId: `u-${i}`,
    locale: 'de',
    note: 'x'.repeat(160),
  }));
  let acked = 0;
  let resolveAll: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const worker = createWorker({
    adapter,
    queue,
    concurrency: options.concurrency,
    leaseMs: options.leaseMs ?? 60_000,
    pollMs: 1_000,
    onEvent: (e) => {
      if (e.type === 'succeeded' && ++acked >= n) resolveAll();
    },
  });
  worker.handle(benchJob, async () => {});
  const start = performance.now();
  await jobs.enqueueMany(benchJob, payloads);
  await worker.start();
  await allDone;
  const rate = n / ((performance.now() - start) / 1_000);
  await worker.stop({ graceMs: 1_000 });
  return rate;
}

/** The median of a list of numbers (0 for an empty list). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * Runs each variant once per round, rotating their order every round so that no variant
 * always runs right after another (a shared machine drifts; adjacent runs see the same
 * weather). Returns each variant's results in round order; `onRound` sees each round's.
 */
export async function runRounds<K extends string, R>(
  rounds: number,
  variants: Readonly<Record<K, (round: number) => Promise<R>>>,
  onRound?: (round: number, results: Readonly<Record<K, R>>) => void,
): Promise<Record<K, R[]>> {
  const names = Object.keys(variants) as K[];
  const all = Object.fromEntries(names.map((name) => [name, [] as R[]])) as Record<K, R[]>;
  for (let round = 1; round <= rounds; round++) {
    const results = {} as Record<K, R>;
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length] as K;
      results[name] = await variants[name](round);
      all[name].push(results[name]);
    }
    onRound?.(round, results);
  }
  return all;
}

/** Options of {@link compareWithRaw}. */
export interface CompareWithRawOptions {
  readonly rounds: number;
  /** What one job costs in every variant, e.g. `send + receive + delete per job`. */
  readonly work: string;
  /** Display names of the three variants. */
  readonly names: { readonly raw: string; readonly adapter: string; readonly core: string };
  /** One round of each variant, returning jobs/s. */
  readonly raw: () => Promise<number>;
  readonly adapter: () => Promise<number>;
  readonly core: () => Promise<number>;
}

/**
 * The adapter benchmarks' comparison: the raw client, the adapter and the core, in rotated
 * rounds ({@link runRounds}); prints each round and the medians with their share of raw, and
 * returns the medians.
 */
export async function compareWithRaw(options: CompareWithRawOptions): Promise<{ raw: number; adapter: number; core: number }> {
  const rates = await runRounds(options.rounds, { raw: options.raw, adapter: options.adapter, core: options.core }, (round, r) =>
    console.log(
      `round ${round}: raw ${r.raw.toFixed(0)} jobs/s, adapter ${r.adapter.toFixed(0)} jobs/s, core ${r.core.toFixed(0)} jobs/s`,
    ),
  );
  const medians = { raw: median(rates.raw), adapter: median(rates.adapter), core: median(rates.core) };
  const line = (name: string, value: number): string =>
    `${name.padEnd(34)} ${value.toFixed(0).padStart(7)} jobs/s  ${((value / medians.raw) * 100).toFixed(0).padStart(4)}% of raw`;
  console.log(`\nmedians of ${options.rounds} rounds (${options.work})`);
  for (const variant of ['raw', 'adapter', 'core'] as const) console.log(line(options.names[variant], medians[variant]));
  return medians;
}

/** The adapter benchmarks' message body: about 200 bytes of JSON. */
export const benchBody = JSON.stringify({ userId: 'u-123456', locale: 'de', note: 'x'.repeat(160) });

/** A fresh queue name for one round of one variant. */
export function benchQueueName(kind: string): string {
  return `bench-${kind}-${randomBytes(4).toString('hex')}`;
}

/** Runs `fn(0) … fn(count - 1)`, at most `width` at a time. */
export async function pool(count: number, width: number, fn: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) await fn(next++);
    }),
  );
}

/** Options of {@link adapterRound}. */
export interface AdapterRoundOptions {
  readonly jobs: number;
  /** Messages per `send`, and how many sends run at once (default 1). */
  readonly sendBatch: number;
  readonly sendsInFlight?: number;
  /** Receive loops running at once, and what each receive asks for. */
  readonly receivers: number;
  readonly receive: { readonly max: number; readonly leaseMs: number; readonly waitMs?: number };
  /** Pause of a receive loop after an empty receive (default none). */
  readonly pauseWhenEmptyMs?: number;
}

/**
 * One round at adapter level: `send` the jobs ({@link benchBody}) in batches, then drain them
 * with receive loops that `ack` every message; returns jobs/s from the first send to the last ack.
 */
export async function adapterRound(adapter: Adapter, options: AdapterRoundOptions): Promise<number> {
  const { jobs, sendBatch } = options;
  const queue = benchQueueName('adapter');
  await adapter.ensureQueue(queue);
  const start = performance.now();
  await pool(Math.ceil(jobs / sendBatch), options.sendsInFlight ?? 1, async (b) => {
    const first = b * sendBatch;
    await adapter.send(
      queue,
      Array.from({ length: Math.min(sendBatch, jobs - first) }, (_, k) => ({
        id: `job-${first + k}`,
        body: benchBody,
        attributes: { 'bg-type': 'bench.noop' },
      })),
    );
  });
  let done = 0;
  await Promise.all(
    Array.from({ length: options.receivers }, async () => {
      while (done < jobs) {
        const got = await adapter.receive(queue, options.receive);
        if (got.length === 0 && options.pauseWhenEmptyMs !== undefined) {
          await new Promise((resolve) => setTimeout(resolve, options.pauseWhenEmptyMs));
          continue;
        }
        await Promise.all(got.map((m) => adapter.ack(queue, m.handle)));
        done += got.length;
      }
    }),
  );
  return jobs / ((performance.now() - start) / 1_000);
}
