/**
 * Benchmark: the raw `@azure/storage-queue` client against `@bg/azure-queue` doing the same
 * work on the same private Azurite, in one process.
 *
 * - raw: `sendMessage` × N (32 in flight), then receivers taking `receiveMessages(32)` and
 *   deleting each message (`deleteMessage`, in parallel);
 * - adapter: `send` in batches of 32, then receivers doing `receive({ max: 32 })` + `ack`;
 * - core: `createQueue().enqueueMany` then `createWorker` (no-op handler) until all are done.
 *
 * Prints jobs/s (send + receive + delete of every job) and the ratio to the raw client.
 * Run: `pnpm --filter @bg/azure-queue bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import { QueueServiceClient } from '@azure/storage-queue';
import { azureQueueAdapter } from '@bg/azure-queue';
import { startAzurite } from '@bg/backends/azurite';
import {
  benchBody,
  benchQueueName,
  compareWithRaw,
  pool,
  adapterRound as sharedAdapterRound,
  coreRound as sharedCoreRound,
} from '@bg/backends/bench';
import type { Adapter } from '@bg/core';

const JOBS = Number(process.env.BENCH_JOBS ?? 600);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const IN_FLIGHT = 32;
const RECEIVERS = 4;

async function rawRound(service: QueueServiceClient): Promise<number> {
  const q = service.getQueueClient(benchQueueName('raw'));
  await q.create();
  const start = performance.now();
  await pool(JOBS, IN_FLIGHT, async () => {
    await q.sendMessage(benchBody, { messageTimeToLive: -1 });
  });
  let done = 0;
  await Promise.all(
    Array.from({ length: RECEIVERS }, async () => {
      while (done < JOBS) {
        const got = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60 });
        await Promise.all(got.receivedMessageItems.map((m) => q.deleteMessage(m.messageId, m.popReceipt)));
        done += got.receivedMessageItems.length;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1_000;
  await q.delete();
  return JOBS / seconds;
}

function adapterRound(adapter: Adapter): Promise<number> {
  return sharedAdapterRound(adapter, {
    jobs: JOBS,
    sendBatch: IN_FLIGHT,
    receivers: RECEIVERS,
    receive: { max: 32, leaseMs: 60_000 },
  });
}

function coreRound(adapter: Adapter): Promise<number> {
  return sharedCoreRound(adapter, { queue: benchQueueName('core'), jobs: JOBS, concurrency: RECEIVERS * 32 });
}

async function main(): Promise<void> {
  const server = await startAzurite();
  if (!server) {
    console.log('Azurite is not installed: nothing to benchmark.');
    return;
  }
  try {
    const service = QueueServiceClient.fromConnectionString(server.connectionString);
    const adapter = azureQueueAdapter({ connectionString: server.connectionString });
    console.log(
      `Azurite ${server.queueEndpoint} — ${JOBS} jobs per round, ${ROUNDS} rounds, ${IN_FLIGHT} sends in flight, ${RECEIVERS} receivers`,
    );
    await rawRound(service); // warm-up
    await compareWithRaw({
      rounds: ROUNDS,
      work: 'send + receive + delete per job',
      names: { raw: 'raw @azure/storage-queue', adapter: '@bg/azure-queue adapter', core: '@bg/core createQueue/createWorker' },
      raw: () => rawRound(service),
      adapter: () => adapterRound(adapter),
      core: () => coreRound(adapter),
    });
    await adapter.close();
  } finally {
    await server.stop();
  }
}

await main();
