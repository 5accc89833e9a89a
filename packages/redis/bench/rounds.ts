/**
 * The Redis bench's contestants, one round each, run by `isolatedRound` in a fresh child
 * process per round (bench/run.ts). Each round enqueues `jobs` jobs of a ~200-byte payload on
 * a fresh stream or queue of the private redis-server at `url`, then drains them; both phases
 * are measured with the kit's `measure` (this process's CPU and GC, redis-server's CPU from
 * `INFO cpu`), and every drain stops at the same event: the last job's ack (BullMQ's
 * `completed`) has resolved. `extra['B/job']` is Redis memory per queued job (`INFO memory`
 * before and after enqueueing).
 */
import { randomBytes } from 'node:crypto';
import {
  benchEnvelopes,
  benchJob,
  benchPayloads,
  type IsolatedRoundFn,
  measure,
  type RoundResult,
  type Sample,
} from '@bg/backends/bench';
import { createQueue, createWorker } from '@bg/core';
import { Queue as BullQueue, Worker as BullWorker } from 'bullmq';
import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { redisAdapter } from '../src/index.js';
import { commandStats, printCommandStats, redisCpuUs, resetCommandStats, usedMemory } from './redis-info.js';

/** What every Redis round gets: the server and the shape of the round. */
export interface RedisRoundArgs {
  readonly url: string;
  readonly jobs: number;
  readonly concurrency: number;
}

const suffix = (): string => randomBytes(4).toString('hex');

/**
 * Runs one round: `enqueue`, then `drain`, measured; the server's memory growth over the
 * enqueue per job, and (`BENCH_COMMANDSTATS`, not in warm-up) its time per command of the drain.
 */
async function round(
  args: RedisRoundArgs,
  warmup: boolean,
  label: string,
  phases: { enqueue(): Promise<void>; drain(): Promise<void>; cleanUp(): Promise<void> },
): Promise<RoundResult> {
  const admin = new Redis(args.url);
  try {
    const serverCpu = () => redisCpuUs(admin);
    const before = await usedMemory(admin);
    const enqueue: Sample = (await measure(phases.enqueue, serverCpu)).sample;
    const bytesPerJob = ((await usedMemory(admin)) - before) / args.jobs;
    if (commandStats && !warmup) await resetCommandStats(admin);
    const drain: Sample = (await measure(phases.drain, serverCpu)).sample;
    if (commandStats && !warmup) await printCommandStats(admin, `${label} c=${args.concurrency}`, args.jobs);
    await phases.cleanUp();
    return { jobs: args.jobs, enqueue, drain, extra: { 'B/job': bytesPerJob } };
  } finally {
    admin.disconnect();
  }
}

type StreamReply = [string, [string, string[]][]][] | null;

/** Pipelined `XADD`s, 1 000 per round trip. */
async function xaddAll(client: Redis, stream: string, bodies: readonly string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 1_000) {
    const p = client.pipeline();
    for (const body of bodies.slice(i, i + 1_000)) p.xadd(stream, '*', 'b', body);
    await p.exec();
  }
}

/**
 * The ceiling (not a peer): ioredis Streams, pipelined `XADD`; `concurrency` connections each
 * `XREADGROUP COUNT 100` then one `XACK` for the batch; never leases, never deletes.
 */
export const rawCeiling: IsolatedRoundFn<RedisRoundArgs> = async (args, { warmup }) => {
  const client = new Redis(args.url);
  const stream = `raw:${suffix()}`;
  await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
  const conns = [client, ...Array.from({ length: args.concurrency - 1 }, () => client.duplicate())];
  await Promise.all(conns.map((c) => c.ping()));
  const bodies = benchEnvelopes(args.jobs).map((m) => m.body);
  return round(args, warmup, 'raw ceiling', {
    enqueue: () => xaddAll(client, stream, bodies),
    drain: async () => {
      let done = 0;
      await Promise.all(
        conns.map(async (conn, c) => {
          while (done < args.jobs) {
            const r = (await conn.xreadgroup('GROUP', 'g', `c${c}`, 'COUNT', 100, 'STREAMS', stream, '>')) as StreamReply;
            const entries = r?.[0]?.[1] ?? [];
            if (entries.length === 0) continue;
            for (const [, fields] of entries) JSON.parse(fields[1] as string);
            await conn.xack(stream, 'g', ...entries.map(([id]) => id));
            done += entries.length;
          }
        }),
      );
    },
    cleanUp: async () => {
      await client.del(stream);
      for (const c of conns) c.disconnect();
    },
  });
};

