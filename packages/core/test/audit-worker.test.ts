import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Capabilities, OutgoingMessage } from '../src/adapter.js';
import { type DecisionPolicy, decideDelivery } from '../src/decide-outcome.js';
import type { Envelope } from '../src/envelope.js';
import { createQueue, createWorker, defineJob, type Instrumentation, isBgError, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * Worker and producer bugs an outside audit proved (scripts under /tmp/audit-core): each test
 * failed on the code before its fix.
 */

/** Resolves with `'settled'` when `promise` settles within `ms`, else `'pending after <ms> ms'`. */
async function within(promise: Promise<unknown>, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`pending after ${ms} ms`), ms);
  });
  try {
    return await Promise.race([promise.then(() => 'settled'), late]);
  } finally {
    clearTimeout(timer);
  }
}

const never = <T>(): Promise<T> => new Promise<T>(() => {});

const unhandled = collectUnhandledRejections();

describe('1. a re-sent job stays in its ordering group', () => {
  const step = defineJob({ type: 'audit.step', schema: z.object({ name: z.string() }) });
  for (const [backend, caps, via] of [
    ['native delays of at most 40 ms (hop by re-send)', { maxDelayMs: 40 }, 'hop'],
    ['no native delays (park, then re-send for a fresh count)', { maxDelayMs: 0 }, 'fresh-count re-send'],
  ] as const) {
    it(`${backend}: every re-send passes the job's orderingKey back to send`, async () => {
      const inner = inTestAdapter({ ...caps, ordering: true });
      const queue = 'audit-ordering';
      const sent: OutgoingMessage[] = [];
      const adapter = wrapped(inner, {
        send: (q, messages) => {
          sent.push(...messages);
          return inner.send(q, messages);
        },
      });
      const ran: string[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 10 });
      worker.handle(step, ({ name }) => void ran.push(name));
      const { id } = await createQueue({ adapter, queue }).enqueue(step, { name: 'A' }, { orderingKey: 'acct-1', delayMs: 150 });
      await worker.start();
      try {
        await until('job A to run', () => ran.includes('A'));
      } finally {
        await worker.stop();
      }
      const resends = sent.slice(1);
      expect(resends.length, `re-sends of job ${id} (${via}) before it ran`).toBeGreaterThan(0);
      expect(
        resends.map((m) => ({ id: m.id, orderingKey: m.orderingKey })),
        `adapter.send(...) of every ${via} of job ${id} enqueued with orderingKey 'acct-1'`,
      ).toEqual(resends.map(() => ({ id, orderingKey: 'acct-1' })));
    });
  }
});

