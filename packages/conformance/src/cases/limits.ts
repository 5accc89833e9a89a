import type { Adapter } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { errorTexts } from '../error-texts.js';
import { describeError, expectBgError, message, outcome, receiveOne, say, show } from '../helpers.js';
import { longLease } from '../timing.js';

/**
 * The error a scenario's call rejected with shows nowhere (message, stack, JSON, causes) the
 * secret the scenarios were configured with (`errors.secret`, e.g. the password in their URL).
 */
async function expectNoSecret(ctx: CaseContext, call: string, attempt: Promise<unknown>): Promise<void> {
  const secret = ctx.options.errors?.secret;
  if (!secret) return;
  const error = await outcome(attempt);
  const leaks = errorTexts(error).filter((t) => t.includes(secret));
  ctx
    .expect(
      leaks.length,
      say(
        call,
        'never shows errors.secret in the error (message, stack, JSON, causes): credentials are redacted before anything is thrown',
        show(leaks[0]?.split(secret).join('<secret>')),
      ),
    )
    .toBe(0);
}

async function withScenario(
  ctx: CaseContext,
  make: () => Adapter | Promise<Adapter>,
  code: string,
  retryable: boolean,
): Promise<void> {
  const broken = await make();
  ctx.defer(() => broken.close());
  const start = Date.now();
  const q = ctx.queue;
  const lease = longLease(ctx.timing, broken.capabilities);
  const calls: Array<[string, () => Promise<unknown>]> = [
    ['send', () => broken.send(q, [message('x')])],
    ['receive', () => broken.receive(q, { max: 1, leaseMs: lease })],
    ['stats', () => broken.stats(q)],
    ['listDeadLetters', () => broken.listDeadLetters(q)],
    ['getDeadLetter', () => broken.getDeadLetter(q, 'some-id')],
    ['replayDeadLetter', () => broken.replayDeadLetter(q, 'some-id')],
    ['purgeDeadLetters', () => broken.purgeDeadLetters(q)],
  ];
  for (const [name, call] of calls) {
    const attempt = Promise.resolve().then(call);
    await expectBgError(
      ctx,
      `${name} on queue ${q} (${code} scenario)`,
      attempt,
      code,
      retryable,
      'every call maps the backend failure to its typed error',
    );
    await expectNoSecret(ctx, `${name} on queue ${q} (${code} scenario)`, attempt);
  }
  ctx
    .expect(Date.now() - start, `${code} should be reported promptly, not after minutes of retries`)
    .toBeLessThan(ctx.timing.deadlineMs * 2);
  await leaseCallsInScenario(ctx, broken, code, retryable);
}

/**
 * The lease calls under the scenario, with a real handle: a job sent and leased through the
 * working adapter, then extended, acked, released and dead-lettered through the failing one.
 * Each must reject with the scenario's code and `retryable` — never LEASE_LOST for a failure
 * of the backend (the worker would give the job up), never a made-up success (a heartbeat that
 * extended nothing, an ack that removed nothing).
 */
