import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createQueue, createWorker, defineJob, uuidv7 } from '@bg/core';
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
  for (const how of ['its wait ran out', 'it was aborted'] as const) {
    it(`a pull held for a receive that ${how} takes no message once its adapter is closed`, async () => {
      const prefix = `held${Date.now().toString(36)}${how.length}-`;
      const first = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix });
      const queue = 'held';
      await first.ensureQueue(queue);
      await first.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 }); // reads the subscription's settings once
      const calls = countCalls();
      const abort = new AbortController();
      const receiving = first.receive(queue, { max: 10, leaseMs: 30_000, waitMs: 1_000, signal: abort.signal });
      try {
        await expect.poll(() => calls.count(), { timeout: 5_000, interval: 5 }).toBeGreaterThan(0); // the pull is sent
      } finally {
        calls.stop();
      }
      if (how === 'it was aborted') abort.abort();
      expect(await receiving, 'the empty queue gave the first receive nothing').toEqual([]);
      await first.close(); // the server may still hold that receive's blocking pull
      await expectNextReceiveGetsIt(prefix, queue, 'a held pull of the closed adapter');
    }, 30_000);
  }

  it('an aborted receive cancels its held pull: the next message is not delivered to it first', async () => {
    const prefix = `abrt${Date.now().toString(36)}-`;
    const first = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix });
    const queue = 'held';
    await first.ensureQueue(queue);
    try {
      await first.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 }); // reads the subscription's settings once
      const calls = countCalls();
      const abort = new AbortController();
      const receiving = first.receive(queue, { max: 10, leaseMs: 30_000, waitMs: 10_000, signal: abort.signal });
      try {
        await expect.poll(() => calls.count(), { timeout: 5_000, interval: 5 }).toBeGreaterThan(0); // the pull is sent
      } finally {
        calls.stop();
      }
      abort.abort();
      expect(await receiving, 'an aborted receive returns nothing').toEqual([]);
      // `first` stays open: without the cancel, its pull would still be held by the server.
      await expectNextReceiveGetsIt(prefix, queue, 'the aborted receive’s held pull');
    } finally {
      await first.close();
    }
  }, 30_000);
});

/** Sends one message through a fresh adapter and receives it there as its first delivery. */
async function expectNextReceiveGetsIt(prefix: string, queue: string, culprit: string): Promise<void> {
  const second = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix });
  try {
    const id = uuidv7();
    await second.send(queue, [{ id, body: '{}' }]);
    const startedAt = Date.now();
    const got = await second.receive(queue, { max: 10, leaseMs: 30_000, waitMs: 8_000 });
    const what = `receive on a fresh adapter after ${Date.now() - startedAt} ms`;
    expect(
      got.map((m) => m.id),
      `${what}: ${culprit} must not have taken the message (it would come back only after its ack deadline)`,
    ).toEqual([id]);
    expect(
      got[0]?.deliveryCount,
      `${what}: the message's first delivery must be this one, not one to ${culprit} handed back later`,
    ).toBe(1);
  } finally {
    await second.close();
  }
}
