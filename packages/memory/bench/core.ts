/**
 * Core benchmark on @bg/memory, side by side in rotated rounds (the shared bench kit of
 * `@bg/backends/bench`): a bare in-process loop doing the JSON encode (enqueue) and decode
 * (drain) of N envelopes — a ceiling, not a peer: no queue at all —, the memory adapter at
 * adapter level (`send` batches of 1 000, `receive(1 000)` + `ack`), and the public API
 * (`createQueue().enqueueMany` + `createWorker` with a no-op handler) at concurrency 1, 16
 * and 64. Prints enqueue and drain jobs/s, CPU µs per job (client and server are one process
 * here) and the ratios to the ceiling.
 * Run: pnpm --filter @bg/memory bench  (BENCH_JOBS, BENCH_ROUNDS)
 */
// By path, not as a dependency: @bg/backends depends on @bg/conformance, which depends on this
// package (a workspace dependency would be a build cycle). `pnpm build` builds it first.
import {
  adapterRound,
  type Contestant,
  coreRound,
  measure,
  type RoundResult,
  runBench,
} from '../../../tooling/backends/dist/bench.js';
import { memoryAdapter } from '../src/index.js';

const N = Number(process.env.BENCH_JOBS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function bareLoop(): Promise<RoundResult> {
  const queue: string[] = [];
  const enqueue = await measure(async () => {
    for (let n = 0; n < N; n++) {
      queue.push(
        JSON.stringify({
          bg: 1,
          id: `id-${n}`,
          type: 'bench.noop',
          v: 1,
          payload: { userId: `u-${n}`, locale: 'de', note: 'x'.repeat(160) },
          createdAt: new Date().toISOString(),
        }),
      );
    }
  });
  let sum = 0;
  const drain = await measure(async () => {
    for (const text of queue) sum += (JSON.parse(text) as { v: number }).v;
  });
  if (sum !== N) throw new Error(`bare loop decoded ${sum} of ${N} envelopes`);
  return { jobs: N, enqueue: enqueue.sample, drain: drain.sample };
}

const adapter = memoryAdapter();
const contestants: Contestant[] = [
  { name: 'bare JSON encode + decode loop', role: 'ceiling', round: bareLoop },
  {
    name: '@bg/memory adapter',
    role: 'adapter',
    round: () => adapterRound(adapter, { jobs: N, sendBatch: 1_000, receivers: 1, receive: { max: 1_000, leaseMs: 60_000 } }),
  },
  ...[1, 16, 64].map(
    (concurrency): Contestant => ({
      name: `@bg/core queue + worker c=${concurrency}`,
      role: 'core',
      round: () => coreRound(adapter, { jobs: N, concurrency, pollMs: 50 }),
    }),
  ),
];
try {
  await bareLoop(); // warm-up
  const summaries = await runBench({
    title: `@bg/memory: ${N.toLocaleString('en-US')} jobs per round, one process (client and server CPU are the same)`,
    rounds: ROUNDS,
    contestants,
  });
  const c64 = summaries.find((s) => s.name.endsWith('c=64'));
  if (c64) {
    console.log(
      `target: drain ≥ 100,000 jobs/s at concurrency 64 — measured ${Math.round(c64.drainPerSecond).toLocaleString('en-US')} (${c64.drainPerSecond >= 100_000 ? 'met' : 'NOT met'})`,
    );
  }
  console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
} finally {
  await adapter.close();
}