async function leaseCallsInScenario(ctx: CaseContext, broken: Adapter, code: string, retryable: boolean): Promise<void> {
  const { adapter, queue: q, timing } = ctx;
  const lease = longLease(timing, adapter.capabilities);
  const m = message('leased by the working adapter');
  await adapter.send(q, [m]);
  const got = await receiveOne(ctx, { leaseMs: lease });
  const start = Date.now();
  const handle = `handle of ${got.id} from the working adapter`;
  const calls: Array<[string, () => Promise<unknown>]> = [
    [`extend(${handle}, ${lease})`, () => broken.extend(q, got.handle, lease)],
    [`ack(${handle})`, () => broken.ack(q, got.handle)],
    [`release(${handle}, 0)`, () => broken.release(q, got.handle, 0)],
    [
      `deadLetter(delivery of ${got.id} from the working adapter)`,
      () => broken.deadLetter(q, got, { reason: 'manual', attempts: got.deliveryCount, deadLetteredAt: Date.now() }),
    ],
    // A missing queue is what ensureQueue creates: it is checked under the other scenarios only.
    ...(code === 'QUEUE_NOT_FOUND'
      ? []
      : ([['ensureQueue', () => broken.ensureQueue(q)]] as Array<[string, () => Promise<unknown>]>)),
  ];
  for (const [name, call] of calls) {
    const attempt = Promise.resolve().then(call);
    await expectBgError(
      ctx,
      `${name} on queue ${q} (${code} scenario)`,
      attempt,
      code,
      retryable,
      name === 'ensureQueue'
        ? `ensureQueue maps the backend failure to ${code} too, never a success that created nothing`
        : `a lease call maps the backend failure to ${code} too: never LEASE_LOST (the lease was not lost), never a success that did nothing`,
    );
    await expectNoSecret(ctx, `${name} on queue ${q} (${code} scenario)`, attempt);
  }
  ctx
    .expect(
      Date.now() - start,
      say(`lease calls in the ${code} scenario`, 'reported promptly, not after minutes of retries', `${Date.now() - start} ms`),
    )
    .toBeLessThan(timing.deadlineMs * 2);
  ctx
    .expect(await ctx.inspector.liveCount(q), say(`lease calls in the ${code} scenario on queue ${q}`, 'leave the job stored'))
    .toBe(1);
  await adapter.ack(q, got.handle);
}

