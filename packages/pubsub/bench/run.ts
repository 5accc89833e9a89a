/**
 * Benchmark: the raw `@google-cloud/pubsub` v1 client, `@bg/pubsub` at adapter level and the
 * public API (`createQueue().enqueueMany` + `createWorker`) doing the same work, side by side
 * in rotated rounds on one private Pub/Sub emulator (its CPU read from /proc).
 *
 * Every contestant uses a queue made by `ensureQueue` (exactly-once subscription with a
 * dead-letter policy, 10 s ack deadline), so the server does the same work for each:
 * - raw: `publish` in requests of 1 000; then 4 loops of `pull(1 000)` each sending one
 *   `acknowledge` of a batch's ack ids while pulling the next;
 * - adapter: `send` in batches of 1 000; then the same 4 loops doing `receive({ max: 1 000,
 *   leaseMs: 10 000 })` and one `ack` per handle (the adapter coalesces them);
 * - core: `enqueueMany` of every job, then a worker of concurrency 512 with a no-op handler.
 *
 * Pulls return at once (`returnImmediately`); every loop pauses 10 ms after an empty pull.
 * Every contestant stops at the same event, the last job's acknowledge confirmed.
 * Run: `pnpm --filter @bg/pubsub bench` (BENCH_JOBS, BENCH_ROUNDS to tune).
 */
import {
  adapterRound,
  benchBody,
  benchQueueName,
  coreRound,
  measure,
  processTreeCpuUs,
  type RoundResult,
  reportTarget,
  runBench,
  type ServerCpu,
  startDrain,
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
const PAUSE_WHEN_EMPTY_MS = 10;
const PROJECT = 'bg-bench';

interface Raw {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
}

async function rawRound(raw: Raw, adapter: Adapter, serverCpu: ServerCpu): Promise<RoundResult> {
  const queue = benchQueueName('raw');
  await adapter.ensureQueue(queue);
  const { topic, subscription } = queueResources(PROJECT, 'bg-', queue);
  const enqueue = await measure(async () => {
    for (let i = 0; i < JOBS; i += BATCH) {
      await raw.publisher.publish({
        topic,
        messages: Array.from({ length: Math.min(BATCH, JOBS - i) }, (_, k) => ({
          data: Buffer.from(benchBody),
          attributes: { 'bg-id': `job-${i + k}`, 'bg-type': 'bench.noop' },
        })),
      });
    }
  }, serverCpu);
  const drain = startDrain<string>({
    jobs: JOBS,
    loops: RECEIVERS,
    pauseWhenEmptyMs: PAUSE_WHEN_EMPTY_MS,
    receive: async () => {
      const [response] = await raw.subscriber.pull({ subscription, maxMessages: BATCH, returnImmediately: true });
      // A consumer reads what it received: the body as text.
      return (response.receivedMessages ?? []).map((m) => {
        if (Buffer.from(m.message?.data ?? '').toString('utf8').length === 0) throw new Error('empty message');
        return m.ackId as string;
      });
    },
    settle: async (ackIds) => {
      await raw.subscriber.acknowledge({ subscription, ackIds: [...ackIds] });
    },
  });
  const drained = await measure(() => drain.done, serverCpu);
  await drain.close();
  await adapter.deleteQueue?.(queue);
  return { jobs: JOBS, enqueue: enqueue.sample, drain: drained.sample };
}

const emulator = await startPubSubEmulator({ projectId: PROJECT });
if (!emulator) {
  console.log('The Pub/Sub emulator is not installed: nothing to benchmark.');
} else {
  const serverCpu: ServerCpu = () => processTreeCpuUs(emulator.pid);
  const options = new PubSub({ apiEndpoint: emulator.endpoint, emulatorMode: true, projectId: PROJECT })
    .options as ConstructorParameters<typeof v1.SubscriberClient>[0];
  const raw: Raw = { publisher: new v1.PublisherClient(options), subscriber: new v1.SubscriberClient(options) };
  const adapter = pubsubAdapter({ apiEndpoint: emulator.endpoint, projectId: PROJECT });
  const adapterOptions = {
    jobs: JOBS,
    sendBatch: BATCH,
    receivers: RECEIVERS,
    receive: { max: BATCH, leaseMs: LEASE_MS },
    pauseWhenEmptyMs: PAUSE_WHEN_EMPTY_MS,
    serverCpu,
  };
  const coreOptions = { jobs: JOBS, concurrency: 512, leaseMs: LEASE_MS, serverCpu };
  try {
    // Warm-up (JIT, channels), not measured.
    await rawRound(raw, adapter, serverCpu);
    await adapterRound(adapter, adapterOptions);
    await coreRound(adapter, coreOptions);
    const summaries = await runBench({
      title: `Pub/Sub emulator ${emulator.endpoint} (pid ${emulator.pid}): ${JOBS} jobs per round (publish + pull + acknowledge each), batches of ${BATCH}, ${RECEIVERS} pull loops / worker concurrency 512`,
      rounds: ROUNDS,
      contestants: [
        { name: 'raw @google-cloud/pubsub v1', role: 'raw', round: () => rawRound(raw, adapter, serverCpu) },
        { name: '@bg/pubsub adapter', role: 'adapter', round: () => adapterRound(adapter, adapterOptions) },
        { name: '@bg/core queue + worker', role: 'core', round: () => coreRound(adapter, coreOptions) },
      ],
    });
    reportTarget(summaries, '@bg/core queue + worker', 0.8);
  } finally {
    await adapter.close();
    await Promise.allSettled([raw.publisher.close(), raw.subscriber.close()]);
    await emulator.stop();
  }
}
