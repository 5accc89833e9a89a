/**
 * Child-process consumer for the cross-process competing-consumers case: builds the adapter
 * from the module named in BG_CONF_ADAPTER_MODULE, receives from BG_CONF_QUEUE with a long
 * lease and reports every delivered id to the parent until told to stop. Then it closes the
 * adapter and reports what is still active that was not before the adapter was built (a timer
 * or a socket `close()` left behind keeps a process from exiting), waiting up to
 * BG_CONF_SETTLE_MS for it to go.
 */
import { pathToFileURL } from 'node:url';
import type { Adapter } from '@bg/core';
import { settledResources } from './active-resources.js';

const modulePath = process.env.BG_CONF_ADAPTER_MODULE;
const queue = process.env.BG_CONF_QUEUE;
const leaseMs = Number(process.env.BG_CONF_LEASE_MS);
const pollMs = Number(process.env.BG_CONF_POLL_MS ?? 100);
const settleMs = Number(process.env.BG_CONF_SETTLE_MS ?? 5_000);
if (!modulePath || !queue) throw new Error('BG_CONF_ADAPTER_MODULE and BG_CONF_QUEUE are required');
const loaded = (await import(pathToFileURL(modulePath).href)) as { default: (queue: string) => unknown };
let running = true;
process.on('message', (m: { bg?: string }) => {
  if (m?.bg === 'stop') running = false;
});
// Taken after the module is loaded (what it starts on import is not the adapter's), after this
// script listens on its IPC channel (which refs the channel) and after the standard streams are
// opened (they are opened on first use: a warning the adapter prints would add the stderr pipe),
// before the adapter is built.
void process.stdout;
void process.stderr;
const baseline = process.getActiveResourcesInfo();
const adapter = (await loaded.default(queue)) as Adapter;
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
let closeError: string | undefined;
await adapter.close().catch((error: unknown) => {
  closeError = String(error);
});
const leaked = await settledResources(baseline, settleMs);
process.send?.({ bg: 'stopped', leaked, ...(closeError === undefined ? {} : { closeError }) });
process.disconnect?.();