describe('2. stop({ graceMs }) is bounded, and a second stop() forces it', () => {
  const task = defineJob({ type: 'audit.task', schema: z.object({}) });

  it('an ack that hangs after the handler returned: stop resolves and reports the job as an error event', async () => {
    const inner = inTestAdapter();
    const queue = 'audit-ack-hangs';
    let acks = 0;
    const adapter = wrapped(inner, {
      ack: () => {
        acks++;
        return never();
      },
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 10, onEvent: (e) => events.push(e) });
    worker.handle(task, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(task, {});
    await worker.start();
    await until('the ack to be called', () => acks === 1);
    const stopped = worker.stop({ graceMs: 50 });
    expect(await within(stopped, 4_000), 'stop({ graceMs: 50 }) while the ack of a finished job hangs').toBe('settled');
    expect(
      events.filter((e) => e.type === 'error').map((e) => ({ jobId: e.jobId, during: e.during })),
      'error events after the stop: the job whose ack never finished',
    ).toEqual([{ jobId: id, during: `settling job ${id} on stop` }]);
    expect(inner.liveCount(queue), 'the job stays in storage (its lease runs out)').toBe(1);
  });

  it('a release that hangs at hand-back: the stop resolves on its own, and at once on a second stop()', async () => {
    for (const second of [false, true]) {
      const inner = inTestAdapter();
      const queue = 'audit-release-hangs';
      let releases = 0;
      const adapter = wrapped(inner, {
        release: () => {
          releases++;
          return never();
        },
      });
      const events: WorkerEvent[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 10, onEvent: (e) => events.push(e) });
      let started = false;
      worker.handle(task, async () => {
        started = true;
        await never(); // ignores its signal
      });
      const { id } = await createQueue({ adapter: inner, queue }).enqueue(task, {});
      await worker.start();
      await until('the handler to start', () => started);
      const first = worker.stop({ graceMs: 50 });
      await until('the hand-back (release) to be called', () => releases === 1);
      if (second) {
        const forced = worker.stop();
        expect(
          await within(Promise.all([first, forced]), 500),
          'stop({ graceMs: 50 }) then a second stop() while the release hangs',
        ).toBe('settled');
      } else {
        expect(await within(first, 4_000), 'stop({ graceMs: 50 }) while the release hangs').toBe('settled');
      }
      expect(
        events.filter((e) => e.type === 'error').map((e) => ({ jobId: e.jobId, during: e.during })),
        `error events (second stop: ${second}): the job whose hand-back never finished`,
      ).toEqual([{ jobId: id, during: `release of ${id} on stop` }]);
    }
  });

  it('a start whose queue check hangs: both stops resolve, and the start never runs the worker', async () => {
    const inner = inTestAdapter();
    const queue = 'audit-start-hangs';
    let finishCheck: () => void = () => {};
    let checks = 0;
    const adapter = wrapped(inner, {
      ensureQueue: (q) => {
        checks++;
        if (checks > 1) return inner.ensureQueue(q);
        return new Promise<void>((resolve) => {
          finishCheck = resolve;
        });
      },
    });
    let runs = 0;
    const worker = createWorker({ adapter, queue, pollMs: 10 });
    worker.handle(task, () => void runs++);
    const starting = worker.start();
    await until('the queue check to be called', () => checks === 1);
    const a = worker.stop({ graceMs: 100 });
    const b = worker.stop({ graceMs: 0 });
    expect(await within(Promise.all([a, b]), 1_000), 'stop({ graceMs: 100 }) then stop() while start() checks the queue').toBe(
      'settled',
    );
    // The queue check ends after the stops: the last call (stop) wins.
    finishCheck();
    await starting;
    expect(worker.running, 'running after the hanging start finished behind the stops').toBe(false);
    await createQueue({ adapter: inner, queue }).enqueue(task, {});
    await worker.start();
    try {
      expect(worker.running, 'a later start runs the worker').toBe(true);
      await until('the job to run on the restarted worker', () => runs === 1);
    } finally {
      await worker.stop();
    }
  });
});

describe('3. a delayed job is not dead-lettered unknown-version on its first delivery', () => {
  const NOW = Date.parse('2026-11-29T12:00:00.000Z');
  const caps: Capabilities = inTestAdapter({ maxDelayMs: 0 }).capabilities;
  const v1 = defineJob({ type: 'audit.mail', schema: z.object({ to: z.string() }) });
  const policy: DecisionPolicy = { capabilities: caps, versionWindowMs: 15 * 60_000, random: () => 0.5 };
  const envelope = (more: Partial<Envelope>): Envelope => ({
    bg: 1,
    id: '0193a6c0-0000-7000-8000-000000000001',
    type: 'audit.mail',
    v: 2,
    payload: { to: 'x' },
    createdAt: new Date(NOW - 2 * 3_600_000).toISOString(),
    ...more,
  });

  it('decideDelivery: a v2 job created 2 h ago, due 1 s ago, window 15 min → defer (not dead-letter)', () => {
    const decided = decideDelivery(
      { envelope: envelope({ notBefore: new Date(NOW - 1_000).toISOString() }), job: v1, deliveryCount: 1, hopped: false },
      policy,
      NOW,
    );
    expect(decided.kind, 'decideDelivery(createdAt now-2h, notBefore now-1s, window 15 min)').toBe('defer');
  });

  it('a worker that knows v1 defers a natively delayed v2 job on its first delivery, past createdAt + window', async () => {
    const adapter = inTestAdapter();
    const queue = 'audit-version-window';
    const v2 = defineJob({
      type: 'audit.mail',
      version: 2,
      schema: z.object({ to: z.string(), locale: z.string() }),
      migrate: { 1: (o: { to: string }) => ({ ...o, locale: 'en' }) },
    });
    // Delayed 300 ms (natively: the envelope has no notBefore), window 100 ms.
    await createQueue({ adapter, queue }).enqueue(v2, { to: 'x', locale: 'de' }, { delayMs: 300 });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 10, unknownVersionWindowMs: 100, onEvent: (e) => events.push(e) });
    worker.handle(v1, () => {});
    await worker.start();
    try {
      await until('the first delivery to end', () => events.some((e) => e.type === 'deferred' || e.type === 'dead-lettered'));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    const ended = events.find((e) => e.type === 'deferred' || e.type === 'dead-lettered');
    expect(
      ended && (ended.type === 'deferred' ? `deferred:${ended.why}` : `dead-lettered:${ended.reason}`),
      'the first delivery of a v2 job delayed 300 ms, window 100 ms',
    ).toBe('deferred:unknown-version');
  });
});

