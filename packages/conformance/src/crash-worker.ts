/**
 * Child-process worker for the crash case: builds the adapter from the module named in
 * BG_CONF_ADAPTER_MODULE, handles `conformance.crash` by telling the parent it started and
 * then hanging until it is killed. Everything the worker reports (its events, its warnings)
 * goes to stderr, which the parent case puts in its error message: a worker prints nothing
 * by default, so a child whose adapter fails to receive would otherwise time out silently.
 */
import { pathToFileURL } from 'node:url';
import { createWorker, defineJob } from '@bg/core';

const modulePath = process.env.BG_CONF_ADAPTER_MODULE;
const queue = process.env.BG_CONF_QUEUE;
const leaseMs = Number(process.env.BG_CONF_LEASE_MS);
if (!modulePath || !queue) throw new Error('BG_CONF_ADAPTER_MODULE and BG_CONF_QUEUE are required');
const loaded = (await import(pathToFileURL(modulePath).href)) as { default: (queue: string) => unknown };
const adapter = (await loaded.default(queue)) as Parameters<typeof createWorker>[0]['adapter'];
const crashJob = defineJob({
  type: 'conformance.crash',
  schema: { '~standard': { version: 1, vendor: 'bg', validate: (value: unknown) => ({ value }) } },
});
const report = (line: string): void => {
  process.stderr.write(`crash-worker: ${line}\n`);
};
const worker = createWorker({
  adapter,
  queue,
  concurrency: 1,
  leaseMs,
  pollMs: 200,
  logger: { warn: (message) => report(message), error: (message) => report(message) },
  onEvent: (event) => {
    if (event.type !== 'error') report(`event ${JSON.stringify(event)}`);
  },
});
worker.handle(crashJob, async (_payload, ctx) => {
  process.send?.({ bg: 'started', jobId: ctx.jobId, attempt: ctx.attempt });
  await new Promise(() => {});
});
await worker.start();
report(`ready on "${queue}" (Node ${process.version})`);
process.send?.({ bg: 'ready' });
