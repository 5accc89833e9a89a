/**
 * Benchmark: the raw `@azure/storage-queue` client, `@bg/azure-queue` at adapter level and the
 * public API (`createQueue().enqueueMany` + `createWorker`) doing the same work, side by side
 * in rotated rounds on one private Azurite (its CPU read from /proc).
 *
 * - raw: `sendMessage` × N (32 in flight, the body Base64-encoded as the adapter sends it); then 4 loops of `receiveMessages(32)` each deleting
 *   a batch (`deleteMessage` per message, in parallel) while receiving the next;
 * - adapter: `send` in batches of 32; then the same 4 loops doing `receive({ max: 32 })` and
 *   one `ack` per message;
 * - core: `enqueueMany` of every job, then a worker of concurrency 128 with a no-op handler.
 *
 * Azure Storage queues have no long poll: every loop pauses 10 ms after an empty receive.
 * Every contestant stops at the same event, the last job's delete confirmed. Azurite bounds
 * the throughput of all three (it is a single Node process doing much more per request than
 * the client), so compare the client CPU µs per job: that is our overhead.
 * Run: `pnpm --filter @bg/azure-queue bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import { type DequeuedMessageItem, QueueServiceClient } from '@azure/storage-queue';
import { azureQueueAdapter } from '@bg/azure-queue';
import { startAzurite } from '@bg/backends/azurite';
import {
  adapterRound,
  benchBody,
  benchQueueName,
  coreRound,
  measure,
  pool,
  processTreeCpuUs,
  type RoundResult,
  reportTarget,
  runBench,
  type ServerCpu,
  startDrain,
} from '@bg/backends/bench';

const JOBS = Number(process.env.BENCH_JOBS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 32;
const RECEIVERS = 4;
const PAUSE_WHEN_EMPTY_MS = 10;
/** The raw client sends the bytes the adapter sends: Base64 text (plain JSON would be XML-escaped). */
const BODY_BASE64 = Buffer.from(benchBody, 'utf8').toString('base64');

async function rawRound(service: QueueServiceClient, serverCpu: ServerCpu): Promise<RoundResult> {
  const q = service.getQueueClient(benchQueueName('raw'));
  await q.create();
  const enqueue = await measure(
    () =>
      pool(JOBS, IN_FLIGHT, async () => {
        await q.sendMessage(BODY_BASE64, { messageTimeToLive: -1 });
      }),
    serverCpu,
  );
  const drain = startDrain<DequeuedMessageItem>({
    jobs: JOBS,
    loops: RECEIVERS,
    pauseWhenEmptyMs: PAUSE_WHEN_EMPTY_MS,
    receive: async (signal) => {
      const got = await q.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 60, abortSignal: signal });
      // A consumer reads what it received: the body, decoded as it was encoded.
      for (const m of got.receivedMessageItems) if (Buffer.from(m.messageText, 'base64').length === 0) throw new Error('empty');
      return got.receivedMessageItems;
    },
    settle: async (messages) => {
      await Promise.all(messages.map((m) => q.deleteMessage(m.messageId, m.popReceipt)));
    },
  });
  const drained = await measure(() => drain.done, serverCpu);
  await drain.close();
  await q.delete();
  return { jobs: JOBS, enqueue: enqueue.sample, drain: drained.sample };
}

const server = await startAzurite();
if (!server) {
  console.log('Azurite is not installed: nothing to benchmark.');
} else {
  const serverCpu: ServerCpu = () => processTreeCpuUs(server.pid);
  const service = QueueServiceClient.fromConnectionString(server.connectionString);
  const adapter = azureQueueAdapter({ connectionString: server.connectionString });
  const adapterOptions = {
    jobs: JOBS,
    sendBatch: IN_FLIGHT,
    receivers: RECEIVERS,
    receive: { max: 32, leaseMs: 60_000 },
    pauseWhenEmptyMs: PAUSE_WHEN_EMPTY_MS,
    serverCpu,
  };
  const coreOptions = { jobs: JOBS, concurrency: RECEIVERS * 32, serverCpu };
  try {
    // Warm-up (JIT, connections), not measured.
    await rawRound(service, serverCpu);
    await adapterRound(adapter, adapterOptions);
    await coreRound(adapter, coreOptions);
    const summaries = await runBench({
      title: `Azure Storage queue on Azurite ${server.queueEndpoint} (pid ${server.pid}): ${JOBS} jobs per round (send + receive + delete each), ${IN_FLIGHT} sends in flight, ${RECEIVERS} receive loops of 32 / worker concurrency ${RECEIVERS * 32}`,
      rounds: ROUNDS,
      contestants: [
        { name: 'raw @azure/storage-queue', role: 'raw', round: () => rawRound(service, serverCpu) },
        { name: '@bg/azure-queue adapter', role: 'adapter', round: () => adapterRound(adapter, adapterOptions) },
        { name: '@bg/core queue + worker', role: 'core', round: () => coreRound(adapter, coreOptions) },
      ],
    });
    reportTarget(summaries, '@bg/core queue + worker', 0.9, 'Azurite-bound: compare client CPU µs/job too');
  } finally {
    await adapter.close();
    await server.stop();
  }
}
