import { randomBytes } from 'node:crypto';
import { type Adapter, type BgError, isBgError, type ReceivedMessage } from '@bg/core';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type PubSubAdapterOptions, pubsubAdapter } from '../src/index.js';

const endpoint = inject('pubsubEndpoint');
const projectId = inject('pubsubProjectId');

function name(kind: string): string {
  return `audit-${kind}-${randomBytes(4).toString('hex')}`;
}

/** The error `run` throws or rejects with (fails the test when it succeeds). */
async function errorOf(what: string, run: () => unknown): Promise<BgError> {
  let outcome: unknown;
  try {
    outcome = await run();
  } catch (error) {
    if (!isBgError(error)) throw new Error(`${what}: expected a BgError, got ${String(error)}`);
    return error;
  }
  throw new Error(`${what}: expected a rejection, got ${JSON.stringify(outcome)}`);
}

/** Receives until `n` messages came (each receive waits at most 3 s; gives up after 10 s). */
async function receiveAll(adapter: Adapter, queue: string, n: number): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const until = Date.now() + 10_000;
  while (got.length < n && Date.now() < until) {
    got.push(...(await adapter.receive(queue, { max: n - got.length, leaseMs: 10_000, waitMs: 3_000 })));
  }
  expect(got.length, `receive of ${queue}: ${n} messages within 10 s`).toBe(n);
  return got;
}

