/**
 * Benchmark: the raw `@google-cloud/pubsub` v1 client against `@bg/pubsub` doing the same
 * work on the same private Pub/Sub emulator, in one process.
 *
 * Every variant uses a queue made by `ensureQueue` (exactly-once subscription with a
 * dead-letter policy, 10 s ack deadline), so the server does the same work for each:
 * - raw: `publish` in requests of 1 000, then receivers doing `pull(1 000)` +
 *   one `acknowledge` of all the ack ids pulled;
 * - adapter: `send` in batches of 1 000, then receivers doing `receive({ max: 1 000,
 *   leaseMs: 10 000 })` + `ack` of each handle (the adapter coalesces them into one request);
 * - core: `createQueue().enqueueMany` then `createWorker` (no-op handler) until every job
 *   has been acked.
 *
 * Prints jobs/s (publish + pull + ack of every job) and the ratio to the raw client.
 * Run: `pnpm --filter @bg/pubsub bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import {
  benchBody,
  benchQueueName,
  compareWithRaw,
  adapterRound as sharedAdapterRound,
  coreRound as sharedCoreRound,
} from '@bg/backends/bench';
import { startPubSubEmulator } from '@bg/backends/pubsub-emulator';
import type { Adapter } from '@bg/core';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { pubsubAdapter, queueResources } from '../src/index.js';

// No metadata-server probing (the emulator needs no credentials).
process.env.METADATA_SERVER_DETECTION ??= 'none';

const JOBS = Number(process.env.BENCH_JOBS ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BATCH = 1_000;
const RECEIVERS = 4;
const LEASE_MS = 10_000;
const PROJECT = 'bg-bench';

interface Raw {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
}

async function rawRound(raw: Raw, adapter: Adapter): Promise<number> {
  const queue = benchQueueName('raw');
  await adapter.ensureQueue(queue);
  const { topic, subscription } = queueResources(PROJECT, 'bg-', queue);
  const start = performance.now();
  for (let i = 0; i < JOBS; i += BATCH) {
    const n = Math.min(BATCH, JOBS - i);
    await raw.publisher.publish({
      topic,
      messages: Array.from({ length: n }, (_, k) => ({
        data: Buffer.from(benchBody),
        attributes: { 'bg-id': `job-${i + k}`, 'bg-type': 'bench.noop' },
      })),
    });
  }
  let done = 0;
  await Promise.all(
    Array.from({ length: RECEIVERS }, async () => {
      while (done < JOBS) {
        const [response] = await raw.subscriber.pull({ subscription, maxMessages: BATCH, returnImmediately: true });
        const ackIds = (response.receivedMessages ?? []).map((m) => m.ackId as string);
        if (ackIds.length === 0) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        await raw.subscriber.acknowledge({ subscription, ackIds });
        done += ackIds.length;
      }
    }),
  );
  return JOBS / ((performance.now() - start) / 1_000);
}

function adapterRound(adapter: Adapter): Promise<number> {
  // Same loop as the raw one: no long poll (it would outlast the last job), 10 ms pause when empty.
  return sharedAdapterRound(adapter, {
    jobs: JOBS,
    sendBatch: BATCH,
    receivers: RECEIVERS,
    receive: { max: BATCH, leaseMs: LEASE_MS },
    pauseWhenEmptyMs: 10,
  });
}

function coreRound(adapter: Adapter): Promise<number> {
  return sharedCoreRound(adapter, { queue: benchQueueName('core'), jobs: JOBS, concurrency: 512, leaseMs: LEASE_MS });
}

async function main(): Promise<void> {
  const emulator = await startPubSubEmulator({ projectId: PROJECT });
  if (!emulator) {
    console.log('The Pub/Sub emulator is not installed: nothing to benchmark.');
    return;
  }
  try {
    const options = new PubSub({ apiEndpoint: emulator.endpoint, emulatorMode: true, projectId: PROJECT })
      .options as ConstructorParameters<typeof v1.SubscriberClient>[0];
    const raw: Raw = { publisher: new v1.PublisherClient(options), subscriber: new v1.SubscriberClient(options) };
    const adapter = pubsubAdapter({ apiEndpoint: emulator.endpoint, projectId: PROJECT });
    console.log(`Pub/Sub emulator ${emulator.endpoint} — ${JOBS} jobs per round, ${ROUNDS} rounds, ${RECEIVERS} receivers`);
    await rawRound(raw, adapter); // warm-up (JIT, channels)
    await adapterRound(adapter);
    await compareWithRaw({
      rounds: ROUNDS,
      work: 'publish + pull + acknowledge per job',
      names: { raw: 'raw @google-cloud/pubsub v1', adapter: '@bg/pubsub adapter', core: '@bg/core createQueue/createWorker' },
      raw: () => rawRound(raw, adapter),
      adapter: () => adapterRound(adapter),
      core: () => coreRound(adapter),
    });
    await adapter.close();
    await Promise.allSettled([raw.publisher.close(), raw.subscriber.close()]);
  } finally {
    await emulator.stop();
  }
}

await main();
