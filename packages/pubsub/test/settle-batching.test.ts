import { type BgError, isBgError, type ReceivedMessage } from '@bg/core';
import { describe, expect, inject, it } from 'vitest';
import { countRequests } from '../bench/request-count.js';
import { pubsubAdapter } from '../src/index.js';
import { MAX_SINGLES_IN_FLIGHT, SettleBatcher } from '../src/settle-batcher.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

/** Receives until `count` messages are held (or 15 s pass). */
async function receiveAll(adapter: ReturnType<typeof pubsubAdapter>, queue: string, count: number): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const end = Date.now() + 15_000;
  while (got.length < count && Date.now() < end) {
    got.push(...(await adapter.receive(queue, { max: Math.min(100, count - got.length), leaseMs: 60_000, waitMs: 500 })));
  }
  return got;
}

describe.skipIf(!endpoint)('pubsub: extends and releases of one turn share a request', () => {
  it('extending or releasing 150 leases in one turn sends one modifyAckDeadline per deadline, each call resolving on its own', async () => {
    const counter = countRequests();
    const modAcks = (): number => counter.counts().modifyAckDeadline ?? 0;
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix: 'settle-' });
    const queue = `batch-${Date.now().toString(36)}`;
    try {
      await adapter.ensureQueue(queue);
      const n = 150;
      await adapter.send(
        queue,
        Array.from({ length: n }, (_, i) => ({ id: `m-${i}`, body: `{"n":${i}}` })),
      );
      const held = await receiveAll(adapter, queue, n);
      expect(held.length, `receive on queue ${queue}: all ${n} messages sent`).toBe(n);

      let before = modAcks();
      const extended = await Promise.all(held.map((m, i) => adapter.extend(queue, m.handle, i % 2 === 0 ? 120_000 : 180_000)));
      expect(extended.map((e) => e.handle)).toEqual(held.map((m) => m.handle));
      expect(
        modAcks() - before,
        `extend of ${n} leases in one turn, to two deadlines: one modifyAckDeadline request per deadline, not one per lease`,
      ).toBe(2);

      before = modAcks();
      await Promise.all(held.map((m) => adapter.release(queue, m.handle, 0)));
      expect(modAcks() - before, `release(0) of ${n} leases in one turn: one modifyAckDeadline request`).toBe(1);

      const back = await receiveAll(adapter, queue, n);
      expect(new Set(back.map((m) => m.id)).size, `receive after releasing all ${n}: every message back at once`).toBe(n);
      await Promise.all(back.map((m) => adapter.ack(queue, m.handle)));
    } finally {
      await adapter.deleteQueue?.(queue).catch(() => {});
      await adapter.close();
    }
  }, 60_000);

  it('a batch holding an ack id Pub/Sub does not know: the others are extended, that one alone is LEASE_LOST', async () => {
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId, prefix: 'settle-' });
    const queue = `mixed-${Date.now().toString(36)}`;
    try {
      await adapter.ensureQueue(queue);
      await adapter.send(
        queue,
        Array.from({ length: 5 }, (_, i) => ({ id: `m-${i}`, body: `{"n":${i}}` })),
      );
      const held = await receiveAll(adapter, queue, 5);
      expect(held.length).toBe(5);
      const outcomes = await Promise.allSettled([
        ...held.map((m) => adapter.extend(queue, m.handle, 120_000)),
        adapter.extend(queue, 'not-an-ack-id', 120_000),
      ]);
      const statuses = outcomes.map((o) => o.status);
      expect(statuses, 'extend in one turn of 5 held leases and one unknown ack id: only the unknown one fails').toEqual([
        ...held.map(() => 'fulfilled'),
        'rejected',
      ]);
      const reason = (outcomes.at(-1) as PromiseRejectedResult).reason as BgError;
      expect(isBgError(reason) && reason.code, `extend('not-an-ack-id'): ${String(reason)}`).toBe('LEASE_LOST');
      await Promise.all(held.map((m) => adapter.ack(queue, m.handle)));
    } finally {
      await adapter.deleteQueue?.(queue).catch(() => {});
      await adapter.close();
    }
  }, 60_000);
});

describe('SettleBatcher', () => {
  it(`falls back to one request per id when a batch fails without naming ids, at most ${MAX_SINGLES_IN_FLIGHT} at once`, async () => {
    let inFlight = 0;
    let most = 0;
    const singles: string[] = [];
    const batcher = new SettleBatcher({
      many: async () => {
        throw new Error('the whole request failed');
      },
      single: async (_kind, ackId) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        singles.push(ackId);
        if (ackId === 'id-7') throw new Error('id-7 is gone');
      },
    });
    const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
    const outcomes = await Promise.allSettled(ids.map((id) => batcher.settle(30, id)));
    expect(singles.length, 'every id of the failed batch settled alone').toBe(200);
    expect(most, `one-id requests in flight at once (bound ${MAX_SINGLES_IN_FLIGHT})`).toBeLessThanOrEqual(MAX_SINGLES_IN_FLIGHT);
    expect(most, 'the fallback still runs in parallel').toBeGreaterThan(1);
    expect(outcomes.filter((o) => o.status === 'rejected').length, 'only id-7 fails').toBe(1);
    expect((outcomes[7] as PromiseRejectedResult).reason).toEqual(new Error('id-7 is gone'));
  });

  it('keeps kinds apart: acks and each deadline go in their own request', async () => {
    const requests: string[] = [];
    const batcher = new SettleBatcher({
      many: async (kind, ackIds) => {
        requests.push(`${kind}:${ackIds.join(',')}`);
      },
      single: async (kind, ackId) => {
        requests.push(`${kind}:${ackId}`);
      },
    });
    await Promise.all([
      batcher.settle('ack', 'a'),
      batcher.settle(0, 'b'),
      batcher.settle('ack', 'c'),
      batcher.settle(60, 'd'),
      batcher.settle(0, 'e'),
    ]);
    expect(requests.sort()).toEqual(['0:b,e', '60:d', 'ack:a,c']);
  });
});