describe('4. unknown-version deferrals are not attempts', () => {
  const retry = { maxAttempts: 3, baseMs: 10, maxMs: 10 };
  const v1 = defineJob({ type: 'audit.rolling', schema: z.object({ to: z.string() }), retry });
  const v2 = defineJob({
    type: 'audit.rolling',
    version: 2,
    schema: z.object({ to: z.string(), locale: z.string() }),
    migrate: { 1: (o: { to: string }) => ({ ...o, locale: 'en' }) },
    retry,
  });
  for (const [backend, caps] of [
    ['native delays', {}],
    ['no native delays', { maxDelayMs: 0 }],
    ['no native delays, a dead-letter cap of 6 deliveries', { maxDelayMs: 0, maxDeliveries: 6 }],
  ] as const) {
    it(`${backend}: after 7 deferrals by an old worker, the new worker runs it as attempts 1, 2, 3`, async () => {
      const adapter = inTestAdapter(caps);
      const queue = 'audit-deferrals';
      await createQueue({ adapter, queue }).enqueue(v2, { to: 'x', locale: 'de' });
      let deferrals = 0;
      let highestCount = 0;
      const old = createWorker({
        adapter,
        queue,
        pollMs: 10,
        onEvent: (e) => {
          if (e.type === 'received') highestCount = Math.max(highestCount, e.deliveryCount);
          if (e.type === 'deferred' && e.why === 'unknown-version') deferrals++;
        },
      });
      old.handle(v1, () => {});
      await old.start();
      try {
        await until('7 deferrals by the old worker', () => deferrals >= 7);
      } finally {
        await old.stop({ graceMs: 0 });
      }
      const attempts: number[] = [];
      const neu = createWorker({ adapter, queue, pollMs: 10 });
      neu.handle(v2, (_p, ctx) => {
        attempts.push(ctx.attempt);
        throw new Error('transient: smtp 421');
      });
      await neu.start();
      try {
        await until('the job dead-lettered', () => adapter.deadCount(queue) === 1);
      } finally {
        await neu.stop({ graceMs: 0 });
      }
      const [dead] = (await adapter.listDeadLetters(queue)).items;
      expect(
        { attempts, reason: dead?.reason, deadAttempts: dead?.attempts },
        `ctx.attempt of the new worker after ${deferrals} deferrals (maxAttempts 3)`,
      ).toEqual({ attempts: [1, 2, 3], reason: 'max-attempts', deadAttempts: 3 });
      if ('maxDeliveries' in caps) {
        expect(highestCount, 'deliveries of one message while deferred stay below the cap of 6').toBeLessThan(6);
      }
    });
  }
});

describe('5. a producer hook cannot cause an unhandled rejection', () => {
  it('a hook that starts the send, then awaits its own work: the send’s rejection is handled', async () => {
    const job = defineJob({ type: 'audit.hooked', schema: z.object({ n: z.number() }) });
    const instrumentation: Instrumentation = {
      producer: () => ({
        async send(_info, run) {
          const sending = run(undefined);
          await new Promise((r) => setTimeout(r, 20)); // the hook's own work (a flush)
          return sending;
        },
      }),
    };
    const jobs = createQueue({ adapter: inTestAdapter(), queue: 'audit-hooked', instrumentation });
    const error = await jobs.enqueue(job, { n: 'not a number' } as never).catch((e: unknown) => e);
    expect(isBgError(error, 'INVALID_PAYLOAD'), `enqueue of a bad payload rejected with ${String(error)}`).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(unhandled.map(String), 'unhandled rejections during the enqueue').toEqual([]);
  });
});