describe('pubsub audit fixes: options checked at construction (no emulator needed)', () => {
  const cases: readonly [keyof PubSubAdapterOptions, Partial<Record<keyof PubSubAdapterOptions, unknown>>][] = [
    ['timeoutMs', { timeoutMs: -1 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['pollIntervalMs', { pollIntervalMs: Number.NaN }],
    ['pollIntervalMs', { pollIntervalMs: 0 }],
    ['deadLetterScanLimit', { deadLetterScanLimit: 0 }],
    ['deadLetterScanLimit', { deadLetterScanLimit: 2.5 }],
    ['retentionSeconds', { retentionSeconds: 90 * 86_400 }],
    ['retentionSeconds', { retentionSeconds: 60 }],
    ['deadLetterRetentionSeconds', { deadLetterRetentionSeconds: -5 }],
    ['deadLetterRetentionSeconds', { deadLetterRetentionSeconds: 32 * 86_400 }],
    ['prefix', { prefix: 'a/b-' }],
    ['prefix', { prefix: '1-' }],
    ['prefix', { prefix: 'bg ' }],
    ['prefix', { prefix: '' }],
    ['exactlyOnceDelivery', { exactlyOnceDelivery: 'false' }],
  ];
  for (const [option, bad] of cases) {
    const shown = `{ ${option}: ${typeof bad[option] === 'string' ? JSON.stringify(bad[option]) : String(bad[option])} }`;
    it(`pubsubAdapter(${shown}) is INVALID_ARGUMENT naming ${option}, not retryable`, async () => {
      const error = await errorOf(`pubsubAdapter(${shown})`, () =>
        pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p', ...(bad as PubSubAdapterOptions) }),
      );
      expect(error.code, `pubsubAdapter(${shown}): ${error.message}`).toBe('INVALID_ARGUMENT');
      expect(error.retryable, `pubsubAdapter(${shown}) must not be retryable`).toBe(false);
      expect(error.message, `pubsubAdapter(${shown}) names the option`).toContain(option);
    });
  }

  it('a receive whose signal is already aborted returns [] at once, without a call (not even the subscription read)', async () => {
    // Nothing listens on port 1: any call would fail (or wait out its retries).
    const adapter = pubsubAdapter({ apiEndpoint: '127.0.0.1:1', projectId: 'p', timeoutMs: 5_000 });
    try {
      const start = Date.now();
      const got = await adapter.receive('aborted-queue', {
        max: 1,
        leaseMs: 10_000,
        waitMs: 15_000,
        signal: AbortSignal.abort(),
      });
      expect(
        { got, fast: Date.now() - start < 500 },
        'receive(signal already aborted) on an unreachable endpoint: [] within 500 ms, no call made',
      ).toEqual({ got: [], fast: true });
    } finally {
      await adapter.close();
    }
  });

  it('accepts the documented ranges', async () => {
    const adapter = pubsubAdapter({
      apiEndpoint: '127.0.0.1:1',
      projectId: 'p',
      prefix: 'App.v2~x+y_',
      timeoutMs: 3_600_000,
      pollIntervalMs: 60_000,
      retentionSeconds: 600,
      deadLetterRetentionSeconds: 31 * 86_400,
      deadLetterScanLimit: 1,
      exactlyOnceDelivery: false,
    });
    await adapter.close();
  });
});

describe.skipIf(!endpoint)('pubsub audit fixes against the emulator', () => {
  const adapters: Adapter[] = [];
  /** A pubsub adapter: every method is there (the contract marks queue management optional). */
  const make = (extra: PubSubAdapterOptions = {}): Required<Adapter> => {
    const adapter = pubsubAdapter({ apiEndpoint: endpoint, projectId, ...extra }) as Required<Adapter>;
    adapters.push(adapter);
    return adapter;
  };
  const clientOptions = () =>
    new PubSub({ apiEndpoint: endpoint, emulatorMode: true, projectId }).options as ConstructorParameters<
      typeof v1.SubscriberClient
    >[0];
  const publisher = new v1.PublisherClient(clientOptions());
  const subscriber = new v1.SubscriberClient(clientOptions());
  afterAll(async () => {
    for (const a of adapters) await a.close();
    await publisher.close();
    await subscriber.close();
  });

  it.concurrent('a worker subscription without a dead-letter policy is refused on first read, saying how to add one', async () => {
    const queue = name('nodlq');
    const base = `projects/${projectId}`;
    for (const t of [`bg-${queue}`, `bg-${queue}.dead`]) await publisher.createTopic({ name: `${base}/topics/${t}` });
    await subscriber.createSubscription({
      name: `${base}/subscriptions/bg-${queue}`,
      topic: `${base}/topics/bg-${queue}`,
      ackDeadlineSeconds: 10,
      enableExactlyOnceDelivery: true,
    });
    await subscriber.createSubscription({
      name: `${base}/subscriptions/bg-${queue}.dead`,
      topic: `${base}/topics/bg-${queue}.dead`,
      ackDeadlineSeconds: 60,
    });
    const adapter = make();
    const ensure = await errorOf('ensureQueue on a subscription without deadLetterPolicy', () => adapter.ensureQueue(queue));
    expect(ensure.retryable, `ensureQueue without deadLetterPolicy: not retryable (${ensure.message})`).toBe(false);
    expect(ensure.message, 'ensureQueue without deadLetterPolicy names the setting').toContain('deadLetterPolicy');
    expect(ensure.message, 'ensureQueue without deadLetterPolicy says how to fix it').toMatch(
      /gcloud pubsub subscriptions update/,
    );
    // A worker that does not call ensureQueue (missingQueue 'fail') is refused at its first receive.
    const worker = make();
    const receive = await errorOf('receive on a subscription without deadLetterPolicy', () =>
      worker.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 0 }),
    );
    expect([receive.code, receive.retryable], `receive without deadLetterPolicy: ${receive.message}`).toEqual([
      'BACKEND_ERROR',
      false,
    ]);
    expect(receive.message).toContain('deadLetterPolicy');
  });

  it.concurrent('a subscription whose policy forwards to another topic than <queue>.dead is refused, naming both topics', async () => {
    const queue = name('othertopic');
    const base = `projects/${projectId}`;
    // Terraform-made: the policy forwards to a shared topic. Pub/Sub drops what it publishes to a
    // topic without subscriptions, and bg's dead-letter list, replay and purge read <queue>.dead.
    const shared = name('shared-dlq');
    for (const t of [`bg-${queue}`, `bg-${queue}.dead`, shared]) await publisher.createTopic({ name: `${base}/topics/${t}` });
    await subscriber.createSubscription({
      name: `${base}/subscriptions/bg-${queue}`,
      topic: `${base}/topics/bg-${queue}`,
      ackDeadlineSeconds: 10,
      enableExactlyOnceDelivery: true,
      deadLetterPolicy: { deadLetterTopic: `${base}/topics/${shared}`, maxDeliveryAttempts: 100 },
    });
    await subscriber.createSubscription({
      name: `${base}/subscriptions/bg-${queue}.dead`,
      topic: `${base}/topics/bg-${queue}.dead`,
      ackDeadlineSeconds: 60,
    });
    const ensure = await errorOf('ensureQueue on a policy forwarding to another topic', () => make().ensureQueue(queue));
    expect([ensure.code, ensure.retryable], `ensureQueue on a policy forwarding to ${shared}: ${ensure.message}`).toEqual([
      'BACKEND_ERROR',
      false,
    ]);
    expect(ensure.message, 'the error names the policy topic and the one bg reads').toMatch(
      new RegExp(`${shared}.*bg-${queue}\\.dead`),
    );
    expect(ensure.message, 'the error says how to fix it').toMatch(/gcloud pubsub subscriptions update .*--dead-letter-topic=/);
    const receive = await errorOf('receive on a policy forwarding to another topic', () =>
      make().receive(queue, { max: 1, leaseMs: 10_000, waitMs: 0 }),
    );
    expect([receive.code, receive.retryable], `receive on a policy forwarding to ${shared}: ${receive.message}`).toEqual([
      'BACKEND_ERROR',
      false,
    ]);
  });

  it.concurrent('a subscription whose policy dead-letters before capabilities.maxDeliveries is refused, naming both values', async () => {
    const queue = name('policy');
    await make({ maxDeliveryAttempts: 5 }).ensureQueue(queue);
    const declared100 = make();
    expect(declared100.capabilities.maxDeliveries).toBe(100);
    const error = await errorOf('receive with maxDeliveries 100 on a policy of 5', () =>
      declared100.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 0 }),
    );
    expect([error.code, error.retryable], `receive on a policy of 5 declaring 100: ${error.message}`).toEqual([
      'BACKEND_ERROR',
      false,
    ]);
    expect(error.message, 'the error names the policy value, the declared value and the option').toMatch(
      /after 5 delivery attempts.*maxDeliveries 100.*maxDeliveryAttempts: 5/,
    );
    const ensure = await errorOf('ensureQueue with maxDeliveries 100 on a policy of 5', () => declared100.ensureQueue(queue));
    expect(ensure.message).toContain('maxDeliveryAttempts');
    // With the option set to the policy's value the queue works; a lower declaration is safe too.
    const matching = make({ maxDeliveryAttempts: 5 });
    expect(await matching.receive(queue, { max: 1, leaseMs: 10_000, waitMs: 0 })).toEqual([]);
    const lower = make({ maxDeliveryAttempts: 5 });
    const queue100 = name('policy100');
    await make().ensureQueue(queue100);
    expect(await lower.receive(queue100, { max: 1, leaseMs: 10_000, waitMs: 0 })).toEqual([]);
  });

  it.concurrent('on an exactly-once subscription a released handle is LEASE_LOST for ack, extend, release and deadLetter', async () => {
    const adapter = make();
    const queue = name('released');
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [
      { id: 'r1', body: 'x' },
      { id: 'r2', body: 'y' },
      { id: 'r3', body: 'z' },
      { id: 'r4', body: 'w' },
    ]);
    const got = await receiveAll(adapter, queue, 4);
    for (const m of got) await adapter.release(queue, m.handle, 3_000);
    const [a, b, c, d] = got as [ReceivedMessage, ReceivedMessage, ReceivedMessage, ReceivedMessage];
    const calls: [string, () => Promise<unknown>][] = [
      ['ack', () => adapter.ack(queue, a.handle)],
      ['extend(60 s)', () => adapter.extend(queue, b.handle, 60_000)],
      ['release(0)', () => adapter.release(queue, c.handle, 0)],
      ['deadLetter', () => adapter.deadLetter(queue, d, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() })],
    ];
    for (const [call, run] of calls) {
      const error = await errorOf(`${call} after release(3 s)`, run);
      expect(error.code, `${call} after release(3 s) on exactly-once must be LEASE_LOST: ${error.message}`).toBe('LEASE_LOST');
    }
    // The releases stand: all four come back (the extend did not cancel one of them).
    const back = await receiveAll(adapter, queue, 4);
    expect(back.map((m) => m.id).sort(), 'redelivered after the 3 s release').toEqual(['r1', 'r2', 'r3', 'r4']);
    for (const m of back) await adapter.ack(queue, m.handle);
    expect((await adapter.listDeadLetters(queue)).items, 'the refused deadLetter wrote nothing').toEqual([]);
  });

  it.concurrent('close() sends the acks and the send called just before it; calls after close are CLOSED', async () => {
    const adapter = make();
    const queue = name('close');
    await adapter.ensureQueue(queue);
    await adapter.send(
      queue,
      Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, body: 'x' })),
    );
    const got = await receiveAll(adapter, queue, 5);
    // Same turn: the acks wait in the batcher for setImmediate, the send has not published yet.
    const outcome = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (error: unknown) => `${(error as BgError).code}: ${(error as Error).message}`,
      );
    const acks = got.map((m) => outcome(adapter.ack(queue, m.handle)));
    const sending = outcome(adapter.send(queue, [{ id: 'late-send', body: 'y' }]));
    await adapter.close();
    expect(await Promise.all(acks), 'acks called just before close() are confirmed').toEqual(got.map(() => 'ok'));
    expect(await sending, 'a send called just before close() is published').toBe('ok');
    const after = await errorOf('ack after close', () => adapter.ack(queue, 'x'));
    expect(after.code, `ack after close: ${after.message}`).toBe('CLOSED');
    const sendAfter = await errorOf('send after close', () => adapter.send(queue, [{ id: 'too-late', body: 'z' }]));
    expect(sendAfter.code, `send after close: ${sendAfter.message}`).toBe('CLOSED');
    // The late send is there (the acked ones are not: exactly-once confirmed their acks).
    const reader = make();
    const [late] = await receiveAll(reader, queue, 1);
    expect(late?.id, 'the one message on the queue after close').toBe('late-send');
    await reader.ack(queue, late?.handle ?? '');
  });

  it.concurrent('dead-letter operations past deadLetterScanLimit: stats unknown, reads refused, purge-all in rounds', async () => {
    const full = make();
    const queue = name('scan');
    await full.ensureQueue(queue);
    await full.send(
      queue,
      ['d1', 'd2', 'd3'].map((id) => ({ id, body: id })),
    );
    for (const m of await receiveAll(full, queue, 3)) {
      await full.deadLetter(queue, m, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() });
      await full.ack(queue, m.handle);
    }
    const exact = make({ deadLetterScanLimit: 3 });
    expect((await exact.stats(queue)).dead, 'stats().dead with 3 dead letters, deadLetterScanLimit 3').toBe(3);
    expect((await exact.listDeadLetters(queue)).items.length, 'listDeadLetters with limit 3, 3 dead letters').toBe(3);
    const capped = make({ deadLetterScanLimit: 2 });
    expect((await capped.stats(queue)).dead, 'stats().dead with 3 dead letters, deadLetterScanLimit 2: unknown').toBeNull();
    for (const [call, run] of [
      ['listDeadLetters', () => capped.listDeadLetters(queue, { limit: 100 })],
      ['getDeadLetter(d1)', () => capped.getDeadLetter(queue, 'd1')],
      ['replayDeadLetter(d1)', () => capped.replayDeadLetter(queue, 'd1')],
      ['purgeDeadLetters([d1])', () => capped.purgeDeadLetters(queue, ['d1'])],
    ] as const) {
      const error = await errorOf(`${call} past deadLetterScanLimit 2`, run);
      expect([error.code, error.retryable], `${call} past deadLetterScanLimit 2: ${error.message}`).toEqual([
        'UNSUPPORTED',
        false,
      ]);
      expect(error.message, `${call} names the option`).toContain('deadLetterScanLimit');
    }
    // Nothing was lost by the refused calls, and purge of all goes on past the limit.
    expect((await full.stats(queue)).dead, 'stats().dead after the refused calls').toBe(3);
    expect(await capped.purgeDeadLetters(queue), 'purgeDeadLetters() with deadLetterScanLimit 2, 3 dead letters').toBe(3);
    expect((await full.stats(queue)).dead, 'stats().dead after purge of all').toBe(0);
  });

  it.concurrent('attributes starting with CloudPubSubDeadLetterSource are reserved on send', async () => {
    const adapter = make();
    const queue = name('attr');
    await adapter.ensureQueue(queue);
    const error = await errorOf('send with attribute CloudPubSubDeadLetterSourceRegion', () =>
      adapter.send(queue, [{ id: 'a1', body: 'x', attributes: { CloudPubSubDeadLetterSourceRegion: 'eu' } }]),
    );
    expect(error.code, `send with a CloudPubSubDeadLetterSource* attribute: ${error.message}`).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain('CloudPubSubDeadLetterSourceRegion');
  });

  it.concurrent('nested prefixes: listQueues and deleteQueue leave a longer prefix’s queues alone', async () => {
    const short = `n${randomBytes(3).toString('hex')}-`;
    const long = `${short}staging-`;
    const mine = make({ prefix: short });
    const other = make({ prefix: long });
    const queue = name('emails');
    await other.ensureQueue(queue);
    await mine.ensureQueue(queue);
    const listed = await mine.listQueues();
    expect(listed, `listQueues of "${short}"`).toContain(queue);
    expect(listed, `listQueues of "${short}" must not show "${long}${queue}" as staging-${queue}`).not.toContain(
      `staging-${queue}`,
    );
    expect(await mine.deleteQueue(`staging-${queue}`), `deleteQueue("staging-${queue}") through "${short}"`).toBe(false);
    expect(await other.queueExists(queue), `queue ${queue} of "${long}" after the refused delete`).toBe(true);
    const error = await errorOf(`ensureQueue("staging-${queue}") through "${short}"`, () => mine.ensureQueue(`staging-${queue}`));
    expect(error.message, 'names the label').toContain('bg-queue');
    expect(await other.deleteQueue(queue), `deleteQueue(${queue}) through its own prefix`).toBe(true);
    expect(await mine.deleteQueue(queue)).toBe(true);
  });
});
