/**
 * Child-process consumer for the cross-process competing-consumers case: builds the adapter
 * from the module named in BG_CONF_ADAPTER_MODULE, receives from BG_CONF_QUEUE with a long
 * lease and reports every delivered id to the parent until told to stop.
 */
import { pathToFileURL } from 'node:url';
import type { Adapter } from '@bg/core';

const modulePath = process.env.BG_CONF_ADAPTER_MODULE;
const queue = process.env.BG_CONF_QUEUE;
const leaseMs = Number(process.env.BG_CONF_LEASE_MS);
const pollMs = Number(process.env.BG_CONF_POLL_MS ?? 100);
if (!modulePath || !queue) throw new Error('BG_CONF_ADAPTER_MODULE and BG_CONF_QUEUE are required');
const loaded = (await import(pathToFileURL(modulePath).href)) as { default: (queue: string) => unknown };
const adapter = (await loaded.default(queue)) as Adapter;
let running = true;
process.on('message', (m: { bg?: string }) => {
  if (m?.bg === 'stop') running = false;
});
process.send?.({ bg: 'ready' });
while (running) {
  try {
    const got = await adapter.receive(queue, { max: Math.min(3, adapter.capabilities.maxBatchSize), leaseMs, waitMs: pollMs });
    if (got.length > 0) process.send?.({ bg: 'got', ids: got.map((m) => m.id) });
  } catch (error) {
    process.send?.({ bg: 'error', message: String(error) });
    running = false;
  }
}
await adapter.close().catch(() => {});
process.send?.({ bg: 'stopped' });
process.disconnect?.();