describe('6. a runHandler hook never decides the outcome', () => {
  const charge = defineJob({ type: 'audit.charge', schema: z.object({}), retry: { maxAttempts: 3, baseMs: 10, maxMs: 10 } });

  async function runThrough(
    runHandler: NonNullable<ReturnType<NonNullable<Instrumentation['worker']>>>['runHandler'],
    handler: () => void | Promise<void>,
    ended: (events: WorkerEvent[]) => boolean,
  ): Promise<{ runs: number; events: WorkerEvent[] }> {
    const adapter = inTestAdapter();
    const queue = 'audit-run-handler';
    const events: WorkerEvent[] = [];
    let runs = 0;
    // The runs counted when the ending event came: a retry may run again before the stop.
    let runsAtEnd: number | undefined;
    const worker = createWorker({
      adapter,
      queue,
      pollMs: 10,
      instrumentation: { worker: () => ({ runHandler }) },
      onEvent: (e) => {
        events.push(e);
        if (runsAtEnd === undefined && ended(events)) runsAtEnd = runs;
      },
    });
    worker.handle(charge, async () => {
      runs++;
      await handler();
    });
    await createQueue({ adapter, queue }).enqueue(charge, {});
    await worker.start();
    try {
      await until('the job to end', () => ended(events));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    return { runs: runsAtEnd ?? runs, events };
  }
  const outcomes = (events: WorkerEvent[]) =>
    events.filter((e) => ['succeeded', 'failed', 'retried', 'dead-lettered'].includes(e.type)).map((e) => e.type);
  const succeeded = (events: WorkerEvent[]) => events.some((e) => e.type === 'succeeded' || e.type === 'dead-lettered');

  it('a hook that calls run() then throws: the job succeeds once and the hook failure is an error event', async () => {
    const { runs, events } = await runThrough(
      (_ctx, run) => {
        run();
        throw new Error('exporter: span.end() failed');
      },
      () => {},
      succeeded,
    );
    expect({ runs, outcomes: outcomes(events) }, 'handler runs and outcome events').toEqual({ runs: 1, outcomes: ['succeeded'] });
    expect(
      events.filter((e) => e.type === 'error').map((e) => e.type === 'error' && e.error.message),
      'error events',
    ).toEqual(['exporter: span.end() failed']);
  });

  it('an async hook that rejects after run(): the job succeeds once, no unhandled rejection', async () => {
    const { runs, events } = await runThrough(
      (async (_ctx: unknown, run: () => unknown) => {
        await run();
        throw new Error('exporter: flush failed');
      }) as never,
      () => {},
      (e) => succeeded(e) && e.some((x) => x.type === 'error'),
    );
    expect({ runs, outcomes: outcomes(events) }, 'handler runs and outcome events').toEqual({ runs: 1, outcomes: ['succeeded'] });
    expect(unhandled.map(String), 'unhandled rejections').toEqual([]);
  });

  it('a hook that throws before calling run(): the handler runs directly, once', async () => {
    const { runs, events } = await runThrough(
      () => {
        throw new Error('tracer: no context');
      },
      () => {},
      succeeded,
    );
    expect({ runs, outcomes: outcomes(events) }, 'handler runs and outcome events').toEqual({ runs: 1, outcomes: ['succeeded'] });
  });

  it("a hook that throws after a failing handler: the handler's own error decides (a retry)", async () => {
    const { runs, events } = await runThrough(
      (_ctx, run) => {
        try {
          run();
        } catch {
          // swallowed by a buggy hook
        }
        throw new Error('exporter: span.end() failed');
      },
      () => {
        throw new Error('card declined, try later');
      },
      (e) => e.some((x) => x.type === 'retried'),
    );
    const failed = events.find((e) => e.type === 'failed');
    expect(runs, 'handler runs before the first retry').toBe(1);
    expect(failed?.type === 'failed' && failed.error.message, 'the failed attempt’s error').toBe('card declined, try later');
  });
});

describe('7. without native delays, only parks trigger a fresh-count re-send', () => {
  const flaky = defineJob({ type: 'audit.flaky', schema: z.object({}), retry: { maxAttempts: 2, baseMs: 10, maxMs: 10 } });
  for (const [when, producerLagMs, delayMs] of [
    ['first delivered after it was due (no parks)', 1_000, 500],
    ['first delivered early (parked)', 0, 100],
  ] as const) {
    it(`a delayed job ${when} that always fails runs maxAttempts (2) times`, async () => {
      const adapter = inTestAdapter({ maxDelayMs: 0 });
      const queue = 'audit-park-attempts';
      // A producer clock behind by `producerLagMs`: its job is already due when first delivered.
      await createQueue({ adapter, queue, now: () => Date.now() - producerLagMs }).enqueue(flaky, {}, { delayMs });
      const attempts: number[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 10 });
      worker.handle(flaky, (_p, ctx) => {
        attempts.push(ctx.attempt);
        throw new Error('boom');
      });
      await worker.start();
      try {
        await until('the job dead-lettered', () => adapter.deadCount(queue) === 1);
      } finally {
        await worker.stop({ graceMs: 0 });
      }
      const [dead] = (await adapter.listDeadLetters(queue)).items;
      expect(
        { attempts, reason: dead?.reason, deadAttempts: dead?.attempts },
        `ctx.attempt of each run of a delayed job ${when}, maxAttempts 2`,
      ).toEqual({ attempts: [1, 2], reason: 'max-attempts', deadAttempts: 2 });
    });
  }
});

