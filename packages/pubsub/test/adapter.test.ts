import { randomBytes } from 'node:crypto';
import { type Adapter, isBgError } from '@bg/core';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { MAX_USER_ATTRIBUTES, optionsFromUrl, pubsubAdapter, queueResources } from '../src/index.js';
import { mapError } from '../src/map-error.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return isBgError(error) ? error.code : `not a BgError: ${String(error)}`;
  }
}

function name(kind: string): string {
  return `own-${kind}-${randomBytes(4).toString('hex')}`;
}

describe('pubsub adapter: pure parts', () => {
  it('parses pubsub:// URLs', () => {
    expect(optionsFromUrl(new URL('pubsub://my-project?endpoint=127.0.0.1:8085&prefix=x-&exactlyOnce=false'))).toEqual({
      projectId: 'my-project',
      apiEndpoint: '127.0.0.1:8085',
      prefix: 'x-',
      exactlyOnceDelivery: false,
    });
    expect(() => optionsFromUrl(new URL('pubsub://p?timeoutMs=-1'))).toThrow(/timeoutMs/);
  });

  it('maps gRPC statuses to typed errors (the emulator never checks credentials)', () => {
    expect(mapError({ code: 16, message: 'UNAUTHENTICATED' }, 'pull')).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    // Credentials that cannot be loaded, as each google-auth-library version words it: a configuration error.
    for (const text of [
      'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started',
      'Unable to read the credential file specified by the GOOGLE_APPLICATION_CREDENTIALS environment variable: …',
      'The file at /nonexistent/key.json does not exist, or it is not a file. ENOENT: no such file or directory',
    ])
      expect(mapError(new Error(text), 'pull'), text).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(mapError({ code: 7, message: 'PERMISSION_DENIED' }, 'pull')).toMatchObject({ code: 'AUTH_FAILED', retryable: false });
    expect(mapError({ code: 14, message: 'UNAVAILABLE' }, 'pull')).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    expect(mapError({ code: 5, message: 'NOT_FOUND' }, 'pull')).toMatchObject({ code: 'QUEUE_NOT_FOUND', retryable: false });
    expect(mapError({ code: 8, message: 'RESOURCE_EXHAUSTED' }, 'pull')).toMatchObject({
      code: 'BACKEND_ERROR',
      retryable: true,
    });
    const unresolved = new Error(
      '14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED. Resolution note: ',
    );
    expect(mapError(Object.assign(unresolved, { code: 14 }), 'pull').message, "grpc-js's empty resolution note is dropped").toBe(
      'Pub/Sub pull failed: 14 UNAVAILABLE: No connection established. Last error: connect ECONNREFUSED',
    );
  });

  it('keeps resource names apart: "<prefix><queue>" and "<prefix><queue>.dead"', () => {
    const a = queueResources('p', 'bg-', 'jobs');
    const b = queueResources('p', 'bg-', 'jobs-dead');
    expect(a.deadTopic).toBe('projects/p/topics/bg-jobs.dead');
    expect(b.topic).not.toBe(a.deadTopic);
    expect(() => queueResources('p', '', 'google-jobs')).toThrow(/goog/);
  });
});