/** Opens an ioredis client on `url`: ioredis 6 (the dev dependency) or 5 (`ioredis5`). */
type OpenClient = (url: string) => Redis;

/** ioredis 6, as the adapter opens it from a URL. */
const openIoredis6: OpenClient = (url) => new Redis(url);

/**
 * ioredis 5 (`ioredis5`, the `redis-parser` reply decoder): its class is another type with the
 * same commands, which is all these rounds and the adapter call (the adapter accepts `^5.4.0`).
 */
const openIoredis5: OpenClient = (url) => new Redis5(url) as unknown as Redis;

/** An ioredis 5 client for `redisAdapter({ client })`: the options the adapter gives its own, connected. */
async function connectIoredis5(url: string): Promise<Redis> {
  const client = new Redis5(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  await client.connect();
  return client as unknown as Redis;
}

/**
 * The like-for-like raw loop (the peer bg must match): one connection; `concurrency` consumers
 * each `XREADGROUP COUNT 100` (the pending list's delivery time is the lease, reclaimable by
 * `XAUTOCLAIM`) and run the batch's jobs; each finished job's `XACK` + `XDEL` go out with the
 * others of the same turn of the event loop (one pipeline), and the consumer asks for more
 * once its batch is acked. On the client `open` opens.
 */
const rawLeaseOn =
  (open: OpenClient, label: string): IsolatedRoundFn<RedisRoundArgs> =>
  async (args, { warmup }) => {
    const client = open(args.url);
    const stream = `rawl:${suffix()}`;
    await client.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM');
    const bodies = benchEnvelopes(args.jobs).map((m) => m.body);
    let pendingAcks: string[] = [];
    let flushed: Promise<unknown> | undefined;
    const ack = (id: string): Promise<unknown> => {
      pendingAcks.push(id);
      flushed ??= new Promise((resolve) => setImmediate(resolve)).then(() => {
        const ids = pendingAcks;
        pendingAcks = [];
        flushed = undefined;
        return client
          .pipeline()
          .xack(stream, 'g', ...ids)
          .xdel(stream, ...ids)
          .exec();
      });
      return flushed;
    };
    return round(args, warmup, label, {
      enqueue: () => xaddAll(client, stream, bodies),
      drain: async () => {
        let done = 0;
        await Promise.all(
          Array.from({ length: args.concurrency }, async (_, c) => {
            while (done < args.jobs) {
              const r = (await client.xreadgroup('GROUP', 'g', `c${c}`, 'COUNT', 100, 'STREAMS', stream, '>')) as StreamReply;
              const entries = r?.[0]?.[1] ?? [];
              if (entries.length === 0) {
                await new Promise((resolve) => setTimeout(resolve, 5));
                continue;
              }
              await Promise.all(
                entries.map(([id, fields]) => {
                  JSON.parse(fields[1] as string);
                  return ack(id);
                }),
              );
              done += entries.length;
            }
          }),
        );
      },
      cleanUp: async () => {
        await client.del(stream);
        client.disconnect();
      },
    });
  };

/** The like-for-like raw loop on ioredis 6. */
export const rawLease = rawLeaseOn(openIoredis6, 'raw like-for-like, ioredis 6');
/** The like-for-like raw loop on ioredis 5. */
export const rawLease5 = rawLeaseOn(openIoredis5, 'raw like-for-like, ioredis 5');

/** BullMQ 5: `addBulk` of 1 000 at a time (`removeOnComplete`), then a `Worker` with a no-op processor. */
export const bullmq: IsolatedRoundFn<RedisRoundArgs> = async (args, { warmup }) => {
  const { hostname, port } = new URL(args.url);
  const connection = { host: hostname, port: Number(port), maxRetriesPerRequest: null };
  const name = `bull-${suffix()}`;
  const queue = new BullQueue(name, { connection });
  await queue.waitUntilReady();
  const payloads = benchPayloads(args.jobs);
  let worker: BullWorker | undefined;
  return round(args, warmup, 'BullMQ', {
    enqueue: async () => {
      for (let i = 0; i < args.jobs; i += 1_000) {
        await queue.addBulk(
          payloads.slice(i, i + 1_000).map((data) => ({ name: benchJob.type, data, opts: { removeOnComplete: true } })),
        );
      }
    },
    drain: async () => {
      let done = 0;
      await new Promise<void>((resolve) => {
        worker = new BullWorker(name, async () => {}, { connection, concurrency: args.concurrency });
        worker.on('completed', () => {
          if (++done === args.jobs) resolve();
        });
      });
    },
    cleanUp: async () => {
      await worker?.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  });
};

/**
 * `@bg/redis` at adapter level: `send` in batches of 1 000; `concurrency` loops of
 * `receive({ max: 100 })`, `JSON.parse` of each body and one `ack` per message.
 */
export const bgAdapter: IsolatedRoundFn<RedisRoundArgs> = async (args, { warmup }) => {
  const adapter = redisAdapter({ url: args.url, prefix: `bga-${suffix()}`, onWarning: () => {} });
  await adapter.ensureQueue('bench');
  const messages = benchEnvelopes(args.jobs);
  return round(args, warmup, '@bg/redis adapter', {
    enqueue: async () => {
      for (let i = 0; i < args.jobs; i += 1_000) await adapter.send('bench', messages.slice(i, i + 1_000));
    },
    drain: async () => {
      let done = 0;
      await Promise.all(
        Array.from({ length: args.concurrency }, async () => {
          while (done < args.jobs) {
            const got = await adapter.receive('bench', { max: 100, leaseMs: 30_000 });
            await Promise.all(
              got.map((m) => {
                JSON.parse(m.body);
                return adapter.ack('bench', m.handle);
              }),
            );
            done += got.length;
          }
        }),
      );
    },
    cleanUp: async () => {
      await adapter.deleteQueue('bench');
      await adapter.close();
    },
  });
};

/**
 * `@bg/redis` through the public API, as the Quickstart writes it: `createQueue().enqueueMany`
 * of every job, then `createWorker` (`concurrency`, `pollMs: 100`) with an async no-op handler; the
 * drain stops at the last job's `succeeded` event (emitted once its ack resolved). With `connect`,
 * on a client of ours (`redisAdapter({ client })`, opened with the options the adapter gives its
 * own), which the adapter must leave open: cleanUp checks that, then closes it.
 */
const bgWorkerOn =
  (connect: ((url: string) => Promise<Redis>) | undefined, label: string): IsolatedRoundFn<RedisRoundArgs> =>
  async (args, { warmup }) => {
    const prefix = `bgw-${suffix()}`;
    const client = await connect?.(args.url);
    const adapter = client
      ? redisAdapter({ client, prefix, onWarning: () => {} })
      : redisAdapter({ url: args.url, prefix, onWarning: () => {} });
    await adapter.ensureQueue('bench');
    const jobs = createQueue({ adapter, queue: 'bench' });
    const payloads = benchPayloads(args.jobs);
    let done = 0;
    let finish: () => void = () => {};
    const all = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const worker = createWorker({
      adapter,
      queue: 'bench',
      concurrency: args.concurrency,
      pollMs: 100,
      onEvent: (e) => {
        if (e.type === 'succeeded' && ++done === args.jobs) finish();
      },
    });
    // An async no-op, as handlers are written (and as BullMQ's processor in this bench).
    worker.handle(benchJob, async () => {});
    return round(args, warmup, label, {
      enqueue: async () => {
        await jobs.enqueueMany(benchJob, payloads);
      },
      drain: async () => {
        await worker.start();
        await all;
      },
      cleanUp: async () => {
        await worker.stop();
        await adapter.deleteQueue('bench');
        await adapter.close();
        if (client) {
          if (client.status !== 'ready')
            throw new Error(`${label}: the adapter closed a client it did not open (${client.status})`);
          await client.quit();
        }
      },
    });
  };

/** The public API on the adapter's own ioredis 6 client (from the URL). */
export const bgWorker = bgWorkerOn(undefined, '@bg/redis public API, ioredis 6');
/** The public API on an ioredis 5 client of ours (`redisAdapter({ client })`). */
export const bgWorker5 = bgWorkerOn(connectIoredis5, '@bg/redis public API, ioredis 5');
