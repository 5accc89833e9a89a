import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createQueue, createWorker, defineJob } from '@bg/core';
import { describe, expect, inject, it } from 'vitest';
import { pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

/** Counts the gRPC calls the process makes (each is one HTTP/2 stream; Node ≥ 22.17 / 24 publish them). */
function countCalls(): { readonly count: () => number; readonly stop: () => void } {
  let calls = 0;
  const onStream = (): void => {
    calls++;
  };
  subscribe('http2.client.stream.created', onStream);
  return { count: () => calls, stop: () => unsubscribe('http2.client.stream.created', onStream) };
}

const ping = defineJob({
  type: 'idle.ping',
  schema: { '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => ({ value }) } },
});

describe.skipIf(endpoint === '')('an idle queue on Pub/Sub', () => {
  it('costs at most one call per second per worker (blocking pulls), and a job sent into it starts at once', async (ctx) => {
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix: `idle${Date.now().toString(36)}-` });
    const queue = 'idle';
    await adapter.ensureQueue(queue);
    const calls = countCalls();
    const started: number[] = [];
    const worker = createWorker({ adapter, queue, concurrency: 4, pollMs: 5_000 });
    worker.handle(ping, async () => {
      started.push(Date.now());
    });
    try {
      await adapter.stats(queue); // any call: proves this Node reports gRPC calls at all
      if (calls.count() === 0) {
        // Node 24 has the channel (the project's Node); the engines floor (22.12) does not.
        if (Number(process.versions.node.split('.')[0]) < 24) {
          ctx.skip(`Node ${process.version} does not publish http2 stream diagnostics: calls cannot be counted`);
        }
        expect.fail('no http2 stream was reported for a gRPC call: this Node lacks the http2 diagnostics channel');
      }
      await worker.start();
      const idleFrom = calls.count();
      const idleMs = 4_000;
      const idleStart = Date.now();
      await new Promise((resolve) => setTimeout(resolve, idleMs)); // the measured window itself, not a wait for a condition
      const idleCalls = calls.count() - idleFrom;
      const seconds = (Date.now() - idleStart) / 1_000;
      expect(
        idleCalls,
        `an idle worker made ${idleCalls} gRPC calls in ${seconds.toFixed(1)} s; the target is at most 1 per second`,
      ).toBeLessThanOrEqual(Math.ceil(seconds));

      const sentAt = Date.now();
      await createQueue({ adapter, queue }).enqueue(ping, {});
      await expect.poll(() => started.length, { timeout: 5_000, interval: 20 }).toBe(1);
      const latency = (started[0] ?? Number.POSITIVE_INFINITY) - sentAt;
      expect(
        latency,
        `a job sent into the idle queue started ${latency} ms later (a held pull should return at once)`,
      ).toBeLessThan(1_000);
    } finally {
      calls.stop();
      await worker.stop();
      await adapter.close();
    }
  }, 30_000);
});