/** Limits and errors. */
export const limitCases: readonly ConformanceCase[] = [
  {
    id: 'limits.max-payload',
    group: 'Limits and errors',
    title: 'the largest declared payload is accepted; one byte more is PAYLOAD_TOO_LARGE and nothing is sent',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const max = adapter.capabilities.maxPayloadBytes;
      const largest = message('x'.repeat(max));
      await adapter.send(queue, [largest]);
      const got = await receiveOne(ctx, { leaseMs: longLease(timing, adapter.capabilities), deadlineMs: timing.deadlineMs * 2 });
      expect(got.id).toBe(largest.id);
      expect(got.body.length).toBe(max);
      expect(got.body === largest.body, 'the largest payload came back altered').toBe(true);
      await adapter.ack(queue, got.handle);
      await expectBgError(
        ctx,
        `send(${max + 1}-byte body) on queue ${queue}`,
        adapter.send(queue, [message('x'.repeat(max + 1))]),
        'PAYLOAD_TOO_LARGE',
        false,
        `maxPayloadBytes is ${max}`,
      );
      // Limits count UTF-8 bytes, not characters: "é" is two bytes.
      await expectBgError(
        ctx,
        `send(${max - 1} chars + 'é' = ${max + 1} UTF-8 bytes) on queue ${queue}`,
        adapter.send(queue, [message(`${'x'.repeat(max - 1)}é`)]),
        'PAYLOAD_TOO_LARGE',
        false,
        'limits count UTF-8 bytes',
      );
      if (adapter.capabilities.maxBatchSize >= 2) {
        // One oversized message in a batch: nothing of the batch is sent.
        await expectBgError(
          ctx,
          `send([small, oversized]) on queue ${queue}`,
          adapter.send(queue, [message('small'), message('y'.repeat(max + 1))]),
          'PAYLOAD_TOO_LARGE',
          false,
        );
      }
      expect(await ctx.inspector.liveCount(queue), 'a rejected send stored something').toBe(0);
    },
  },
  {
    id: 'limits.batch-and-arguments',
    group: 'Limits and errors',
    title: 'an oversized batch is BATCH_TOO_LARGE and a bad queue name INVALID_ARGUMENT; nothing is sent',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const n = adapter.capabilities.maxBatchSize + 1;
      await expectBgError(
        ctx,
        `send(${n} messages) on queue ${queue}`,
        adapter.send(
          queue,
          Array.from({ length: n }, (_, i) => message(`b${i}`)),
        ),
        'BATCH_TOO_LARGE',
        false,
      );
      await expectBgError(
        ctx,
        "send on queue 'Not A Queue!'",
        adapter.send('Not A Queue!', [message('x')]),
        'INVALID_ARGUMENT',
        false,
      );
      expect(await ctx.inspector.liveCount(queue)).toBe(0);
    },
  },
  {
    id: 'errors.missing-queue',
    group: 'Limits and errors',
    title: 'every call on a missing queue is QUEUE_NOT_FOUND (not retryable), lease calls with a real handle included',
    skip: (o) =>
      o.errors?.missingQueue ? undefined : 'no errors.missingQueue scenario given (the backend creates queues on demand)',
    run: (ctx) => withScenario(ctx, ctx.options.errors?.missingQueue as () => Adapter, 'QUEUE_NOT_FOUND', false),
  },
  {
    id: 'errors.bad-credentials',
    group: 'Limits and errors',
    title:
      'every call with bad credentials is AUTH_FAILED (not retryable), lease calls with a real handle and ensureQueue included',
    skip: (o) =>
      o.errors?.badCredentials ? undefined : 'no errors.badCredentials scenario given (the backend does not check credentials)',
    run: (ctx) => withScenario(ctx, ctx.options.errors?.badCredentials as () => Adapter, 'AUTH_FAILED', false),
  },
  {
    id: 'errors.unreachable',
    group: 'Limits and errors',
    title:
      'every call to an unreachable server is UNREACHABLE (retryable), reported promptly; lease calls with a real handle and ensureQueue included',
    skip: (o) => (o.errors?.unreachable ? undefined : 'no errors.unreachable scenario given'),
    run: (ctx) => withScenario(ctx, ctx.options.errors?.unreachable as () => Adapter, 'UNREACHABLE', true),
  },
  {
    id: 'lifecycle.close',
    group: 'Limits and errors',
    title: 'use after close() is CLOSED; close() twice, also while the first is still running, is harmless',
    async run(ctx) {
      const { queue, timing } = ctx;
      const adapter = await ctx.newAdapter();
      // A send that resolved is stored: close() right after it loses nothing (no write-behind buffer).
      const sent = message('sent just before close()');
      await adapter.send(queue, [sent]);
      // Two at once (a shutdown hook and a finally block), then once more.
      const both = await Promise.allSettled([adapter.close(), adapter.close()]);
      ctx
        .expect(
          both.map((r) => (r.status === 'fulfilled' ? 'resolved' : describeError(r.reason))),
          say('close() called twice at once', 'both resolve (a second close is harmless, also while the first runs)'),
        )
        .toEqual(['resolved', 'resolved']);
      await adapter.close();
      await expectBgError(ctx, 'send after close()', adapter.send(queue, [message('late')]), 'CLOSED', false);
      await expectBgError(
        ctx,
        'receive after close()',
        adapter.receive(queue, { max: 1, leaseMs: longLease(timing, adapter.capabilities) }),
        'CLOSED',
        false,
      );
      await expectBgError(ctx, 'stats after close()', adapter.stats(queue), 'CLOSED', false);
      // Read through the inspector (its own client), waiting up to deadlineMs for a backend that counts late.
      const until = Date.now() + timing.deadlineMs;
      let stored = await ctx.inspector.liveCount(queue);
      while (stored !== 1 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, timing.pollMs));
        stored = await ctx.inspector.liveCount(queue);
      }
      ctx
        .expect(
          stored,
          say(
            `send(${sent.id}) on queue ${queue}, then close()`,
            'the job is stored once send resolved: close() drops nothing (send resolves only when every message is stored)',
            `${stored} jobs stored`,
          ),
        )
        .toBe(1);
    },
  },
  {
    id: 'manifest.consistent',
    group: 'Limits and errors',
    title: 'the adapter declares the capability manifest it was registered with, and it is coherent',
    async run(ctx) {
      const { adapter, expect, options } = ctx;
      expect(adapter.contractVersion).toBe(1);
      expect(adapter.capabilities).toEqual(options.capabilities);
      const c = adapter.capabilities;
      expect(c.maxPayloadBytes).toBeGreaterThan(0);
      expect(c.maxBatchSize).toBeGreaterThanOrEqual(1);
      expect(c.minLeaseMs).toBeGreaterThan(0);
      expect(c.maxLeaseMs).toBeGreaterThanOrEqual(c.minLeaseMs);
      expect(c.maxDelayMs).toBeGreaterThanOrEqual(0);
      expect(c.maxReleaseDelayMs).toBeGreaterThanOrEqual(0);
      expect(['clamp', 'reject']).toContain(c.extendBeyondMax);
    },
  },
];
