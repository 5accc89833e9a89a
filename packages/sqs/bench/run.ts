/**
 * Benchmark: the raw `@aws-sdk/client-sqs` client, `@bg/sqs` at adapter level and the public
 * API (`createQueue().enqueueMany` + `createWorker`) doing the same work, side by side in
 * rotated rounds on one fauxqs emulator running in its own process (so this process's CPU is
 * the client's alone, and the emulator's is read from /proc).
 *
 * Like for like: every contestant sends the bytes the core sends for a job ({@link jobMessage}:
 * its 328-byte JSON envelope, a 36-character id, the `bg-type` attribute), on a queue made by
 * `ensureQueue`, with as many requests in flight as the core makes:
 * - raw: `SendMessageBatch` of 10, 80 in flight (the core's 8 sends of 100 at once, each 10
 *   batch calls); then 8 loops of `ReceiveMessage` (10, long poll 1 s, the adapter's
 *   attributes) each deleting a batch with `DeleteMessageBatch` while receiving the next;
 * - adapter: `send` of 100 (split into 10 calls), 8 at once; then the same 8 loops doing
 *   `receive({ max: 10, waitMs: 1000 })` and one `ack` per message (coalesced into
 *   `DeleteMessageBatch`);
 * - core: `enqueueMany` of every job, then a worker of concurrency 80 with a no-op handler
 *   (receives of 80 split into 8 calls, two receives in flight while it prefetches);
 * - ceiling: the raw loop with 16 receive loops, as many `ReceiveMessage` calls in flight as
 *   the core's peak (does the raw baseline gain from more receives in flight?).
 *
 * Every contestant stops at the same event: the last job's delete confirmed (the worker's last
 * `succeeded`); the long polls still open then are aborted, not waited for. Prints enqueue and
 * drain jobs/s, client and server CPU µs per job, the ratios to raw, and the requests per job.
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
  benchQueueName,
  coreRound,
  jobMessage,
  measure,
  pool,
  printRequestTable,
  processTreeCpuUs,
  type RoundResult,
  reportTarget,
  roundStamp,
  runBench,
  type ServerCpu,
  startDrain,
  startFauxqsProcess,
} from '@bg/backends/bench';
import { SQS_MAX_BATCH, sqsAdapter } from '@bg/sqs';
import { countRequests } from './request-count.js';

const JOBS = Number(process.env.BENCH_JOBS ?? 4_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const RECEIVERS = 8;
const CONCURRENCY = RECEIVERS * SQS_MAX_BATCH;

async function rawRound(client: SQSClient, serverCpu: ServerCpu, sendsInFlight: number, loops: number): Promise<RoundResult> {
  // The same kind of queue as the others (made by ensureQueue: its retention and size limits).
  const queue = benchQueueName('raw');
  await adapter.ensureQueue(queue);
  const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: queue }));
  const batches = Math.ceil(JOBS / SQS_MAX_BATCH);
  const stamp = roundStamp();
  const enqueue = await measure(
    () =>
      pool(batches, sendsInFlight, async (b) => {
        const answer = await client.send(
          new SendMessageBatchCommand({
            QueueUrl,
            Entries: Array.from({ length: Math.min(SQS_MAX_BATCH, JOBS - b * SQS_MAX_BATCH) }, (_, k) => {
              const m = jobMessage(b * SQS_MAX_BATCH + k, stamp);
              return {
                Id: String(k),
                MessageBody: m.body,
                MessageAttributes: {
                  'bg.id': { DataType: 'String', StringValue: m.id },
                  'bg-type': { DataType: 'String', StringValue: m.attributes['bg-type'] },
                },
              };
            }),
          }),
        );
        if (answer.Failed?.length) throw new Error('raw send failed');
      }),
    serverCpu,
  );
  const drain = startDrain<Message>({
    jobs: JOBS,
    loops,
    receive: async (signal) => {
      const got = await client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: SQS_MAX_BATCH,
          VisibilityTimeout: 60,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        { abortSignal: signal },
      );
      // A consumer reads what it received.
      for (const m of got.Messages ?? []) if (!m.Body) throw new Error('empty message');
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

const requests = countRequests();
const counted = requests.counted.bind(requests);
const server = await startFauxqsProcess();
const serverCpu: ServerCpu = () => processTreeCpuUs(server.pid);
const config = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
const client = new SQSClient(config);
const adapter = sqsAdapter(config);
/** Sends of the core: `enqueueMany` keeps 8 adapter sends in flight, each split into calls of 10. */
const coreSendCalls = 8 * Math.ceil(adapter.capabilities.maxBatchSize / SQS_MAX_BATCH);
const adapterOptions = {
  jobs: JOBS,
  sendBatch: adapter.capabilities.maxBatchSize,
  sendsInFlight: 8,
  receivers: RECEIVERS,
  receive: { max: SQS_MAX_BATCH, leaseMs: 60_000, waitMs: 1_000 },
  serverCpu,
};
const coreOptions = { jobs: JOBS, concurrency: CONCURRENCY, serverCpu };
try {
  // Warm-up (JIT, connections), not measured.
  await rawRound(client, serverCpu, coreSendCalls, RECEIVERS);
  await adapterRound(adapter, adapterOptions);
  await coreRound(adapter, coreOptions);
  const summaries = await runBench({
    title: `SQS on fauxqs ${server.endpoint} (own process, pid ${server.pid}): ${JOBS} jobs per round (send + receive + delete each), ${coreSendCalls} SendMessageBatch calls in flight, ${RECEIVERS} receive loops / worker concurrency ${CONCURRENCY}`,
    rounds: ROUNDS,
    contestants: [
      {
        name: 'raw @aws-sdk/client-sqs',
        role: 'raw',
        round: counted('raw', () => rawRound(client, serverCpu, coreSendCalls, RECEIVERS)),
      },
      {
        name: `raw, ${2 * RECEIVERS} receive loops`,
        role: 'ceiling',
        round: counted(`raw, ${2 * RECEIVERS} receive loops`, () => rawRound(client, serverCpu, coreSendCalls, 2 * RECEIVERS)),
      },
      { name: '@bg/sqs adapter', role: 'adapter', round: counted('adapter', () => adapterRound(adapter, adapterOptions)) },
      { name: '@bg/core queue + worker', role: 'core', round: counted('core', () => coreRound(adapter, coreOptions)) },
    ],
  });
  reportTarget(summaries, '@bg/core queue + worker', 0.9);
  printRequestTable(requests.perRound, JOBS, [
    'SendMessageBatch',
    'ReceiveMessage',
    'ReceiveMessage empty',
    'DeleteMessageBatch',
    'ChangeMessageVisibilityBatch',
    'ReceiveMessage in flight max',
  ]);
} finally {
  await adapter.close();
  client.destroy();
  await server.stop();
}
