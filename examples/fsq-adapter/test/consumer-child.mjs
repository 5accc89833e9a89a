// A consumer process for the multi-process test: receives from QUEUE under FSQ_ROOT until the
// queue stays empty, acks each job, and prints the ids it got (one JSON line at the end).
import { fsqAdapter } from 'bg-adapter-fsq';

const adapter = fsqAdapter({ root: process.env.FSQ_ROOT });
const queue = process.env.QUEUE;
const got = [];
let idle = 0;
while (idle < 5) {
  const batch = await adapter.receive(queue, { max: 3, leaseMs: 30_000, waitMs: 100 });
  if (batch.length === 0) idle++;
  else idle = 0;
  for (const m of batch) {
    got.push(m.id);
    await adapter.ack(queue, m.handle);
  }
}
await adapter.close();
process.stdout.write(`${JSON.stringify(got)}\n`);
