import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob, permanentError, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * Races of a worker's start, stop and settling that an outside audit reproduced: each test
 * failed on the code before its fix (a job run twice, a slot never freed, a crash, a hang).
 */

const job = defineJob({ type: 'race.job', schema: z.object({ n: z.number() }), retry: { baseMs: 5, maxMs: 20, maxAttempts: 2 } });

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

const unhandled = collectUnhandledRejections();

describe('worker start, stop and settling races', () => {
  it('a handler that never returns does not keep its slot after a stop: the restarted worker runs jobs', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-slot';
    const worker = createWorker({ adapter, queue, concurrency: 1, pollMs: 20 });
    const ran: number[] = [];
    worker.handle(job, async ({ n }) => {
      ran.push(n);
      if (ran.length === 1) await new Promise(() => {}); // the first run hangs, ignoring its signal
    });
    const jobs = createQueue({ adapter, queue });
    await jobs.enqueue(job, { n: 1 });
    await worker.start();
    await until('the hanging handler to start', () => ran.includes(1));
    await worker.stop({ graceMs: 10 });
    await jobs.enqueue(job, { n: 2 });
    await worker.start();
    try {
      await until('a job to run on the restarted worker (concurrency 1)', () => ran.includes(2), 2_000);
    } finally {
      await worker.stop({ graceMs: 10 });
    }
    expect(ran.slice(0, 1), 'the first run (it hangs)').toEqual([1]);
    expect(ran, 'job 2 ran after the restart (job 1 ran again too: it was handed back)').toContain(2);
  });

  it('a thrown value that cannot be printed is still retried and dead-lettered after maxAttempts (it was redelivered forever)', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-unprintable';
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const throwing = Object.create(null, {
      message: {
        get() {
          throw new Error('no message for you');
        },
        enumerable: true,
      },
    });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let runs = 0;
    worker.handle(job, async ({ n }) => {
      runs++;
      throw n === 1 ? proxy : throwing;
    });
    const jobs = createQueue({ adapter, queue });
    await jobs.enqueue(job, { n: 1 });
    await jobs.enqueue(job, { n: 2 });
    await worker.start();
    try {
      await until('both jobs dead-lettered', () => adapter.deadCount(queue) === 2, 4_000);
    } finally {
      await worker.stop();
    }
    const letters = await adapter.listDeadLetters(queue);
    expect(
      letters.items.map((letter) => ({ reason: letter.reason, attempts: letter.attempts, message: letter.error?.message })),
      'each dead-lettered after its 2 attempts, with a placeholder message',
    ).toEqual([
      { reason: 'max-attempts', attempts: 2, message: 'a value was thrown that cannot be printed' },
      { reason: 'max-attempts', attempts: 2, message: 'a value was thrown that cannot be printed' },
    ]);
    expect(runs, 'handler runs (2 jobs × maxAttempts 2)').toBe(4);
  });

  it('an isPermanent that throws is reported as an error event and counts as "no": the job is retried, then dead-lettered', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-is-permanent';
    const errors: string[] = [];
    const worker = createWorker({
      adapter,
      queue,
      pollMs: 20,
      isPermanent: () => {
        throw new Error('classifier down');
      },
      onEvent: (e) => {
        if (e.type === 'error') errors.push(`${e.during}: ${e.error.message}`);
      },
    });
    let runs = 0;
    worker.handle(job, async () => {
      runs++;
      throw new Error('flaky');
    });
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await worker.start();
    try {
      await until('the job dead-lettered', () => adapter.deadCount(queue) === 1);
    } finally {
      await worker.stop();
    }
    expect(runs, 'runs (maxAttempts 2)').toBe(2);
    expect(errors, 'error events').toContain('isPermanent: classifier down');
  });

  it('an async onEvent that rejects and a logger that throws neither crash the process nor fail the job', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-observers';
    const worker = createWorker({
      adapter,
      queue,
      pollMs: 20,
      onEvent: async () => {
        throw new Error('observer down');
      },
      logger: {
        info: () => {
          throw new Error('logger down');
        },
        warn: () => {
          throw new Error('logger down');
        },
      },
    });
    let done = false;
    worker.handle(job, async () => {
      done = true;
    });
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the job to be handled', () => done);
    await until('its ack', () => adapter.liveCount(queue) === 0);
    await worker.stop();
    await new Promise((r) => setImmediate(r));
    expect(unhandled.map(String), 'unhandled rejections (each one ends a Node process)').toEqual([]);
  });

  it.each([
    { outcome: 'ack', settles: 'ack', throws: false },
    { outcome: 'dead letter', settles: 'deadLetter', throws: true },
  ] as const)(
    'a stop whose grace ends during a finished job’s $outcome waits for it and never hands the job back',
    async ({ settles, throws }) => {
      const inner = inTestAdapter();
      const queue = `race-settle-${settles.toLowerCase()}`;
      const called = gate();
      const answer = gate();
      const adapter = wrapped(inner, {
        [settles]: async (...args: unknown[]) => {
          called.open();
          await answer.promise;
          return (inner[settles] as (...a: unknown[]) => Promise<void>)(...args);
        },
      });
      const events: WorkerEvent['type'][] = [];
      const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e.type) });
      let runs = 0;
      worker.handle(job, async () => {
        runs++;
        if (throws) throw permanentError('no such user');
      });
      await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
      await worker.start();
      await called.promise;
      const stopped = worker.stop({ graceMs: 0 });
      await new Promise((r) => setTimeout(r, 20)); // the grace period is over; the call is still out
      answer.open();
      await stopped;
      expect(events, 'events: nothing handed back, no lease lost').not.toContain('deferred');
      expect(events).not.toContain('lease-lost');
      expect(
        { live: inner.liveCount(queue), dead: inner.deadCount(queue), runs },
        `after the stop: the job is settled (${settles}), not back in the queue`,
      ).toEqual({ live: 0, dead: throws ? 1 : 0, runs: 1 });
    },
  );

  it('stop(); start(); stop() leaves the worker stopped (the last call wins)', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-restart';
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let runs = 0;
    worker.handle(job, async () => {
      runs++;
    });
    await worker.start();
    const first = worker.stop();
    const started = worker.start();
    const last = worker.stop();
    await Promise.all([first, started, last]);
    expect(worker.running, 'running after the last stop resolved').toBe(false);
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await new Promise((r) => setTimeout(r, 100)); // a running worker (pollMs 20) would take it here
    expect({ runs, live: adapter.liveCount(queue) }, 'the job enqueued after the stops stays queued').toEqual({
      runs: 0,
      live: 1,
    });
  });

  it('a stop while an async schema checks the payload hands the job back: the handler never starts on a stopped worker', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-async-schema';
    const checking = gate();
    const checked = gate();
    let producing = true;
    const slowJob = defineJob({
      type: 'race.slow-schema',
      schema: {
        '~standard': {
          version: 1,
          vendor: 'test',
          validate: async (value: unknown) => {
            if (!producing) {
              checking.open();
              await checked.promise;
            }
            return { value: value as { n: number } };
          },
        },
      },
    });
    const events: WorkerEvent['type'][] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e.type) });
    let runs = 0;
    worker.handle(slowJob, async () => {
      runs++;
    });
    await createQueue({ adapter, queue }).enqueue(slowJob, { n: 1 });
    producing = false;
    await worker.start();
    await checking.promise;
    const stopped = worker.stop({ graceMs: 0 });
    await new Promise((r) => setTimeout(r, 20));
    checked.open();
    await stopped;
    await until('the stop to settle the delivery', () => worker.active === 0);
    expect(runs, 'handler runs after the stop').toBe(0);
    expect(events, 'the delivery was handed back').toContain('deferred');
    expect(
      adapter.stored(queue).map((m) => m.visibleAt <= Date.now()),
      'the job is back and visible at once',
    ).toEqual([true]);
  });

  it('a job’s timeout timer does not keep the process alive once the worker stopped', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-timeout-timer';
    const slow = defineJob({ type: 'race.timeout', schema: z.object({ n: z.number() }), timeoutMs: 60_000 });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let started = false;
    worker.handle(slow, async () => {
      started = true;
      await new Promise(() => {}); // hangs, ignoring its signal
    });
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    await createQueue({ adapter, queue }).enqueue(slow, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    await worker.stop({ graceMs: 0 });
    // At most as many as before: a timer of an earlier test may have ended meanwhile (never more).
    expect(timers() - before, 'timers that keep the process alive, beyond those before the start').toBeLessThanOrEqual(0);
  });

  it('a handler registered right after `await worker.start()` gets the jobs already queued (they were dead-lettered unknown-type)', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-late-handler';
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    await worker.start();
    let runs = 0;
    worker.handle(job, async () => {
      runs++;
    });
    try {
      await until('the job to run or be dead-lettered', () => runs > 0 || adapter.deadCount(queue) > 0);
    } finally {
      await worker.stop();
    }
    expect({ runs, dead: adapter.deadCount(queue) }, 'the queued job ran').toEqual({ runs: 1, dead: 0 });
  });

  it('a receive that ignores its abort signal cannot hold a stop past its grace period', async () => {
    const inner = inTestAdapter();
    const queue = 'race-stuck-receive';
    const receiving = gate();
    const never = gate();
    const adapter = wrapped(inner, {
      receive: async () => {
        receiving.open();
        await never.promise; // a backend call that never answers and ignores the signal
        return [];
      },
    });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    await worker.start();
    await receiving.promise;
    const outcome = await Promise.race([
      worker.stop({ graceMs: 50 }).then(() => 'stopped'),
      new Promise((r) => setTimeout(r, 3_000)).then(() => 'still stopping after 3 s'),
    ]);
    never.open();
    expect(outcome, 'stop({ graceMs: 50 }) with a receive stuck').toBe('stopped');
    expect(worker.running).toBe(false);
  });
  it('a handler that gives up on its abort signal at stop is handed back, not reported as a failed attempt', async () => {
    const adapter = inTestAdapter();
    const queue = 'race-honour';
    const events: WorkerEvent[] = [];
    let started = false;
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, async (_payload, ctx) => {
      started = true;
      await new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    await worker.stop({ graceMs: 2_000 });
    const kinds = events.map((e) => (e.type === 'deferred' ? `deferred:${e.why}` : e.type));
    expect(kinds, 'events of a job interrupted by the stop').toContain('deferred:shutdown');
    expect(kinds, 'events of a job interrupted by the stop').not.toContain('failed');
    expect(adapter.liveCount(queue), 'the job is back in the queue').toBe(1);
  });
});
