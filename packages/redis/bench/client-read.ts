/**
 * What the Redis client itself costs to read a worker's batch: Node CPU per stream entry of one
 * `XREADGROUP … COUNT 200` on each client library, side by side in rotated rounds, against one
 * private redis-server. The batch is the adapter's own (200 entries as `enqueueMany` writes
 * them: a ~300-byte bench envelope and its type each), read from the consumer's pending list
 * (`STREAMS <key> 0`), which changes nothing, so every read returns the same entries and both
 * clients parse exactly the same replies. Prints the client's Node CPU and redis-server's CPU
 * per entry; the gap between the client rows is what the choice of client costs a worker per
 * job before bg's own code runs.
 * Run: pnpm --filter @bg/redis bench:client  (BENCH_READS reads per round, BENCH_ROUNDS rounds,
 * BENCH_BATCH entries per read)
 */
import { benchEnvelopes } from '@bg/backends/bench';
import { startRedis } from '@bg/backends/redis';
import { Redis } from 'ioredis';
import { Redis as Redis5 } from 'ioredis5';
import { streamFields } from '../src/message-codec.js';
import { redisCpuUs } from './redis-info.js';

const READS = Number(process.env.BENCH_READS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = Number(process.env.BENCH_BATCH ?? 200);

/** A client under test, through its `xreadgroup` method as the adapter calls it (typed loosely: 5 and 6 differ). */
interface Reader {
  readonly name: string;
  readonly client: { xreadgroup(...args: (string | number)[]): Promise<unknown>; quit(): Promise<unknown> };
}
const readerOf = (name: string, client: unknown): Reader => ({ name, client: client as Reader['client'] });

const server = await startRedis();
if (!server) throw new Error('redis-server is not installed');
const stream = 'bench:client-read';
const admin = new Redis(server.url);
try {
  await admin.xgroup('CREATE', stream, 'g', '$', 'MKSTREAM');
  const pipeline = admin.pipeline();
  for (const message of benchEnvelopes(BATCH)) pipeline.xadd(stream, '*', ...streamFields(message));
  await pipeline.exec();
  // Delivered once to consumer c: from now on `0` reads the same pending entries again and again.
  await admin.xreadgroup('GROUP', 'g', 'c', 'COUNT', BATCH, 'STREAMS', stream, '>');

  const readers: Reader[] = [
    readerOf('ioredis 6 (RESP3, its default)', new Redis(server.url)),
    readerOf('ioredis 6, protocol: 2', new Redis(server.url, { protocol: 2 })),
    readerOf('ioredis 5 (redis-parser)', new Redis5(server.url)),
  ];
  const read = (reader: Reader) => reader.client.xreadgroup('GROUP', 'g', 'c', 'COUNT', BATCH, 'STREAMS', stream, '0');
  for (const reader of readers) {
    const reply = (await read(reader)) as [string, [string, string[]][]][];
    const entries = reply?.[0]?.[1]?.length;
    if (entries !== BATCH) throw new Error(`${reader.name}: XREADGROUP … 0 gave ${entries} entries, expected ${BATCH}`);
    for (let i = 0; i < 50; i++) await read(reader);
  }

  const results = new Map<string, { client: number[]; server: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    // Rotated: each round starts with another client.
    for (let k = 0; k < readers.length; k++) {
      const reader = readers[(round + k) % readers.length] as Reader;
      const serverBefore = await redisCpuUs(admin);
      const before = process.cpuUsage();
      for (let i = 0; i < READS; i++) await read(reader);
      const used = process.cpuUsage(before);
      const serverMs = ((await redisCpuUs(admin)) - serverBefore) / 1_000;
      const perEntry = (ms: number) => (ms * 1e6) / (READS * BATCH);
      const row = results.get(reader.name) ?? { client: [], server: [] };
      row.client.push(perEntry((used.user + used.system) / 1_000));
      row.server.push(perEntry(serverMs));
      results.set(reader.name, row);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  console.log(
    `XREADGROUP of ${BATCH} pending entries (the adapter's layout, ~300-byte envelopes), ${READS} reads per round, medians of ${ROUNDS} rotated rounds`,
  );
  console.log('client                             Node ns/entry  redis-server ns/entry');
  for (const [name, row] of results) {
    console.log(
      `${name.padEnd(34)} ${median(row.client).toFixed(0).padStart(13)}  ${median(row.server).toFixed(0).padStart(21)}`,
    );
  }
  await Promise.all(readers.map((reader) => reader.client.quit()));
} finally {
  await admin.quit();
  await server.stop();
}
