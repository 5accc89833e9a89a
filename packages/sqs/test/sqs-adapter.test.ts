import { randomBytes } from 'node:crypto';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { isBgError, type ReceivedMessage } from '@bg/core';
import type { SqsAdapter } from '@bg/sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { inspector, makeAdapter, rawClient, skipReason } from './backend.js';

const opened: SqsAdapter[] = [];
function adapter(options: Parameters<typeof makeAdapter>[0] = {}): SqsAdapter {
  const a = makeAdapter(options);
  opened.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((a) => a.close()));
});

function queueName(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}

async function receiveUntil(
  a: SqsAdapter,
  queue: string,
  count: number,
  leaseMs = 30_000,
  deadlineMs = 8_000,
): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const end = Date.now() + deadlineMs;
  while (out.length < count && Date.now() < end) {
    out.push(...(await a.receive(queue, { max: Math.min(10, count - out.length), leaseMs, waitMs: 1_000 })));
  }
  return out;
}

/** Resolves when `a` next hands a `ReceiveMessage` request to its HTTP handler (the poll is on the wire). */
function nextPollSent(a: SqsAdapter): Promise<void> {
  return new Promise((resolve) => {
    const name = `poll-sent-${randomBytes(4).toString('hex')}`;
    a.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ReceiveMessageCommand') {
          a.client.middlewareStack.remove(name);
          resolve();
        }
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name },
    );
  });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(skipReason !== undefined)('@bg/sqs on fauxqs', () => {
  it('a released handle cannot ack although fauxqs would still delete with its receipt', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'j1', body: 'x' }]);
    const [got] = await receiveUntil(a, q, 1);
    expect(got).toBeDefined();
    await a.release(q, got?.handle as string, 5_000);
    const error = await rejection(a.ack(q, got?.handle as string));
    expect(isBgError(error, 'LEASE_LOST')).toBe(true);
    expect(await inspector(a).liveCount(q)).toBe(1);
  });

  it('a handle used by another adapter after its lease ended proves ownership first (stale → LEASE_LOST)', async () => {
    const a = adapter();
    const b = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'j2', body: 'y' }]);
    const [first] = await receiveUntil(a, q, 1, 1_000);
    const [second] = await receiveUntil(a, q, 1, 30_000, 5_000);
    expect(second?.deliveryCount).toBe(2);
    // b never saw the first receipt: it must verify, and the superseded receipt fails.
    const error = await rejection(
      b.deadLetter(q, first as ReceivedMessage, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() }),
    );
    expect(isBgError(error, 'LEASE_LOST')).toBe(true);
    expect(await inspector(a).deadCount(q)).toBe(0);
    await a.ack(q, second?.handle as string);
    expect(await inspector(a).liveCount(q)).toBe(0);
  });

  it('an aborted long poll returns at once and hands back a message that arrives after the abort', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    const controller = new AbortController();
    const start = Date.now();
    const polling = a.receive(q, { max: 1, leaseMs: 60_000, waitMs: 10_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    expect(await polling).toEqual([]);
    expect(Date.now() - start).toBeLessThan(500);
    await a.send(q, [{ id: 'late', body: 'late' }]);
    const got = await receiveUntil(a, q, 1, 60_000, 5_000);
    expect(got.map((m) => m.id)).toEqual(['late']);
    // The abandoned poll received it once and released it: that receive counts.
    expect(got[0]?.deliveryCount).toBe(2);
  });

  it('close lets an abandoned long poll end instead of cancelling it: a job handed back just before close is redelivered at once, not after its lease', async () => {
    const a = adapter();
    const b = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'back', body: 'b' }]);
    const [held] = await receiveUntil(a, q, 1, 60_000);
    expect(held?.id).toBe('back');
    // A worker stopping: its idle long poll is abandoned (still open on the server) ...
    const controller = new AbortController();
    const sent = nextPollSent(a);
    const polling = a.receive(q, { max: 1, leaseMs: 60_000, waitMs: 10_000, signal: controller.signal });
    await sent;
    controller.abort();
    expect(await polling).toEqual([]);
    // ... it hands its job back (the open poll takes it at once) and closes right away.
    await a.release(q, held?.handle as string, 0);
    await a.close();
    const got = await receiveUntil(b, q, 1, 60_000, 3_000);
    expect(
      got.map((m) => m.id),
      'the job handed back before close() was not visible within 3 s (lease 60 s)',
    ).toEqual(['back']);
  });

  it('close stops receives at once but lets their polls end: a job sent while close waits is not taken into limbo', async () => {
    const a = adapter();
    const b = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    const sent = nextPollSent(a);
    const polling = a.receive(q, { max: 1, leaseMs: 60_000, waitMs: 10_000 });
    await sent;
    // One more round trip, so the poll written before it is open on the server.
    expect((await a.stats(q)).ready).toBe(0);
    const start = Date.now();
    const closing = a.close();
    expect(await polling, 'a receive in progress at close() returns empty').toEqual([]);
    await b.send(q, [{ id: 'during-close', body: 'd' }]);
    await closing;
    expect(Date.now() - start, 'close() waited for the poll to end, not for its 10 s').toBeLessThan(5_000);
    const got = await receiveUntil(b, q, 1, 60_000, 3_000);
    expect(
      got.map((m) => m.id),
      'a job sent during close() was not visible within 3 s (lease 60 s)',
    ).toEqual(['during-close']);
  });

  it('close cancels a poll still open after 1 s (a hung connection here) instead of waiting for ever', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    // The HTTP handler never answers a ReceiveMessage: only its abort signal ends it.
    const handler = a.client.config.requestHandler as unknown as {
      handle(request: { headers: Record<string, string> }, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
    };
    const original = handler.handle.bind(handler);
    let cancelled = false;
    handler.handle = (request, options) => {
      if (!request.headers['x-amz-target']?.endsWith('.ReceiveMessage')) return original(request, options);
      return new Promise((_, reject) => {
        options?.abortSignal?.addEventListener('abort', () => {
          cancelled = true;
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
    };
    const controller = new AbortController();
    const polling = a.receive(q, { max: 1, leaseMs: 30_000, waitMs: 10_000, signal: controller.signal });
    controller.abort();
    expect(await polling).toEqual([]);
    const start = Date.now();
    await a.close();
    expect(cancelled, 'close() cancelled the hung poll').toBe(true);
    expect(Date.now() - start, 'close() waited 1 s for the poll, then cancelled it').toBeLessThan(4_000);
  });

  it('a batch entry the server rejects fails the send with its id; the others are stored', async () => {
    const small = adapter({ maxMessageBytes: 16_384 });
    const q = queueName();
    await small.ensureQueue(q); // MaximumMessageSize 16 KiB on the queue
    const a = adapter();
    const error = await rejection(
      a.send(q, [
        { id: 'fits', body: 'ok' },
        { id: 'too-big', body: 'z'.repeat(20_000) },
      ]),
    );
    expect(isBgError(error)).toBe(true);
    expect((error as { details: { failedIds: string[] } }).details.failedIds).toEqual(['too-big']);
    const got = await receiveUntil(a, q, 1);
    expect(got.map((m) => m.id)).toEqual(['fits']);
  });

  it('coalesces concurrent acks into batch deletes and splits big batches under the 1 MiB batch limit', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    const big = Array.from({ length: 10 }, (_, i) => ({ id: `big-${i}`, body: String(i).repeat(300_000) }));
    await a.send(q, big);
    const got = await receiveUntil(a, q, 10);
    expect(got.map((m) => m.id).sort()).toEqual(big.map((m) => m.id).sort());
    for (const m of got) expect(m.body).toBe(big.find((b) => b.id === m.id)?.body);
    await Promise.all(got.map((m) => a.ack(q, m.handle)));
    expect(await inspector(a).liveCount(q)).toBe(0);
  });

  it('keeps bodies and attributes SQS cannot store as they are (control characters, odd names, many attributes)', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    const attributes: Record<string, string> = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [`with space ${i}`, `v${i} 🚀`]),
    );
    attributes.empty = '';
    const message = { id: 'odd id ✓ 🚀', body: 'nul \u0000 bell \u0007 ffff \uFFFF emoji 🚀', attributes };
    await a.send(q, [message]);
    const [got] = await receiveUntil(a, q, 1);
    expect(got?.id).toBe(message.id);
    expect(got?.body).toBe(message.body);
    expect(got?.attributes).toEqual(attributes);
  });

  it('reads messages written by another client, and dead letters moved by the SQS redrive policy', async () => {
    const a = adapter({ redriveMaxReceiveCount: 1 });
    expect(a.capabilities.nativeDeadLetter).toBe(true);
    const q = queueName();
    await a.ensureQueue(q);
    await inspector(a).sendRaw?.(q, 'foreign');
    const [first] = await receiveUntil(a, q, 1, 1_000);
    expect(first?.body).toBe('foreign');
    expect(first?.id).toMatch(/[0-9a-f-]{36}/); // the SQS MessageId
    // The next receive after the lease exceeds maxReceiveCount 1: SQS moves it to the DLQ.
    expect(await a.receive(q, { max: 1, leaseMs: 1_000, waitMs: 3_000 })).toEqual([]);
    const page = await a.listDeadLetters(q);
    expect(page.items.map((d) => d.body)).toEqual(['foreign']);
    expect(page.items[0]?.reason).toBe('max-attempts');
    expect(page.items[0]?.error?.name).toBe('SqsRedrivePolicy');
    expect(await a.replayDeadLetter(q, first?.id as string)).toBe(true);
    const [again] = await receiveUntil(a, q, 1);
    expect(again?.deliveryCount).toBe(1);
  });

  it('does not create queues implicitly: sending to a queue nobody ensured is QUEUE_NOT_FOUND', async () => {
    const a = adapter();
    const q = queueName();
    const error = await rejection(a.send(q, [{ id: 'x', body: 'x' }]));
    expect(isBgError(error, 'QUEUE_NOT_FOUND')).toBe(true);
    expect((error as { retryable: boolean }).retryable).toBe(false);
    const raw = rawClient();
    await expect(raw.send(new GetQueueUrlCommand({ QueueName: q }))).rejects.toThrow();
    raw.destroy();
  });

  it('receives of more than 10 split into parallel calls while a backlog waits: every job once, never more than max; idle: one call', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    expect(a.capabilities.maxBatchSize).toBe(100);
    const sent = Array.from({ length: 100 }, (_, i) => ({ id: `f-${i}`, body: `body ${i}` }));
    await a.send(q, sent);
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    const end = Date.now() + 8_000;
    while (seen.size < sent.length && Date.now() < end) {
      const got = await a.receive(q, { max: 35, leaseMs: 30_000, waitMs: 1_000 });
      sizes.push(got.length);
      for (const m of got) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
      await Promise.all(got.map((m) => a.ack(q, m.handle)));
    }
    expect(seen.size).toBe(sent.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(35);
    // The first receive is one call of 10; the next ones find the backlog and fan out.
    expect(sizes[0]).toBe(10);
    expect(Math.max(...sizes)).toBeGreaterThan(10);
    const send = vi.spyOn(a.client, 'send');
    expect(await a.receive(q, { max: 35, leaseMs: 30_000, waitMs: 1_000 })).toEqual([]);
    const receives = send.mock.calls.filter(([command]) => command instanceof ReceiveMessageCommand);
    expect(receives.length).toBeLessThanOrEqual(2);
    expect(await inspector(a).liveCount(q)).toBe(0);
  });

  it('rounds leases up to whole seconds and long-polls no longer than waitMs', async () => {
    const a = adapter();
    const q = queueName();
    await a.ensureQueue(q);
    await a.send(q, [{ id: 'r', body: 'r' }]);
    const before = Date.now();
    const [got] = await receiveUntil(a, q, 1, 1_200);
    expect(got?.leaseExpiresAt).toBeGreaterThanOrEqual(before + 2_000 - 50);
    const start = Date.now();
    expect(await a.receive(q, { max: 1, leaseMs: 1_000, waitMs: 300 })).toEqual([]);
    expect(Date.now() - start).toBeLessThan(1_000);
    const raw = rawClient();
    const { QueueUrl } = await raw.send(new GetQueueUrlCommand({ QueueName: q }));
    const answer = await raw.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 0 }));
    expect(answer.Messages ?? []).toEqual([]);
    raw.destroy();
  });
});
