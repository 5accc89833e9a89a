/**
 * Benchmark: the raw `@google-cloud/pubsub` v1 client, `@bg/pubsub` at adapter level and the
 * public API (`createQueue().enqueueMany` + `createWorker`) doing the same work, side by side
 * in rotated rounds on one private Pub/Sub emulator (its CPU read from /proc).
 *
 * Like for like: every contestant sends the bytes the core sends for a job ({@link jobMessage}:
 * its 328-byte JSON envelope, a 36-character id, the `bg-type` attribute), on a queue made by
 * `ensureQueue` (exactly-once subscription with a dead-letter policy, 10 s ack deadline), with
 * publishes of 1 000 and up to 8 in flight (as `enqueueMany` sends them):
 * - raw: then 4 loops of `pull(1 000)` each sending one `acknowledge` of a batch's ack ids
 *   while pulling the next;
 * - ceiling: the same raw loop with 12 pull loops, as many pulls in flight as the core's peak
 *   (does the raw baseline gain from more pulls in flight?);
 * - adapter: the same 4 loops doing `receive({ max: 1 000, leaseMs: 10 000 })` and one `ack`
 *   per handle (the adapter coalesces them; its receives pull in parallel on a backlog);
 * - core: `enqueueMany` of every job, then a worker of concurrency 512 with a no-op handler.
 *
 * Pulls return at once (`returnImmediately`); every loop pauses 10 ms after an empty pull.
 * Every contestant stops at the same event, the last job's acknowledge confirmed. Prints the
 * kit's table and the requests per 1 000 jobs of each contestant.
 * Every contestant first runs one un-measured warm-up round of BENCH_WARMUP_JOBS jobs (30 000).
 * Run: `pnpm --filter @bg/pubsub bench` (BENCH_JOBS, BENCH_ROUNDS, BENCH_WARMUP_JOBS, BENCH_WIDE to tune).
 */
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
} from '@bg/backends/bench';
import { startPubSubEmulator } from '@bg/backends/pubsub-emulator';
import type { Adapter } from '@bg/core';
import { PubSub, type v1 } from '@google-cloud/pubsub';
import { pubsubAdapter, queueResources } from '../src/index.js';
import { loadV1 } from '../src/load-v1.js';
import { countRequests } from './request-count.js';

// No metadata-server probing (the emulator needs no credentials).
process.env.METADATA_SERVER_DETECTION ??= 'none';

/**
 * Jobs per measured round. 20 000 (5 000 before 2026-11-30 evening): the public API pays fixed
 * costs per round that the raw loop does not (its `ensureQueue` reads at the first enqueue and at
 * the worker's start, ~15–25 ms), which in rounds of 5 000 jobs (~150 ms) were a sixth of the
 * round; #17 states its targets on rounds of 50 000.
 */
