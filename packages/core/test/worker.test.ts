import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Adapter,
  BgError,
  createQueue,
  createWorker,
  defineJob,
  isBgError,
  type JobContext,
  stopOnSignals,
  type WorkerEvent,
} from '../src/index.js';
import { PREFETCH_SHORT_BATCH } from '../src/receive-planner.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';

const job = defineJob({ type: 'unit.job', schema: z.object({ n: z.number() }), retry: { baseMs: 5, maxMs: 20, maxAttempts: 3 } });

describe('createWorker', () => {
  it('reports events in order and never exceeds its concurrency', async () => {
    const adapter = inTestAdapter();
    const events: WorkerEvent[] = [];
    let running = 0;
    let peak = 0;
    const worker = createWorker({ adapter, queue: 'q-unit', concurrency: 3, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
    });
    await createQueue({ adapter, queue: 'q-unit' }).enqueueMany(
      job,
      Array.from({ length: 12 }, (_, n) => ({ n })),
    );
    await worker.start();
    await until('12 successes', () => events.filter((e) => e.type === 'succeeded').length === 12);
    await worker.stop();
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    const first = events.find((e) => e.type === 'received');
    const forJob = events.filter((e) => 'jobId' in e && first && 'jobId' in first && e.jobId === first.jobId).map((e) => e.type);
    expect(forJob).toEqual(['received', 'started', 'succeeded']);
  });

  it('acks with the handle of an extension still in flight when the handler returns (handles that rotate, like Azure pop receipts)', async () => {
    const inner = inTestAdapter();
    const queue = 'q-rotating';
    let extendCalled!: () => void;
    const extending = new Promise<void>((resolve) => {
      extendCalled = resolve;
    });
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    // The backend rotates the handle at once; the answer reaches the worker only later.
    const adapter: Adapter = Object.assign(Object.create(inner) as Adapter, inner, {
      extend: async (q: string, handle: string, leaseMs: number) => {
        const next = await inner.extend(q, handle, leaseMs);
        extendCalled();
        await answered;
        return next;
      },
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, concurrency: 1, leaseMs: 300, pollMs: 20, onEvent: (e) => events.push(e) });
    let runs = 0;
    worker.handle(job, async () => {
      runs++;
      if (runs > 1) return;
      await extending;
      // The handler returns while the extension's answer is still on its way.
      setTimeout(answer, 30);
    });
    await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the job to succeed or its lease to be lost', () =>
      events.some((e) => e.type === 'succeeded' || e.type === 'lease-lost'),
    );
    await worker.stop();
    expect(
      events.filter((e) => e.type === 'succeeded' || e.type === 'lease-lost').map((e) => e.type),
      'the ack used the handle the extension in flight had already replaced',
    ).toEqual(['succeeded']);
    expect(runs, 'the job ran again').toBe(1);
    expect((await inner.stats(queue)).ready + ((await inner.stats(queue)).inFlight ?? 0)).toBe(0);
  });

  it('prefetches one batch while jobs are short and a backlog waits, and hands it back at once on stop', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-prefetch';
    const jobs = createQueue({ adapter, queue });
    // More jobs than two of the largest batches, so that the bound below can fail.
    const total = 3 * PREFETCH_SHORT_BATCH;
    await jobs.enqueueMany(
      job,
      Array.from({ length: total }, (_, n) => ({ n })),
    );
    let running = 0;
    let peak = 0;
    let held = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let done = 0;
    const worker = createWorker({ adapter, queue, concurrency: 8, pollMs: 20 });
    worker.handle(job, async (payload) => {
      running++;
      peak = Math.max(peak, running);
      // The first 300 jobs are short; then every slot blocks until the gate opens.
      if (payload.n >= 300) await gate;
      running--;
      done++;
    });
    await worker.start();
    await until('8 slots blocked behind the gate', () => running === 8 && done >= 300);
    const stats = await adapter.stats(queue);
    held = stats.inFlight;
    // Short jobs with a backlog: batches of up to PREFETCH_SHORT_BATCH (instant jobs), at most two in hand.
    expect(held, 'deliveries in flight with 8 slots blocked (prefetched beyond the slots)').toBeGreaterThan(8);
    expect(held, 'deliveries in flight: at most two batches of very short jobs').toBeLessThanOrEqual(2 * PREFETCH_SHORT_BATCH);
    const stopped = worker.stop({ graceMs: 5_000 });
    // Prefetched deliveries never started: they are back in the queue before the grace period ends.
    await until('prefetched jobs handed back', async () => (await adapter.stats(queue)).inFlight === 8);
    release();
    await stopped;
    expect(peak).toBeLessThanOrEqual(8);
    expect(await adapter.stats(queue)).toMatchObject({ inFlight: 0, ready: total - done });
  });

  it('does not prefetch while jobs take long', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-slow';
    await createQueue({ adapter, queue }).enqueueMany(
      job,
      Array.from({ length: 40 }, (_, n) => ({ n })),
    );
    let done = 0;
    let most = 0;
    const worker = createWorker({ adapter, queue, concurrency: 4, pollMs: 20 });
    worker.handle(job, async () => {
      most = Math.max(most, (await adapter.stats(queue)).inFlight);
      await new Promise((r) => setTimeout(r, 120));
      done++;
    });
    await worker.start();
    await until('12 jobs done', () => done >= 12);
    await worker.stop();
    expect(most).toBeLessThanOrEqual(4);
  });

  it('starts thousands of prefetched jobs when blocked slots free up at once, without deep recursion', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-wide';
    const wide = 3_000;
    await createQueue({ adapter, queue }).enqueueMany(
      job,
      Array.from({ length: 4 * wide }, (_, n) => ({ n })),
    );
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let done = 0;
    let blocked = 0;
    const errors: WorkerEvent[] = [];
    const worker = createWorker({
      adapter,
      queue,
      concurrency: wide,
      pollMs: 20,
      onEvent: (e) => {
        if (e.type === 'error') errors.push(e);
      },
    });
    // Instant jobs, then a slot-full of blocked ones while instant ones are prefetched behind them.
    worker.handle(job, (payload) => {
      if (payload.n >= wide && payload.n < 2 * wide) {
        blocked++;
        return gate.then(() => {
          done++;
        });
      }
      done++; // synchronous: the next waiting job starts from inside this one's settling
    });
    await worker.start();
    await until(
      'every slot blocked with a batch prefetched',
      async () => blocked === wide && (await adapter.stats(queue)).inFlight === 2 * wide,
    );
    release();
    await until('every job done', () => done === 4 * wide, 30_000);
    await worker.stop();
    expect(errors).toEqual([]);
    expect(await adapter.stats(queue)).toMatchObject({ ready: 0, inFlight: 0 });
  });

  it('aborts the handler and does not ack when the lease is lost', async () => {
    const inner = inTestAdapter();
    const adapter: Adapter = {
      ...inner,
      extend: async () => {
        throw new BgError('LEASE_LOST', 'gone', { retryable: false });
      },
    };
    let acks = 0;
    const counting: Adapter = {
      ...adapter,
      ack: (q, h) => {
        acks++;
        return inner.ack(q, h);
      },
    };
    const events: string[] = [];
    let reason: unknown;
    const worker = createWorker({
      adapter: counting,
      queue: 'q-lost',
      leaseMs: 60,
      pollMs: 20,
      onEvent: (e) => events.push(e.type),
    });
    worker.handle(job, async (_p, ctx: JobContext) => {
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      // The first delivery's abort: on a loaded machine the 60 ms lease may also have brought the
      // job back to this worker meanwhile, and the stop below aborts that second delivery too.
      reason ??= ctx.signal.reason;
    });
    await createQueue({ adapter: inner, queue: 'q-lost' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the lease to be lost', () => events.includes('lease-lost'));
    await until('the handler to see the abort', () => reason !== undefined);
    await worker.stop({ graceMs: 0 });
    expect(isBgError(reason, 'LEASE_LOST'), `the handler's signal after the lease was lost: ${String(reason)}`).toBe(true);
    expect(acks).toBe(0);
    expect(events).not.toContain('succeeded');
  });

  it('survives a backend that fails to receive, and carries on', async () => {
    const inner = inTestAdapter();
    let failures = 3;
    const flaky: Adapter = {
      ...inner,
      receive: async (q, o) => {
        if (failures-- > 0) throw new BgError('UNREACHABLE', 'backend down');
        return inner.receive(q, o);
      },
    };
    const errors: string[] = [];
    let done = 0;
    const worker = createWorker({
      adapter: flaky,
      queue: 'q-flaky',
      pollMs: 20,
      onEvent: (e) => e.type === 'error' && errors.push(e.during),
    });
    worker.handle(job, () => void done++);
    await createQueue({ adapter: inner, queue: 'q-flaky' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the job to run', () => done === 1, 10_000);
    await worker.stop();
    expect(errors).toEqual(['receive', 'receive', 'receive']);
  });

  it('sets aside the head of a foreign message too large to dead-letter whole, instead of redelivering it forever', async () => {
    const inner = inTestAdapter({ maxPayloadBytes: 4_000 });
    const strict: Adapter = {
      ...inner,
      deadLetter: async (q, m, info) => {
        if (Buffer.byteLength(m.body) > 3_000) throw new BgError('PAYLOAD_TOO_LARGE', 'dead-letter record too large');
        return inner.deadLetter(q, m, info);
      },
    };
    const inspect = inner;
    await inspect.sendRaw('q-huge', 'é'.repeat(5_000));
    const worker = createWorker({ adapter: strict, queue: 'q-huge', pollMs: 20 });
    worker.handle(job, () => {});
    await worker.start();
    await until('the dead letter', async () => (await inspect.deadCount('q-huge')) === 1);
    await worker.stop();
    const [dead] = (await inner.listDeadLetters('q-huge')).items;
    expect(dead?.reason).toBe('malformed-envelope');
    expect(dead?.attributes['bg-truncated-from']).toBe('10000');
    expect(dead?.body.startsWith('éé')).toBe(true);
    expect(dead?.error?.message).toContain('too large to dead-letter whole');
    expect(await inspect.liveCount('q-huge')).toBe(0);
  });

  it('starts while the backend is down and carries on once it is back', async () => {
    const inner = inTestAdapter();
    let down = true;
    const flaky: Adapter = {
      ...inner,
      ensureQueue: async (q) => {
        if (down) throw new BgError('UNREACHABLE', 'down');
        return inner.ensureQueue(q);
      },
      receive: async (q, o) => {
        if (down) throw new BgError('UNREACHABLE', 'down');
        return inner.receive(q, o);
      },
    };
    let done = 0;
    const worker = createWorker({ adapter: flaky, queue: 'q-boot', pollMs: 20 });
    worker.handle(job, () => void done++);
    await worker.start();
    expect(worker.running).toBe(true);
    await createQueue({ adapter: inner, queue: 'q-boot' }).enqueue(job, { n: 1 });
    down = false;
    await until('the job to run', () => done === 1, 10_000);
    await worker.stop();
    const fatal = createWorker({
      adapter: { ...inner, ensureQueue: async () => Promise.reject(new BgError('AUTH_FAILED', 'no', { retryable: false })) },
      queue: 'q-boot',
    });
    await expect(fatal.start()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
  });

  it('a second stop skips the rest of the grace period', async () => {
    const adapter = inTestAdapter();
    const worker = createWorker({ adapter, queue: 'q-force', pollMs: 20 });
    let started = false;
    worker.handle(job, async () => {
      started = true;
      await new Promise(() => {});
    });
    await createQueue({ adapter, queue: 'q-force' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    const t0 = Date.now();
    const first = worker.stop({ graceMs: 60_000 });
    const second = worker.stop();
    await Promise.all([first, second]);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await adapter.stats('q-force')).ready).toBe(1);
  });

  it('stopOnSignals stops workers on the first signal', async () => {
    const adapter = inTestAdapter();
    const worker = createWorker({ adapter, queue: 'q-signal', pollMs: 20 });
    worker.handle(job, () => {});
    await worker.start();
    let stopped = false;
    const dispose = stopOnSignals([worker], {
      signals: ['SIGUSR2'],
      graceMs: 100,
      onStopped: () => {
        stopped = true;
      },
    });
    process.emit('SIGUSR2', 'SIGUSR2');
    await until('the worker to stop', () => stopped);
    dispose();
    expect(worker.running).toBe(false);
  });

  it('rejects bad registrations and options with typed errors', () => {
    const adapter = inTestAdapter();
    const worker = createWorker({ adapter, queue: 'q-reg' });
    worker.handle(job, () => {});
    expect(() => worker.handle(job, () => {})).toThrow(/already registered/);
    expect(() => worker.handle({} as never, () => {})).toThrow(/defineJob/);
    expect(() => createWorker({ adapter, concurrency: 0 })).toThrow(/concurrency/);
  });
});
