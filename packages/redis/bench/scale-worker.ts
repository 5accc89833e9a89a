/**
 * One worker process of the scaling bench (bench/scale.ts): connects, says `ready`, starts a
 * worker on `go` and reports every 500 acked jobs and at the end, until it is told to `stop`.
 */
import { createWorker } from '@bg/core';
import { redisAdapter } from '../src/index.js';
import { benchJob } from './scale-job.js';

const url = process.env.BENCH_REDIS_URL as string;
const queue = process.env.BENCH_QUEUE as string;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 50);
const adapter = redisAdapter({ url, prefix: 'scale', onWarning: () => {} });
await adapter.ensureQueue(queue);
let acked = 0;
let reported = 0;
const report = (): void => {
  if (acked > reported) {
    process.send?.({ acked: acked - reported });
    reported = acked;
  }
};
const worker = createWorker({
  adapter,
  queue,
  concurrency,
  pollMs: 1_000,
  onEvent: (e) => {
    if (e.type === 'succeeded' && ++acked - reported >= 500) report();
  },
});
worker.handle(benchJob, async () => {});
const timer = setInterval(report, 50);
process.on('message', (m: string) => {
  if (m === 'go') void worker.start();
  if (m === 'stop')
    void worker.stop({ graceMs: 1_000 }).then(async () => {
      clearInterval(timer);
      report();
      await adapter.close();
      process.send?.({ cpu: process.cpuUsage() }, () => process.exit(0));
    });
});
process.send?.('ready');
