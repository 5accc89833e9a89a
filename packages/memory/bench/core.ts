/**
 * Core benchmark: @bg/memory end to end (enqueueMany N jobs, drain with a no-op handler
 * through createWorker at concurrency 1, 16 and 64) beside a bare in-process loop doing
 * the same JSON encode/decode. Prints jobs/s and the ratio. Run: pnpm --filter @bg/memory bench
 */
import { createQueue, createWorker, defineJob } from '@bg/core';
import { z } from 'zod';
import { memoryAdapter } from '../src/index.js';

const N = Number(process.env.BENCH_JOBS ?? 50_000);
const job = defineJob({ type: 'bench.noop', schema: z.object({ userId: z.string(), n: z.number() }) });
const payload = (n: number) => ({ userId: `user-${n}`, n });

function bareLoop(): number {
  const start = performance.now();
  const queue: string[] = [];
  for (let n = 0; n < N; n++) {
    queue.push(
      JSON.stringify({
        bg: 1,
        id: `id-${n}`,
        type: 'bench.noop',
        v: 1,
        payload: payload(n),
        createdAt: new Date().toISOString(),
      }),
    );
  }
  let sum = 0;
  for (const text of queue) sum += (JSON.parse(text) as { payload: { n: number } }).payload.n;
  if (sum < 0) throw new Error('unreachable');
  return N / ((performance.now() - start) / 1000);
}

async function endToEnd(concurrency: number): Promise<{ enqueue: number; drain: number; total: number }> {
  const adapter = memoryAdapter();
  const jobs = createQueue({ adapter, queue: 'bench' });
  const payloads = Array.from({ length: N }, (_, n) => payload(n));
  const t0 = performance.now();
  await jobs.enqueueMany(job, payloads);
  const t1 = performance.now();
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const worker = createWorker({ adapter, queue: 'bench', concurrency, pollMs: 50 });
  worker.handle(job, () => {
    if (++done === N) finished();
  });
  await worker.start();
  await all;
  const t2 = performance.now();
  await worker.stop();
  await adapter.close();
  return { enqueue: N / ((t1 - t0) / 1000), drain: N / ((t2 - t1) / 1000), total: N / ((t2 - t0) / 1000) };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US').padStart(10);
console.log(`core benchmark: ${N.toLocaleString('en-US')} jobs, Node ${process.version}`);
bareLoop(); // warm-up
const bare = bareLoop();
console.log(`bare JSON encode+decode loop        ${fmt(bare)} jobs/s   (ceiling)`);
for (const concurrency of [1, 16, 64]) {
  const r = await endToEnd(concurrency);
  console.log(
    `@bg/memory c=${String(concurrency).padEnd(3)} enqueue ${fmt(r.enqueue)}  drain ${fmt(r.drain)}  end-to-end ${fmt(r.total)} jobs/s   ratio vs bare ${(r.total / bare).toFixed(3)}`,
  );
}
const target = await endToEnd(64);
console.log(
  `target: drain ≥ 100,000 jobs/s at concurrency 64 — measured ${Math.round(target.drain).toLocaleString('en-US')} (${target.drain >= 100_000 ? 'met' : 'NOT met'})`,
);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
