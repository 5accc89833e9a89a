/**
 * Benchmark: the raw `@aws-sdk/client-sqs` client, `@bg/sqs` at adapter level and the public
 * API (`createQueue().enqueueMany` + `createWorker`) doing the same work, side by side in
 * rotated rounds on one fauxqs emulator running in its own process (so this process's CPU is
 * the client's alone, and the emulator's is read from /proc).
 *
 * - raw: `SendMessageBatch` of 10 (8 in flight); then 8 loops of `ReceiveMessage` (10, long
 *   poll 1 s, the adapter's attributes) each deleting a batch with `DeleteMessageBatch` while
 *   receiving the next;
 * - adapter: `send` of 10 (8 in flight); then the same 8 loops doing `receive({ max: 10,
 *   waitMs: 1000 })` and one `ack` per message (the adapter coalesces them into
 *   `DeleteMessageBatch`);
 * - core: `enqueueMany` of every job, then a worker of concurrency 80 with a no-op handler.
 *
 * Every contestant works on a queue made by `ensureQueue` (the server does the same work for
 * each). Every contestant stops at the same event: the last job's delete confirmed (the worker's
 * last `succeeded`); the long polls still open then are aborted, not waited for.
 * Prints enqueue and drain jobs/s, client and server CPU µs per job and the ratios to raw.
 * Run: `pnpm --filter @bg/sqs bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
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
  startFauxqsProcess,
} from '@bg/backends/bench';
import { sqsAdapter } from '@bg/sqs';

const JOBS = Number(process.env.BENCH_JOBS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCHES_IN_FLIGHT = 8;
const RECEIVERS = 8;

async function rawRound(client: SQSClient, serverCpu: ServerCpu): Promise<RoundResult> {
  // The same kind of queue as the others (made by ensureQueue: its retention and size limits).
  const queue = benchQueueName('raw');
  await adapter.ensureQueue(queue);
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queue }));
  const batches = Math.ceil(JOBS / 10);
  const enqueue = await measure(
    () =>
      pool(batches, BATCHES_IN_FLIGHT, async (b) => {
        const answer = await client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: Math.min(10, JOBS - b * 10) }, (_, k) => ({
              Id: String(k),
              MessageBody: benchBody,
              MessageAttributes: {
                'bg.id': { DataType: 'String', StringValue: `job-${b * 10 + k}` },
                'bg-type': { DataType: 'String', StringValue: 'bench.noop' },
              },
            })),
          }),
        );
        if (answer.Failed?.length) throw new Error('raw send failed');
      }),
    serverCpu,
  );
  const drain = startDrain<Message>({
    jobs: JOBS,
    loops: RECEIVERS,
    receive: async (signal) => {
      const got = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal: signal },
      );
      return got.Messages ?? [];
    },
    settle: async (messages) => {
      const deleted = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      if (deleted.Failed?.length) throw new Error('raw delete failed');
    },
  });
  const drained = await measure(() => drain.done, serverCpu);
  await drain.close();
  await adapter.deleteQueue?.(queue);
  return { jobs: JOBS, enqueue: enqueue.sample, drain: drained.sample };
}

const server = await startFauxqsProcess();
const serverCpu: ServerCpu = () => processTreeCpuUs(server.pid);
const config = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
const client = new SQSClient(config);
const adapter = sqsAdapter(config);
const adapterOptions = {
  jobs: JOBS,
  sendBatch: 10,
  sendsInFlight: BATCHES_IN_FLIGHT,
  receivers: RECEIVERS,
  receive: { max: 10, leaseMs: 60_000, waitMs: 1_000 },
  serverCpu,
};
const coreOptions = { jobs: JOBS, concurrency: RECEIVERS * 10, serverCpu };
try {
  // Warm-up (JIT, connections), not measured.
  await rawRound(client, serverCpu);
  await adapterRound(adapter, adapterOptions);
  await coreRound(adapter, coreOptions);
  const summaries = await runBench({
    title: `SQS on fauxqs ${server.endpoint} (own process, pid ${server.pid}): ${JOBS} jobs per round (send + receive + delete each), ${BATCHES_IN_FLIGHT} send batches in flight, ${RECEIVERS} receive loops / worker concurrency ${RECEIVERS * 10}`,
    rounds: ROUNDS,
    contestants: [
      { name: 'raw @aws-sdk/client-sqs', role: 'raw', round: () => rawRound(client, serverCpu) },
      { name: '@bg/sqs adapter', role: 'adapter', round: () => adapterRound(adapter, adapterOptions) },
      { name: '@bg/core queue + worker', role: 'core', round: () => coreRound(adapter, coreOptions) },
    ],
  });
  reportTarget(summaries, '@bg/core queue + worker', 0.9);
} finally {
  await adapter.close();
  client.destroy();
  await server.stop();
}
