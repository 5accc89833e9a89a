// A script as users write them: calls made, then `await adapter.close()` to let them finish,
// then `process.exit()`. Used by close-in-flight.test.ts.
// Arguments: <send queue> <ack queue> <n>: sends n jobs to the first, acks n deliveries of the second.
import { azureQueueAdapter } from '@bg/azure-queue';

const [sendQueue, ackQueue, count] = process.argv.slice(2);
const n = Number(count);
const connectionString = process.env.BG_AZURE_CONNECTION_STRING;
if (!connectionString || !sendQueue || !ackQueue || !(n > 0)) {
  throw new Error('usage: close-then-exit.mjs <send queue> <ack queue> <n>');
}

const adapter = azureQueueAdapter({ connectionString });
const held = [];
while (held.length < n) held.push(...(await adapter.receive(ackQueue, { max: 32, leaseMs: 60_000, waitMs: 2_000 })));
const calls = [
  adapter.send(
    sendQueue,
    Array.from({ length: n }, (_, i) => ({ id: `job-${i}`, body: `job ${i}` })),
  ),
  ...held.map((m) => adapter.ack(ackQueue, m.handle)),
];
let settled = 0;
const countSettled = () => {
  settled++;
};
for (const call of calls) call.then(countSettled, countSettled);
await adapter.close();
console.log(`close() resolved with ${settled} of ${calls.length} calls settled`);
process.exit(0);