const JOBS = Number(process.env.BENCH_JOBS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/**
 * Jobs of each contestant's warm-up round, before the measured rounds. A process's CPU per job
 * falls for its first tens of thousands of jobs (JIT tiering, heap sizing), and the core has more
 * code to warm up than the raw loop: with a short warm-up the bench measures mostly that (set
 * 5 000 to see it), with this one the state a worker that has run a while is in.
 */
const WARMUP = Number(process.env.BENCH_WARMUP_JOBS ?? 30_000);
const BATCH = 1_000;
const RECEIVERS = 4;
/** Publishes in flight: as many as `enqueueMany` keeps (8 batches). */
const SENDS_IN_FLIGHT = 8;
const WIDE = Number(process.env.BENCH_WIDE ?? 12);
const LEASE_MS = 10_000;
const PAUSE_WHEN_EMPTY_MS = 10;
const PROJECT = 'bg-bench';

interface Raw {
  readonly publisher: v1.PublisherClient;
  readonly subscriber: v1.SubscriberClient;
}

async function rawRound(raw: Raw, adapter: Adapter, serverCpu: ServerCpu, loops: number, jobs = JOBS): Promise<RoundResult> {
  const queue = benchQueueName('raw');
  await adapter.ensureQueue(queue);
  const { topic, subscription } = queueResources(PROJECT, 'bg-', queue);
  const stamp = roundStamp();
  const enqueue = await measure(
    () =>
      pool(Math.ceil(jobs / BATCH), SENDS_IN_FLIGHT, async (b) => {
        const first = b * BATCH;
        await raw.publisher.publish({
          topic,
          messages: Array.from({ length: Math.min(BATCH, jobs - first) }, (_, k) => {
            const m = jobMessage(first + k, stamp);
            return { data: Buffer.from(m.body), attributes: { ...m.attributes, 'bg-id': m.id } };
          }),
        });
      }),
    serverCpu,
  );
  const drain = startDrain<string>({
    jobs,
    loops,
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
  return { jobs, enqueue: enqueue.sample, drain: drained.sample };
}

const emulator = await startPubSubEmulator({ projectId: PROJECT, jvmOptions: '' });
if (!emulator) {
  console.log('The Pub/Sub emulator is not installed: nothing to benchmark.');
} else {
  const serverCpu: ServerCpu = () => processTreeCpuUs(emulator.pid);
  const options = new PubSub({ apiEndpoint: emulator.endpoint, emulatorMode: true, projectId: PROJECT })
    .options as ConstructorParameters<typeof v1.SubscriberClient>[0];
  const requests = countRequests();
  const counted = requests.counted.bind(requests);
  // The classes the adapter loads (the same module as the package's `v1` export), so the
  // request counter sees both.
  const sdk = loadV1();
  const raw: Raw = { publisher: new sdk.PublisherClient(options), subscriber: new sdk.SubscriberClient(options) };
  const adapter = pubsubAdapter({ apiEndpoint: emulator.endpoint, projectId: PROJECT });
  const adapterOptions = {
    jobs: JOBS,
    sendBatch: BATCH,
    sendsInFlight: SENDS_IN_FLIGHT,
    receivers: RECEIVERS,
    receive: { max: BATCH, leaseMs: LEASE_MS },
    pauseWhenEmptyMs: PAUSE_WHEN_EMPTY_MS,
    serverCpu,
  };
  const coreOptions = { jobs: JOBS, concurrency: 512, leaseMs: LEASE_MS, serverCpu };
  try {
    // Warm-up (JIT, heap, channels), not measured: every contestant alike.
    await rawRound(raw, adapter, serverCpu, RECEIVERS, WARMUP);
    await rawRound(raw, adapter, serverCpu, WIDE, WARMUP);
    await adapterRound(adapter, { ...adapterOptions, jobs: WARMUP });
    await coreRound(adapter, { ...coreOptions, jobs: WARMUP });
    const summaries = await runBench({
      title: `Pub/Sub emulator ${emulator.endpoint} (pid ${emulator.pid}): ${JOBS} jobs per round (publish + pull + acknowledge each), batches of ${BATCH}, ${RECEIVERS} pull loops / worker concurrency 512, after a ${WARMUP}-job warm-up round of each contestant (BENCH_WARMUP_JOBS)`,
      rounds: ROUNDS,
      contestants: [
        {
          name: 'raw @google-cloud/pubsub v1',
          role: 'raw',
          round: counted('raw', () => rawRound(raw, adapter, serverCpu, RECEIVERS)),
        },
        {
          name: `raw, ${WIDE} pull loops`,
          role: 'ceiling',
          round: counted(`raw, ${WIDE} pull loops`, () => rawRound(raw, adapter, serverCpu, WIDE)),
        },
        { name: '@bg/pubsub adapter', role: 'adapter', round: counted('adapter', () => adapterRound(adapter, adapterOptions)) },
        { name: '@bg/core queue + worker', role: 'core', round: counted('core', () => coreRound(adapter, coreOptions)) },
      ],
    });
    reportTarget(summaries, '@bg/core queue + worker', 0.8);
    printRequestTable(requests.perRound, JOBS, [
      'publish',
      'pull',
      'pull empty',
      'acknowledge',
      'modifyAckDeadline',
      'pull in flight max',
    ]);
  } finally {
    await adapter.close();
    await Promise.allSettled([raw.publisher.close(), raw.subscriber.close()]);
    await emulator.stop();
  }
}
