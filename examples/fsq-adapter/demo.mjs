// The README's example, runnable after `npm run build`: node demo.mjs [folder]
// Registers the fsq: scheme, connects by URL, enqueues three jobs and works them off.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createQueue, createWorker, defineJob, registerAdapter } from '@bg/core';

registerAdapter('fsq:', () => import('bg-adapter-fsq')); // once, at start-up
const folder = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'fsq-demo-'));
const adapter = await connect(`fsq://${folder}`);
await adapter.ensureQueue('emails');

// Any Standard Schema works (zod, valibot …); this one accepts objects with a string userId.
const sendWelcome = defineJob({
  type: 'email.welcome',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'demo',
      validate: (value) => (typeof value?.userId === 'string' ? { value } : { issues: [{ message: 'userId must be a string' }] }),
    },
  },
});

const jobs = createQueue({ adapter, queue: 'emails' });
for (const userId of ['u1', 'u2', 'u3']) await jobs.enqueue(sendWelcome, { userId });

const done = new Set();
const worker = createWorker({ adapter, queue: 'emails', leaseMs: 30_000, pollMs: 50 });
worker.handle(sendWelcome, async (payload, ctx) => {
  console.log(`welcome ${payload.userId} (job ${ctx.jobId}, attempt ${ctx.attempt})`);
  done.add(payload.userId);
});
await worker.start();
const deadline = Date.now() + 10_000;
while (done.size < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
await worker.stop();
console.log(JSON.stringify(await adapter.stats('emails')));
await adapter.close();
process.exitCode = done.size === 3 ? 0 : 1;
