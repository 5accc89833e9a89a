/**
 * Benchmark: the raw `@aws-sdk/client-sqs` client against `@bg/sqs` doing the same batched
 * work on the same private fauxqs emulator, in one process.
 *
 * - raw: `SendMessageBatch` of 10 (8 batches in flight), then receivers doing
 *   `ReceiveMessage` (10) + `DeleteMessageBatch`, with the same message attribute (job id)
 *   and system attributes the adapter asks for;
 * - adapter: `send` of 10 (8 in flight), then receivers doing `receive({ max: 10 })` and one
 *   `ack` per message (the adapter coalesces them into `DeleteMessageBatch`);
 * - core: `createQueue().enqueueMany` then `createWorker` (no-op handler) until all are done.
 *
 * Prints jobs/s (send + receive + delete of every job) and the ratio to the raw client.
 * Run: `pnpm --filter @bg/sqs bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  benchBody,
  benchQueueName,
  compareWithRaw,
  pool,
  adapterRound as sharedAdapterRound,
  coreRound as sharedCoreRound,
} from '@bg/backends/bench';
import { startFauxqs } from '@bg/backends/sqs';
import type { Adapter } from '@bg/core';
import { sqsAdapter } from '@bg/sqs';

const JOBS = Number(process.env.BENCH_JOBS ?? 2_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCHES_IN_FLIGHT = 8;
const RECEIVERS = 8;
const batches = Math.ceil(JOBS / 10);
const batchSize = (b: number): number => Math.min(10, JOBS - b * 10);

async function rawRound(client: SQSClient): Promise<number> {
  const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: benchQueueName('raw') }));
  const start = performance.now();
  await pool(batches, BATCHES_IN_FLIGHT, async (b) => {
    const answer = await client.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: Array.from({ length: batchSize(b) }, (_, k) => ({
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
  });
  let done = 0;
  await Promise.all(
    Array.from({ length: RECEIVERS }, async () => {
      while (done < JOBS) {
        const got = await client.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 60,
            WaitTimeSeconds: 1,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          }),
        );
        const messages = got.Messages ?? [];
        if (messages.length === 0) continue;
        const deleted = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        if (deleted.Failed?.length) throw new Error('raw delete failed');
        done += messages.length;
      }
    }),
  );
  const rate = JOBS / ((performance.now() - start) / 1_000);
  await client.send(new DeleteQueueCommand({ QueueUrl }));
  return rate;
}

function adapterRound(adapter: Adapter): Promise<number> {
  return sharedAdapterRound(adapter, {
    jobs: JOBS,
    sendBatch: 10,
    sendsInFlight: BATCHES_IN_FLIGHT,
    receivers: RECEIVERS,
    receive: { max: 10, leaseMs: 60_000, waitMs: 1_000 },
  });
}

function coreRound(adapter: Adapter): Promise<number> {
  return sharedCoreRound(adapter, { queue: benchQueueName('core'), jobs: JOBS, concurrency: RECEIVERS * 10 });
}

async function main(): Promise<void> {
  const server = await startFauxqs();
  const config = { endpoint: server.endpoint, region: server.region, credentials: server.credentials };
  const client = new SQSClient(config);
  const adapter = sqsAdapter(config);
  try {
    console.log(
      `fauxqs ${server.endpoint} (in process) — ${JOBS} jobs per round, ${ROUNDS} rounds, ${BATCHES_IN_FLIGHT} send batches in flight, ${RECEIVERS} receivers`,
    );
    await rawRound(client); // warm-up
    await adapterRound(adapter);
    const { raw: r, adapter: a } = await compareWithRaw({
      rounds: ROUNDS,
      work: 'send + receive + delete per job',
      names: {
        raw: 'raw @aws-sdk/client-sqs (batched)',
        adapter: '@bg/sqs adapter send/receive/ack',
        core: '@bg/core createQueue/createWorker',
      },
      raw: () => rawRound(client),
      adapter: () => adapterRound(adapter),
      core: () => coreRound(adapter),
    });
    console.log(`target: adapter ≥ 80 % of raw → ${a / r >= 0.8 ? 'met' : 'NOT met'}`);
  } finally {
    await adapter.close();
    client.destroy();
    await server.stop();
  }
}

await main();