describe.skipIf(!endpoint)('pubsub adapter: Pub/Sub specifics against the emulator', () => {
  const adapters: Adapter[] = [];
  const make = (extra: Parameters<typeof pubsubAdapter>[0] = {}): Adapter => {
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId, ...extra });
    adapters.push(adapter);
    return adapter;
  };
  afterAll(async () => {
    for (const a of adapters) await a.close();
  });

  it.concurrent('an idle receive pauses longer and longer, and a send through the same adapter wakes it at once', async () => {
    const adapter = make({ pollIntervalMs: 2_000 });
    const queue = name('idle-wake');
    await adapter.ensureQueue(queue);
    const receiving = adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 10_000 });
    // Empty pulls pause 10, 20, … 1 280 ms (2.55 s in all), then 2 s: at 3 s the receive sleeps.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sentAt = Date.now();
    await adapter.send(queue, [{ id: 'wake-me', body: 'x' }]);
    const got = await receiving;
    const waited = Date.now() - sentAt;
    expect(got.map((m) => m.id)).toEqual(['wake-me']);
    expect(waited, `receive returned ${waited} ms after the send (its pause had ~1.5 s left)`).toBeLessThan(1_000);
  });

  it.concurrent('close() hands back what a pull still in flight brings: another adapter gets it at once, not after the ack deadline', async () => {
    const a = make();
    const b = make();
    const queue = name('close-in-flight');
    await a.ensureQueue(queue);
    // Reads the subscription's settings once, so the next receive pulls at once.
    expect(await a.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 0 })).toEqual([]);
    await a.send(queue, [{ id: 'in-flight', body: 'x' }]);
    const receiving = a.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 5_000 });
    // One turn of the event loop: the receive has sent its pull.
    await new Promise((resolve) => setImmediate(resolve));
    const closing = a.close();
    expect(await receiving, 'a receive in flight at close() returns nothing').toEqual([]);
    await closing;
    const got = await b.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 3_000 });
    expect(
      got.map((m) => m.id),
      'the message a pull brought after close() began was not visible again within 3 s (ack deadline 10 s)',
    ).toEqual(['in-flight']);
  });

  it.concurrent('rejects what real Pub/Sub rejects, before anything is sent', async () => {
    const adapter = make();
    const queue = name('limits');
    await adapter.ensureQueue(queue);
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'x', attributes: { googfoo: '1' } }]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'x', attributes: { 'bg-id': 'other' } }]))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'x', attributes: { big: 'v'.repeat(1_025) } }]))).toBe(
      'INVALID_ARGUMENT',
    );
    const many = Object.fromEntries(Array.from({ length: MAX_USER_ATTRIBUTES + 1 }, (_, i) => [`k${i}`, 'v']));
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'x', attributes: many }]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'lone \uD800 surrogate' }]))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(adapter.send(queue, [{ id: 'a', body: 'x', delayMs: 1_000 }]))).toBe('DELAY_TOO_LONG');
    // A handle Pub/Sub never issued owns nothing.
    expect(await codeOf(adapter.ack(queue, 'not-an-ack-id'))).toBe('LEASE_LOST');
    expect(await adapter.receive(queue, { max: 10, leaseMs: 10_000 })).toEqual([]);
  });

  it.concurrent('a receive on a backlog pulls in parallel once one pull came back full: every job once, never above max', async () => {
    const adapter = make();
    const queue = name('wide');
    await adapter.ensureQueue(queue);
    const sent = Array.from({ length: 600 }, (_, i) => ({ id: `w-${i}`, body: `body ${i}` }));
    await adapter.send(queue, sent);
    const seen = new Map<string, number>();
    const sizes: number[] = [];
    const end = Date.now() + 20_000;
    while (seen.size < sent.length && Date.now() < end) {
      const got = await adapter.receive(queue, { max: 250, leaseMs: 60_000, waitMs: 200 });
      sizes.push(got.length);
      for (const m of got) seen.set(m.id, (seen.get(m.id) ?? 0) + 1);
      await Promise.all(got.map((m) => adapter.ack(queue, m.handle)));
    }
    expect(seen.size).toBe(sent.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(250);
    // The emulator hands out at most ~100 per pull: more than that in one receive took parallel pulls.
    expect(Math.max(...sizes)).toBeGreaterThan(100);
  });

  it.concurrent('ensureQueue on a queue in place only reads; with a subscription gone it creates it again', async () => {
    const adapter = make();
    const queue = name('ensure');
    await adapter.ensureQueue(queue);
    await adapter.ensureQueue(queue);
    const { deadSubscription } = queueResources(projectId, 'bg-', queue);
    const options = new PubSub({ apiEndpoint: endpoint, emulatorMode: true, projectId }).options as ConstructorParameters<
      typeof v1.SubscriberClient
    >[0];
    const subscriber = new v1.SubscriberClient(options);
    try {
      await subscriber.deleteSubscription({ subscription: deadSubscription });
      await adapter.ensureQueue(queue);
      const [dead] = await subscriber.getSubscription({ subscription: deadSubscription });
      expect(dead.name).toBe(deadSubscription);
    } finally {
      await subscriber.close();
    }
    await adapter.send(queue, [{ id: 'e1', body: 'x' }]);
    const got = await adapter.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 2_000 });
    expect(got.map((m) => m.id)).toEqual(['e1']);
  });

  it.concurrent('splits a batch above 10 MB into several publish requests, all stored', async () => {
    const adapter = make();
    const queue = name('split');
    await adapter.ensureQueue(queue);
    const body = 'y'.repeat(4_000_000);
    const sent = [1, 2, 3].map((i) => ({ id: `big-${i}`, body }));
    await adapter.send(queue, sent);
    const got = [];
    const end = Date.now() + 20_000;
    while (got.length < 3 && Date.now() < end)
      got.push(...(await adapter.receive(queue, { max: 3, leaseMs: 60_000, waitMs: 200 })));
    expect(got.map((m) => m.id).sort()).toEqual(['big-1', 'big-2', 'big-3']);
    expect(got.every((m) => m.body === body)).toBe(true);
  });

  it.concurrent('lists messages forwarded by Pub/Sub’s own dead-letter policy as max-attempts', async () => {
    const adapter = make();
    const queue = name('native');
    await adapter.ensureQueue(queue);
    const options = new PubSub({ apiEndpoint: endpoint, emulatorMode: true, projectId }).options as ConstructorParameters<
      typeof v1.PublisherClient
    >[0];
    const publisher = new v1.PublisherClient(options);
    try {
      // What the dead-letter policy forwards: the original data and attributes plus its own.
      await publisher.publish({
        topic: queueResources(projectId, 'bg-', queue).deadTopic,
        messages: [
          {
            data: Buffer.from('{"crash":"loop"}'),
            attributes: {
              'bg-id': 'job-native',
              'bg-type': 'x',
              CloudPubSubDeadLetterSourceDeliveryCount: '100',
              CloudPubSubDeadLetterSourceSubscription: 'bg-whatever',
            },
          },
        ],
      });
    } finally {
      await publisher.close();
    }
    const dead = await adapter.getDeadLetter(queue, 'job-native');
    expect(dead).toMatchObject({ id: 'job-native', body: '{"crash":"loop"}', reason: 'max-attempts', attempts: 100 });
    expect(dead?.attributes).toEqual({ 'bg-type': 'x' });
    expect((await adapter.stats(queue)).dead).toBe(1);
  });

  it.concurrent('without exactly-once delivery, an expired lease is LEASE_LOST from the adapter’s own clock', async () => {
    const adapter = make({ exactlyOnceDelivery: false, prefix: 'loose-' });
    const queue = name('loose');
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'loose-1', body: 'x' }]);
    const [first] = await adapter.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 5_000 });
    expect(first?.deliveryCount).toBe(1);
    const second = await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 20_000 });
    expect(second[0]?.id).toBe('loose-1');
    expect(second[0]?.deliveryCount).toBe(2);
    expect(await codeOf(adapter.ack(queue, first?.handle as string))).toBe('LEASE_LOST');
    await adapter.ack(queue, second[0]?.handle as string);
    await adapter.ack(queue, second[0]?.handle as string);
  }, 40_000);

  it('without exactly-once delivery, a held lease stays held when the wall clock jumps: leases run on the monotonic clock', async () => {
    const adapter = make({ exactlyOnceDelivery: false, prefix: 'loose-' });
    const queue = name('loose-clock');
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'loose-clock-1', body: 'x' }]);
    const [held] = await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 5_000 });
    expect(held?.id, 'the job received').toBe('loose-clock-1');
    // The host's wall clock jumps two minutes ahead (an NTP correction, a resumed VM) while ack()
    // checks the lease (synchronously: the queue's settings are known), and only then (the client's
    // own deadlines use the wall clock too). With leases on the wall clock this one looked ended,
    // and its ack was refused LEASE_LOST.
    const realNow = Date.now;
    Date.now = () => realNow() + 120_000;
    let acking: Promise<string | undefined>;
    try {
      acking = codeOf(adapter.ack(queue, held?.handle as string));
    } finally {
      Date.now = realNow;
    }
    const outcome = await acking;
    expect(outcome, 'ack() of a lease held for 60 s, right after a 2-minute jump of the wall clock').toBeUndefined();
  });
});
