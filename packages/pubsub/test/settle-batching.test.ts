import { type BgError, isBgError, type ReceivedMessage } from '@bg/core';
import { describe, expect, inject, it } from 'vitest';
import { countRequests } from '../bench/request-count.js';
import { pubsubAdapter } from '../src/index.js';
import { MAX_SINGLES_IN_FLIGHT, SettleBatcher, type SettleKind } from '../src/settle-batcher.js';

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

/** An error of the whole request (not about some ids). */
const unavailable = (): Error => Object.assign(new Error('14 UNAVAILABLE: no connection'), { code: 14 });
/** What the adapter gives: INVALID_ARGUMENT may concern some ids only. */
const someIds = (error: unknown): boolean => (error as { code?: number }).code === 3;
const failure = (kind: SettleKind, error: unknown): Error => new Error(`${String(kind)} failed: ${(error as Error).message}`);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
/** `outcome`, or 'no answer in 2 s' (the broken variant never answers). */
const within = (outcome: Promise<string>): Promise<string> =>
  Promise.race([outcome, new Promise<string>((resolve) => setTimeout(() => resolve('no answer in 2 s'), 2_000))]);

/** A batcher whose requests all succeed, recorded as `kind:id,id…`. */
function recording(): { batcher: SettleBatcher; requests: string[] } {
  const requests: string[] = [];
  const batcher = new SettleBatcher({
    many: async (kind, ackIds) => {
      requests.push(`${kind}:${ackIds.join(',')}`);
    },
    single: async (kind, ackId) => {
      requests.push(`${kind}:${ackId}`);
    },
    someIds,
    failure,
  });
  return { batcher, requests };
}

describe('SettleBatcher', () => {
  it(`a batch failing with INVALID_ARGUMENT (an id it does not name) settles each id alone, at most ${MAX_SINGLES_IN_FLIGHT} at once`, async () => {
    let inFlight = 0;
    let most = 0;
    const singles: string[] = [];
    const batcher = new SettleBatcher({
      many: async () => {
        throw Object.assign(new Error('3 INVALID_ARGUMENT: invalid ack id'), { code: 3 });
      },
      single: async (_kind, ackId) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight--;
        singles.push(ackId);
        if (ackId === 'id-7') throw new Error('id-7 is gone');
      },
      someIds,
      failure,
    });
    const ids = Array.from({ length: 200 }, (_, i) => `id-${i}`);
    const outcomes = await Promise.allSettled(ids.map((id) => batcher.settle(30, id)));
    expect(singles.length, 'every id of the failed batch settled alone').toBe(200);
    expect(most, `one-id requests in flight at once (bound ${MAX_SINGLES_IN_FLIGHT})`).toBeLessThanOrEqual(MAX_SINGLES_IN_FLIGHT);
    expect(most, 'the fallback still runs in parallel').toBeGreaterThan(1);
    expect(outcomes.filter((o) => o.status === 'rejected').length, 'only id-7 fails').toBe(1);
    expect((outcomes[7] as PromiseRejectedResult).reason).toEqual(new Error('id-7 is gone'));
  });

  it('a batch failing as a whole (UNAVAILABLE) fails every caller with its error and sends no request per id', async () => {
    let singles = 0;
    const batcher = new SettleBatcher({
      many: async () => {
        throw unavailable();
      },
      single: async () => {
        singles++;
      },
      someIds,
      failure,
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => batcher.settle(60, `id-${i}`)));
    expect(
      { singles, reasons: [...new Set(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'resolved')))] },
      'settle() ×300 in one turn, the batch request UNAVAILABLE',
    ).toEqual({ singles: 0, reasons: ['Error: 60 failed: 14 UNAVAILABLE: no connection'] });
  });

  it('a batch failing with an ErrorInfo that names no ack id (a denied permission) fails every caller, none resolves', async () => {
    const denied = Object.assign(new Error('7 PERMISSION_DENIED: not authorized'), {
      code: 7,
      reason: 'IAM_PERMISSION_DENIED',
      errorInfoMetadata: { permission: 'pubsub.subscriptions.consume' },
    });
    const batcher = new SettleBatcher({
      many: async () => {
        throw denied;
      },
      single: async () => {},
      someIds,
      failure,
    });
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => batcher.settle(60, id)));
    expect(
      outcomes.map((o) => o.status),
      'settle() ×3 in one turn, the batch PERMISSION_DENIED',
    ).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('on an exactly-once answer only the listed ids are settled again alone; the others succeeded', async () => {
    const singles: string[] = [];
    const batcher = new SettleBatcher({
      many: async () => {
        throw Object.assign(new Error('3 INVALID_ARGUMENT: some ack ids failed'), {
          code: 3,
          reason: 'EXACTLY_ONCE_ACKID_FAILURE',
          errorInfoMetadata: { b: 'PERMANENT_FAILURE_INVALID_ACK_ID' },
        });
      },
      single: async (_kind, ackId) => {
        singles.push(ackId);
        throw new Error(`${ackId} lost`);
      },
      someIds,
      failure,
    });
    const outcomes = await Promise.allSettled(['a', 'b', 'c'].map((id) => batcher.settle('ack', id)));
    expect({ singles, statuses: outcomes.map((o) => o.status) }).toEqual({
      singles: ['b'],
      statuses: ['fulfilled', 'rejected', 'fulfilled'],
    });
  });

  it('a settle alone in a later turn does not wait behind a failed batch’s one-id requests', async () => {
    let releaseSingles: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      releaseSingles = resolve;
    });
    const batcher = new SettleBatcher({
      many: async () => {
        throw Object.assign(new Error('3 INVALID_ARGUMENT'), { code: 3 });
      },
      single: async (_kind, ackId) => {
        if (ackId !== 'lone') await gate;
      },
      someIds,
      failure,
    });
    const storm = Promise.allSettled(Array.from({ length: 100 }, (_, i) => batcher.settle(60, `id-${i}`)));
    await nextTurn();
    await nextTurn();
    const lone = await within(batcher.settle('ack', 'lone').then(() => 'done'));
    expect(lone, 'settle(ack, lone) while 100 one-id requests of a failed batch wait').toBe('done');
    releaseSingles();
    await storm;
  });

  it('a settle whose request throws synchronously rejects its caller (no unhandled rejection)', async () => {
    const batcher = new SettleBatcher({
      many: async () => {},
      single: () => {
        throw new Error('thrown synchronously');
      },
      someIds,
      failure,
    });
    const outcome = await within(
      batcher.settle('ack', 'a').then(
        () => 'resolved',
        (error: unknown) => `rejected: ${(error as Error).message}`,
      ),
    );
    expect(outcome, "settle('ack', 'a') whose request throws at once").toBe('rejected: thrown synchronously');
  });

  it('settles of one id under two kinds in one turn go out in the order they were made', async () => {
    const { batcher, requests } = recording();
    // release(a, 0); extend(b, 120 s); release(b, 0)
    await Promise.all([batcher.settle(0, 'a'), batcher.settle(120, 'b'), batcher.settle(0, 'b')]);
    expect(requests, 'b is extended before it is released').toEqual(['0:a', '120:b', '0:b']);
  });

  it('keeps kinds apart: acks and each deadline go in their own request', async () => {
    const { batcher, requests } = recording();
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