describe('8. createQueue checks now and instrumentation like createWorker', () => {
  const adapter = inTestAdapter();
  for (const [option, value] of [
    ['now', 'Date.now'],
    ['instrumentation', 42],
    ['instrumentation.producer', { producer: 42 }],
  ] as const) {
    it(`createQueue({ ${option}: ${JSON.stringify(value)} }) throws INVALID_ARGUMENT naming ${option}`, () => {
      const key = option.startsWith('instrumentation') ? 'instrumentation' : option;
      let thrown: unknown;
      try {
        createQueue({ adapter, queue: 'audit-options', [key]: value } as never);
      } catch (error) {
        thrown = error;
      }
      expect(
        isBgError(thrown, 'INVALID_ARGUMENT') && { retryable: thrown.retryable, names: thrown.message.includes(option) },
        `createQueue({ ${key}: ${JSON.stringify(value)} }) threw ${String(thrown)}`,
      ).toEqual({ retryable: false, names: true });
    });
  }
  it('createWorker({ instrumentation: { worker: 42 } }) throws INVALID_ARGUMENT naming instrumentation.worker', () => {
    let thrown: unknown;
    try {
      createWorker({ adapter, queue: 'audit-options', instrumentation: { worker: 42 } as never });
    } catch (error) {
      thrown = error;
    }
    expect(
      isBgError(thrown, 'INVALID_ARGUMENT') && thrown.message.includes('instrumentation.worker'),
      `createWorker threw ${String(thrown)}`,
    ).toBe(true);
  });
});

describe('8. a worker whose clock gives fractions of a millisecond', () => {
  it('dead-letters with whole milliseconds (adapters refuse fractions, which a backend could not store)', async () => {
    const adapter = inTestAdapter();
    const queue = 'audit-fraction-clock';
    const poison = defineJob({ type: 'audit.poison', schema: z.object({}), retry: { maxAttempts: 1 } });
    await createQueue({ adapter, queue }).enqueue(poison, {});
    const errors: string[] = [];
    const worker = createWorker({
      adapter,
      queue,
      pollMs: 10,
      now: () => Date.now() + 0.25,
      onEvent: (e) => {
        if (e.type === 'error') errors.push(`${e.during}: ${e.error.message}`);
      },
    });
    worker.handle(poison, () => {
      throw new Error('always fails');
    });
    await worker.start();
    try {
      await until('the job dead-lettered, or an error', () => adapter.deadCount(queue) === 1 || errors.length > 0);
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    const [dead] = (await adapter.listDeadLetters(queue)).items;
    expect(errors, 'worker errors (a fractional deadLetteredAt is INVALID_ARGUMENT)').toEqual([]);
    expect(Number.isInteger(dead?.deadLetteredAt), `deadLetteredAt ${dead?.deadLetteredAt} is whole milliseconds`).toBe(true);
  });
});
