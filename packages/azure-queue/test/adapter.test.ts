import { randomBytes } from 'node:crypto';
import { azureQueueAdapter, fromUrl, MAX_BODY_BYTES } from '@bg/azure-queue';
import { type Adapter, isBgError, type ReceivedMessage } from '@bg/core';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionString, inspector, makeAdapter, queueEndpoint, skipReason } from './backend.js';

const suite = skipReason ? describe.skip : describe;
if (skipReason) console.warn(`[azure-queue] ${skipReason}`);

const opened: Adapter[] = [];
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});

function adapter(): Adapter {
  const a = makeAdapter();
  opened.push(a);
  return a;
}

async function freshQueue(a: Adapter, prefix = 't'): Promise<string> {
  const q = `${prefix}-${randomBytes(5).toString('hex')}`;
  await a.ensureQueue(q);
  return q;
}

async function receiveN(a: Adapter, queue: string, n: number, leaseMs = 30_000, deadlineMs = 5_000): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  const end = Date.now() + deadlineMs;
  while (out.length < n && Date.now() < end) {
    out.push(...(await a.receive(queue, { max: Math.min(32, n - out.length), leaseMs, waitMs: 200 })));
  }
  return out;
}

async function bgCode(promise: Promise<unknown>): Promise<{ code: string; retryable: boolean }> {
  try {
    await promise;
  } catch (error) {
    if (isBgError(error)) return { code: error.code, retryable: error.retryable };
    throw error;
  }
  throw new Error('expected a BgError');
}

const AWKWARD = [
  '{}',
  '<xml attr="1">&amp; &lt;tag&gt; \' " ]]></xml>',
  'nul \u0000 bell \u0007 ls \u2028 ps \u2029 fffe \ufffe',
  '🚀👩‍👩‍👧 e\u0301 日本語 العربية',
  '',
  'SGVsbG8gd29ybGQ=',
  'bg1 {"i":"fake"}\nnot really',
];

