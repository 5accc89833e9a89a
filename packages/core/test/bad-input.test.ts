import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { STORE_CAPABILITIES } from '../src/adapter/index.js';
import { checkReceiveOptions } from '../src/adapter/receive-checks.js';
import { connect, createQueue, createWorker, defineJob, isBgError, redactText, stopOnSignals } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';

const job = defineJob({ type: 'input.check', schema: z.object({ n: z.number() }) });

/** The code of what `fn` throws or rejects with, or "accepted". */
async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    const e = error as { code?: string; retryable?: boolean; name?: string };
    if (e.code === undefined) return `not a BgError: ${String(error)}`;
    return e.retryable ? `${e.code} (retryable!)` : e.code;
  }
}

describe('bad input gives a typed, non-retryable error (not a TypeError, not a silent default)', () => {
  it('defineJob: timeoutMs beyond a timer (it would fire at once) or not a number; no options at all', async () => {
    for (const timeoutMs of [Number.POSITIVE_INFINITY, 1e20, 2_147_483_648, '100', [5], Number.NaN, 0]) {
      expect(
        await codeOf(() => defineJob({ type: 'x', schema: z.object({}), timeoutMs: timeoutMs as number })),
        `defineJob timeoutMs ${String(timeoutMs)}`,
      ).toBe('INVALID_JOB_DEFINITION');
    }
    expect(
      await codeOf(() => defineJob({ type: 'x', schema: z.object({}), timeoutMs: 2_147_483_647 })),
      'the largest timer',
    ).toBe('accepted');
    expect(await codeOf(() => defineJob(undefined as never)), 'defineJob(undefined)').toBe('INVALID_JOB_DEFINITION');
    expect(
      await codeOf(() => defineJob({ type: 'x', schema: { '~standard': 1 } as never })),
      'a ~standard without validate',
    ).toBe('INVALID_JOB_DEFINITION');
    // ArkType's types are functions that carry `~standard`.
    const callable = Object.assign((value: unknown) => value, {
      '~standard': { version: 1, vendor: 'arktype-like', validate: (value: unknown) => ({ value }) },
    });
    expect(await codeOf(() => defineJob({ type: 'x', schema: callable as never })), 'a callable Standard Schema').toBe(
      'accepted',
    );
  });

  it('createWorker: durations that are not numbers of milliseconds, options that are not functions', async () => {
    const adapter = inTestAdapter();
    const bad: Record<string, unknown>[] = [
      { leaseMs: Number.NaN },
      { leaseMs: 'abc' },
      { leaseMs: -5 },
      { pollMs: Number.NaN },
      { pollMs: -1 },
      { graceMs: Number.NaN },
      { graceMs: -1 },
      { graceMs: 'x' },
      { graceMs: 1e20 },
      { unknownVersionWindowMs: Number.NaN },
      { isPermanent: 'yes' },
      { onEvent: 5 },
      { now: 1 },
      { logger: 'console' },
    ];
    for (const options of bad) {
      expect(await codeOf(() => createWorker({ adapter, ...options })), `createWorker(${JSON.stringify(options)})`).toBe(
        'INVALID_ARGUMENT',
      );
    }
    expect(await codeOf(() => createWorker(undefined as never)), 'createWorker(undefined)').toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => createWorker({ adapter, leaseMs: 10_000, pollMs: 0, graceMs: 0 })), 'valid options').toBe(
      'accepted',
    );
  });

  it('worker.stop: a bad grace period rejects (it would hand running jobs back after 1 ms)', async () => {
    const worker = createWorker({ adapter: inTestAdapter() });
    for (const options of [{ graceMs: Number.NaN }, { graceMs: -1 }, { graceMs: '5' }, null]) {
      expect(await codeOf(() => worker.stop(options as never)), `stop(${JSON.stringify(options)})`).toBe('INVALID_ARGUMENT');
    }
  });

  it('a stop() while start() is still checking the queue leaves the worker stopped', async () => {
    const worker = createWorker({ adapter: inTestAdapter(), pollMs: 0 });
    worker.handle(job, () => {});
    const started = worker.start();
    await worker.stop({ graceMs: 0 });
    await started;
    expect(worker.running, 'running after start() then stop(), both settled').toBe(false);
  });

  it('stopOnSignals: mistakes are refused at once, not when the signal comes', async () => {
    const worker = createWorker({ adapter: inTestAdapter() });
    const bad: [unknown, unknown][] = [
      [undefined, {}],
      [[{}], {}],
      [[worker], { signals: 'SIGTERM' }],
      [[worker], { signals: ['SIGKILL'] }],
      [[worker], { signals: [5] }],
      [[worker], { onStopped: 5 }],
      [[worker], { graceMs: Number.NaN }],
      [[worker], null],
    ];
    for (const [workers, options] of bad) {
      expect(
        await codeOf(() => stopOnSignals(workers as never, options as never)),
        `stopOnSignals(${JSON.stringify(workers)}, ${JSON.stringify(options)})`,
      ).toBe('INVALID_ARGUMENT');
    }
    const remove = stopOnSignals([worker], { signals: ['SIGUSR2'], graceMs: 10 });
    expect(process.listenerCount('SIGUSR2'), 'a valid call listens').toBeGreaterThan(0);
    remove();
  });

  it('receive options: a signal that is not an AbortSignal, a wait beyond a timer', async () => {
    for (const options of [
      { max: 1, leaseMs: 1_000, waitMs: 10, signal: {} },
      { max: 1, leaseMs: 1_000, waitMs: 1e20 },
      { max: 1, leaseMs: 1_000, waitMs: Number.POSITIVE_INFINITY },
    ]) {
      expect(
        await codeOf(() => checkReceiveOptions(STORE_CAPABILITIES, options as never)),
        `receive ${JSON.stringify(options)}`,
      ).toBe('INVALID_ARGUMENT');
    }
  });

  it('enqueue: a due time past the year 9999, options that are not an object, no queue options', async () => {
    const jobs = createQueue({ adapter: inTestAdapter() });
    expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, { delayMs: 1e20 })), 'delayMs 1e20').toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, { runAt: new Date(Date.UTC(20_000, 0, 1)) })), 'runAt in 20000').toBe(
      'INVALID_ARGUMENT',
    );
    const error = await jobs.enqueue(job, { n: 1 }, { delayMs: 1e20 }).catch((e: unknown) => e);
    expect(String((error as Error).message), 'the message names delayMs').toContain('delayMs');
    expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, null as never)), 'enqueue options null').toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => jobs.enqueueMany(job, [{ n: 1 }], null as never)), 'enqueueMany options null').toBe(
      'INVALID_ARGUMENT',
    );
    expect(await codeOf(() => createQueue(undefined as never)), 'createQueue(undefined)').toBe('INVALID_ARGUMENT');
    for (const perJob of [{ idempotencyKey: 'k' }, { id: '0190a0b0-c0d0-7e00-8000-000000000001' }]) {
      expect(
        await codeOf(() => jobs.enqueueMany(job, [{ n: 1 }, { n: 2 }], perJob as never)),
        `enqueueMany with ${Object.keys(perJob)[0]} (every job but the first would be dropped as a duplicate)`,
      ).toBe('INVALID_ARGUMENT');
    }
  });

  it('enqueue: meta or trace that is not a plain object (a Map was stored as {}), an orderingKey that is not a string', async () => {
    const adapter = inTestAdapter({ ordering: true });
    const jobs = createQueue({ adapter });
    for (const opts of [
      { meta: new Map([['tenant', 'a']]) },
      { meta: 'tenant=a' },
      { meta: ['a'] },
      { trace: new Map([['traceparent', 'x']]) },
      { orderingKey: 42 },
      { orderingKey: '' },
      // It travels as an attribute (bg-ordering-key), within the adapters' attribute allowance.
      { orderingKey: 'k'.repeat(257) },
      // Keys are printed by bgctl and the dashboard: no control character (C0, DEL or C1).
      { orderingKey: 'k\u0001' },
      { orderingKey: 'k\u009b31m' },
      { orderingKey: 'k\ud83d' }, // half an emoji: UTF-8 would make it U+FFFD, like every other half
    ]) {
      const [name, value] = Object.entries(opts)[0] as [string, unknown];
      const label = `enqueue with ${name} ${value instanceof Map ? 'a Map' : JSON.stringify(value)}`;
      expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, opts as never)), label).toBe('INVALID_ARGUMENT');
      expect(await codeOf(() => jobs.enqueueMany(job, [{ n: 1 }], opts as never)), `${label} (enqueueMany)`).toBe(
        'INVALID_ARGUMENT',
      );
    }
    for (const key of ['a\u0001b', 'a\u007fb', 'a\u009b31mb', 'a\ud800b', 'a\udfff']) {
      const error = await jobs.enqueue(job, { n: 1 }, { idempotencyKey: key }).catch((e: unknown) => e);
      expect(isBgError(error, 'INVALID_ARGUMENT'), `enqueue with idempotencyKey ${JSON.stringify(key)}: ${String(error)}`).toBe(
        true,
      );
      expect(String((error as Error).message), 'the refused key is not echoed').not.toContain(key);
    }
    expect(adapter.stored('default'), 'nothing was stored').toEqual([]);
    const error = await jobs.enqueue(job, { n: 1 }, { meta: new Map() as never }).catch((e: unknown) => e);
    expect(String((error as Error).message), 'the message names the option and what it got').toBe(
      'meta must be a plain object, got a Map',
    );
    const plain = Object.assign(Object.create(null) as Record<string, string>, { tenant: 'a' });
    expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, { meta: plain, orderingKey: 'k' })), 'a null-prototype meta').toBe(
      'accepted',
    );
    expect(await codeOf(() => jobs.enqueue(job, { n: 1 }, { orderingKey: 'k'.repeat(256) })), 'an orderingKey of 256').toBe(
      'accepted',
    );
  });

  it('enqueue: a payload nested deeper than any job needs is INVALID_PAYLOAD, not a stack overflow', async () => {
    const free = defineJob({ type: 'input.free', schema: z.any() });
    let deep: unknown = 1;
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const jobs = createQueue({ adapter: inTestAdapter() });
    expect(await codeOf(() => jobs.enqueue(free, deep)), 'a 20 000-deep payload').toBe('INVALID_PAYLOAD');
    let fine: unknown = 1;
    for (let i = 0; i < 200; i++) fine = [fine];
    expect(await codeOf(() => jobs.enqueue(free, fine)), 'a 200-deep payload').toBe('accepted');
  });

  it('connect: not a URL, and a huge one, give a bounded INVALID_ARGUMENT', async () => {
    for (const url of [undefined, null, 5, {}]) {
      expect(await codeOf(() => connect(url as never)), `connect(${String(url)})`).toBe('INVALID_ARGUMENT');
    }
    expect(await codeOf(() => connect('memory:', null as never)), 'connect options null').toBe('INVALID_ARGUMENT');
    expect(await codeOf(() => connect('memory:', { load: 5 as never })), 'connect load not a function').toBe('INVALID_ARGUMENT');
    for (const url of ['x'.repeat(1_000_000), `${'s'.repeat(1_000_000)}://host`]) {
      const error = (await connect(url).catch((e: unknown) => e)) as Error;
      expect(error.message.length, `the message of connect() of ${url.length} characters`).toBeLessThan(1_000);
    }
  });

  it('redactText of something that is not a string redacts its string form', () => {
    expect(redactText(5 as never)).toBe('5');
    expect(redactText({ toString: () => 'redis://:hunter2@h' } as never)).toBe('redis://:***@h');
  });
});