suite('azure-queue adapter on Azurite', () => {
  it('round-trips awkward bodies, ids and attributes byte for byte', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    const sent = AWKWARD.map((body, i) => ({
      id: `id-${i}-<&>-ü`,
      body,
      attributes: (i % 2 ? { 'bg-type': 'x', note: '<&>"ü' } : {}) as Record<string, string>,
    }));
    expect(await a.send(q, sent)).toEqual(sent.map((m) => ({ id: m.id, duplicate: false })));
    const got = await receiveN(a, q, sent.length);
    expect(got).toHaveLength(sent.length);
    for (const m of sent) {
      const r = got.find((g) => g.id === m.id);
      expect(r?.body).toBe(m.body);
      expect(r?.attributes).toEqual(m.attributes);
      expect(r?.deliveryCount).toBe(1);
    }
  });

  it('delivers messages written by other clients raw, with the Azure message id', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    await inspector().sendRaw(q, 'not a bg message <&>');
    const [m] = await receiveN(a, q, 1);
    expect(m?.body).toBe('not a bg message <&>');
    expect(m?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(m?.attributes).toEqual({});
  });

  it('accepts a body of exactly maxPayloadBytes and rejects one byte more, sending nothing', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    expect(a.capabilities.maxPayloadBytes).toBe(MAX_BODY_BYTES);
    const longId = '\u0001'.repeat(128);
    const max = 'é'.repeat(MAX_BODY_BYTES / 2);
    await a.send(q, [{ id: longId, body: max }]);
    expect(
      await bgCode(
        a.send(q, [
          { id: 'ok', body: 'x' },
          { id: 'big', body: `${max}x` },
        ]),
      ),
    ).toEqual({
      code: 'PAYLOAD_TOO_LARGE',
      retryable: false,
    });
    expect(await bgCode(a.send(q, [{ id: 'attrs', body: max, attributes: { big: 'a'.repeat(2000) } }]))).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(await inspector().liveCount(q)).toBe(1);
    const [m] = await receiveN(a, q, 1);
    expect(m?.id).toBe(longId);
    expect(m?.body).toBe(max);
    // The dead-letter record of a maximal message still fits, with a huge error shortened.
    await a.deadLetter(q, m as ReceivedMessage, {
      reason: 'permanent-error',
      error: { message: 'm'.repeat(70_000), stack: 's'.repeat(70_000) },
      attempts: 1,
      deadLetteredAt: Date.now(),
    });
    const dead = await a.getDeadLetter(q, longId);
    expect(dead?.body).toBe(max);
    expect(dead?.error?.message.length).toBeGreaterThan(0);
  });

  it('leases for whole seconds, redelivers with a higher count, and rotates handles on extend', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    await a.send(q, [{ id: 'j1', body: 'b' }]);
    const [first] = await receiveN(a, q, 1, 1_000);
    expect(first?.deliveryCount).toBe(1);
    const second = (await receiveN(a, q, 1, 1_000))[0] as ReceivedMessage;
    expect(second.deliveryCount).toBe(2);
    // stale handle after someone else received it
    expect(await bgCode(a.ack(q, (first as ReceivedMessage).handle))).toEqual({ code: 'LEASE_LOST', retryable: false });
    const extended = await a.extend(q, second.handle, 2_000);
    expect(extended.handle).not.toBe(second.handle);
    expect(await bgCode(a.extend(q, second.handle, 2_000))).toMatchObject({ code: 'LEASE_LOST' });
    expect(await bgCode(a.release(q, second.handle, 0))).toMatchObject({ code: 'LEASE_LOST' });
    await a.ack(q, extended.handle);
    await a.ack(q, extended.handle);
    expect(await inspector().liveCount(q)).toBe(0);
  });

  it('release keeps the count and honours the delay', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    await a.send(q, [{ id: 'r1', body: 'b' }]);
    const [m] = await receiveN(a, q, 1);
    await a.release(q, (m as ReceivedMessage).handle, 0);
    const [again] = await receiveN(a, q, 1);
    expect(again?.deliveryCount).toBe(2);
    const start = Date.now();
    await a.release(q, (again as ReceivedMessage).handle, 1_500);
    expect(await a.receive(q, { max: 1, leaseMs: 5_000 })).toEqual([]);
    const [third] = await receiveN(a, q, 1, 5_000, 5_000);
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_400);
    expect(third?.deliveryCount).toBe(3);
  });

  it('ends a polling receive promptly on abort', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    const controller = new AbortController();
    const start = Date.now();
    setTimeout(() => controller.abort(), 100);
    expect(await a.receive(q, { max: 1, leaseMs: 5_000, waitMs: 10_000, signal: controller.signal })).toEqual([]);
    expect(Date.now() - start).toBeLessThan(400);
  });

  it('close() ends a receive in flight with nothing and hands back what it got: another adapter gets it at once', async () => {
    const a = makeAdapter();
    const b = adapter();
    const q = await freshQueue(b);
    await b.send(q, [{ id: 'in-flight', body: 'x' }]);
    const receiving = a.receive(q, { max: 1, leaseMs: 60_000, waitMs: 5_000 });
    // One turn of the event loop: the receive has sent its request.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = a.close();
    expect(await receiving, 'a receive in flight at close() returns nothing (nobody could ack it)').toEqual([]);
    await closing;
    const got = await receiveN(b, q, 1, 60_000, 3_000);
    expect(
      got.map((m) => m.id),
      'the message a receive brought after close() began was not visible again within 3 s (lease 60 s)',
    ).toEqual(['in-flight']);
  });

  it('manages dead letters beyond the peek limit of 32', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    const n = 40;
    const ids = Array.from({ length: n }, (_, i) => `d-${String(i).padStart(2, '0')}`);
    for (let i = 0; i < n; i += 32)
      await a.send(
        q,
        ids.slice(i, i + 32).map((id) => ({ id, body: `body ${id}`, attributes: { k: id } })),
      );
    const got = await receiveN(a, q, n);
    expect(got).toHaveLength(n);
    const t0 = Date.now();
    got.sort((x, y) => (x.id < y.id ? -1 : 1));
    for (const [i, m] of got.entries()) {
      await a.deadLetter(q, m, {
        reason: 'max-attempts',
        error: { message: `boom ${m.id}` },
        attempts: 3,
        deadLetteredAt: t0 + i,
      });
      await a.ack(q, m.handle);
    }
    expect(await inspector().liveCount(q)).toBe(0);
    expect(await inspector().deadCount(q)).toBe(n);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await a.listDeadLetters(q, { limit: 15, ...(cursor ? { cursor } : {}) });
      seen.push(...page.items.map((d) => d.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(ids);
    const shown = await a.getDeadLetter(q, 'd-39');
    expect(shown).toMatchObject({
      id: 'd-39',
      body: 'body d-39',
      attributes: { k: 'd-39' },
      reason: 'max-attempts',
      attempts: 3,
    });
    expect(shown?.error?.message).toBe('boom d-39');
    expect(await a.replayDeadLetter(q, 'd-05')).toBe(true);
    expect(await a.replayDeadLetter(q, 'nope')).toBe(false);
    const [replayed] = await receiveN(a, q, 1);
    expect(replayed).toMatchObject({ id: 'd-05', body: 'body d-05', attributes: { k: 'd-05' }, deliveryCount: 1 });
    expect(await a.purgeDeadLetters(q, ['d-01', 'd-02', 'missing'])).toBe(2);
    expect(await a.getDeadLetter(q, 'd-01')).toBeUndefined();
    expect((await a.stats(q)).dead).toBe(n - 3);
    expect(await a.purgeDeadLetters(q)).toBe(n - 3);
    expect(await inspector().deadCount(q)).toBe(0);
  });

  it('a dead-letter with a stale handle is LEASE_LOST and writes nothing', async () => {
    const a = adapter();
    const q = await freshQueue(a);
    await a.send(q, [{ id: 's1', body: 'b' }]);
    const [m] = await receiveN(a, q, 1);
    const ext = await a.extend(q, (m as ReceivedMessage).handle, 5_000);
    expect(
      await bgCode(a.deadLetter(q, m as ReceivedMessage, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() })),
    ).toMatchObject({ code: 'LEASE_LOST' });
    expect(await inspector().deadCount(q)).toBe(0);
    await a.deadLetter(
      q,
      { ...(m as ReceivedMessage), handle: ext.handle },
      { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() },
    );
    await a.ack(q, ext.handle);
    expect(await inspector().liveCount(q)).toBe(0);
  });

  it('maps missing queues, bad keys and unreachable servers to typed errors', async () => {
    const a = adapter();
    expect(await bgCode(a.send('never-created-queue', [{ id: 'x', body: 'y' }]))).toEqual({
      code: 'QUEUE_NOT_FOUND',
      retryable: false,
    });
    expect(await bgCode(a.receive('never-created-queue', { max: 1, leaseMs: 1_000 }))).toEqual({
      code: 'QUEUE_NOT_FOUND',
      retryable: false,
    });
    const bad = azureQueueAdapter({
      url: queueEndpoint(),
      accountName: 'devstoreaccount1',
      accountKey: Buffer.alloc(64, 1).toString('base64'),
    });
    opened.push(bad);
    expect(await bgCode(bad.receive('any-queue', { max: 1, leaseMs: 1_000 }))).toEqual({ code: 'AUTH_FAILED', retryable: false });
    const down = azureQueueAdapter({ connectionString: connectionString().replace(/:\d+\//, ':1/') });
    opened.push(down);
    const start = Date.now();
    expect(await bgCode(down.send('any-queue', [{ id: 'x', body: 'y' }]))).toEqual({ code: 'UNREACHABLE', retryable: true });
    expect(Date.now() - start).toBeLessThan(3_000);
  });

  it('is CLOSED after close, and close twice is harmless', async () => {
    const a = makeAdapter();
    const q = await freshQueue(a);
    await a.close();
    await a.close();
    expect(await bgCode(a.send(q, [{ id: 'x', body: 'y' }]))).toMatchObject({ code: 'CLOSED' });
  });
});

suite('fromUrl (connect)', () => {
  it('connects with a connection string or an account key and endpoint', async () => {
    const byString = await fromUrl(new URL(`azure-queue://?connectionString=${encodeURIComponent(connectionString())}`));
    opened.push(byString);
    const q = await freshQueue(byString, 'url');
    await byString.send(q, [{ id: 'u1', body: 'hello' }]);
    const key = /AccountKey=([^;]+)/.exec(connectionString())?.[1] ?? '';
    const byKey = await fromUrl(
      new URL(
        `azure-queue://devstoreaccount1?endpoint=${encodeURIComponent(queueEndpoint())}&accountKey=${encodeURIComponent(key)}`,
      ),
    );
    opened.push(byKey);
    const [m] = await receiveN(byKey, q, 1);
    expect(m).toMatchObject({ id: 'u1', body: 'hello' });
  });
});
