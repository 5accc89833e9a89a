import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BgError, createQueue, createWorker, defineJob, isBgError, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * Worker bugs the third outside audit proved (scripts under /tmp/core-audit): each test failed
 * on the code before its fix.
 */

const unhandled = collectUnhandledRejections();

describe('worker: attempts and leases (audit, round three)', () => {
  it('a job delivered more than maxAttempts times (earlier deliveries crashed) is dead-lettered max-attempts without running', async () => {
    const adapter = inTestAdapter();
    const queue = 'over-delivered';
    const job = defineJob({ type: 'audit3.crash', schema: z.object({}), retry: { maxAttempts: 3, baseMs: 1, maxMs: 2 } });
    await createQueue({ adapter, queue }).enqueue(job, {});
    // Three deliveries that ended without a result (as if the job killed its worker each time).
    for (let i = 1; i <= 3; i++) {
      const [got] = await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 0 });
      expect(got?.deliveryCount, `setup: delivery ${i}`).toBe(i);
      await adapter.release(queue, (got as { handle: string }).handle, 0);
    }
    const ran: number[] = [];
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 0, onEvent: (e) => events.push(e) });
    worker.handle(job, (_payload, ctx) => {
      ran.push(ctx.attempt);
    });
    await worker.start();
    try {
      await until('delivery 4 to run or to be dead-lettered', () => ran.length > 0 || adapter.deadCount(queue) === 1);
      await until('the worker to settle delivery 4', () => worker.active === 0);
    } finally {
      await worker.stop({ graceMs: 100 });
    }
    expect(ran, 'the handler ran at attempt > maxAttempts (3): a job that kills its worker would never be dead-lettered').toEqual(
      [],
    );
    const dead = await adapter.listDeadLetters(queue);
    expect(
      dead.items.map((d) => [d.reason, d.attempts]),
      'delivery 4 of a job with maxAttempts 3 must be dead-lettered max-attempts, attempts 4',
    ).toEqual([['max-attempts', 4]]);
    const deadEvent = events.find((e) => e.type === 'dead-lettered');
    expect(deadEvent, 'the dead-lettered event of delivery 4').toMatchObject({ attempt: 4, reason: 'max-attempts' });
    expect(unhandled).toEqual([]);
  });

  it('extensions that fail until the lease runs out abort the handler signal with LEASE_LOST and the job is never acked', async () => {
    const inner = inTestAdapter();
    const queue = 'lease-ran-out';
    const job = defineJob({ type: 'audit3.slow', schema: z.object({}), retry: { maxAttempts: 5, baseMs: 1, maxMs: 2 } });
    await createQueue({ adapter: inner, queue }).enqueue(job, {});
    let acks = 0;
    const adapter = wrapped(inner, {
      extend: () => Promise.reject(new BgError('UNREACHABLE', 'network down', { retryable: true })),
      ack: (q, handle) => {
        acks++;
        return inner.ack(q, handle);
      },
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, concurrency: 1, leaseMs: 60, pollMs: 0, onEvent: (e) => events.push(e) });
    let reason: unknown;
    let startedAt = 0;
    let abortedAfterMs = Number.NaN;
    worker.handle(job, async (_payload, ctx) => {
      if (ctx.attempt > 1) return;
      startedAt = Date.now();
      // Waits for its signal (at most 2 s, far past the 60 ms lease).
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2_000);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reason = ctx.signal.reason;
          abortedAfterMs = Date.now() - startedAt;
          resolve();
        });
      });
    });
    await worker.start();
    try {
      await until('the first handler to end', () => startedAt > 0 && (reason !== undefined || Date.now() - startedAt > 2_100));
    } finally {
      await worker.stop({ graceMs: 100 });
    }
    expect(
      isBgError(reason, 'LEASE_LOST'),
      `extend() failed (UNREACHABLE) for the whole 60 ms lease: the handler's signal must abort with LEASE_LOST once the lease has run out (another worker may run the job), got ${String(reason)}`,
    ).toBe(true);
    expect(abortedAfterMs, 'the signal aborts about when the 60 ms lease ends, not when the handler returns').toBeLessThan(1_000);
    expect(
      events.filter((e) => e.type === 'lease-lost' && e.jobId !== undefined).length,
      'one lease-lost event',
    ).toBeGreaterThanOrEqual(1);
    expect(
      events.some((e) => e.type === 'succeeded' && e.attempt === 1),
      'the delivery whose lease ran out must never be acked as a success',
    ).toBe(false);
    expect(acks, 'acks: only the redelivery (attempt 2) may be acked').toBeLessThanOrEqual(1);
    expect(unhandled).toEqual([]);
  });

  it('misspelt options are INVALID_ARGUMENT, never ignored (a delayed job ran at once, concurrency stayed 8)', async () => {
    const adapter = inTestAdapter();
    const queue = 'option-typos';
    const job = defineJob({ type: 'audit3.typo', schema: z.object({}) });
    const jobs = createQueue({ adapter, queue });
    const codeOf = async (call: () => unknown): Promise<string> => {
      try {
        await call();
        return 'accepted';
      } catch (error) {
        return isBgError(error) ? `${error.code}: ${error.message}` : String(error);
      }
    };
    const refused = {
      'enqueue(job, {}, { delay: 3600000 })': await codeOf(() => jobs.enqueue(job, {}, { delay: 3_600_000 } as never)),
      'enqueueMany(job, [{}], { delayMS: 3600000 })': await codeOf(() =>
        jobs.enqueueMany(job, [{}], { delayMS: 3_600_000 } as never),
      ),
      'createWorker({ concurency: 1 })': await codeOf(() => createWorker({ adapter, queue, concurency: 1 } as never)),
      'createQueue({ queu: "x" })': await codeOf(() => createQueue({ adapter, queu: 'other-queue' } as never)),
      'worker.stop({ grace: 0 })': await codeOf(() => createWorker({ adapter, queue }).stop({ grace: 0 } as never)),
    };
    for (const [call, outcome] of Object.entries(refused)) {
      expect(outcome, `${call} must be refused naming the unknown option`).toMatch(
        /^INVALID_ARGUMENT: .* has no option "(delay|delayMS|concurency|queu|grace)"/,
      );
    }
    expect(adapter.liveCount(queue), 'nothing is sent when an enqueue option is misspelt').toBe(0);
    // A name given undefined changes nothing: accepted (spreads of optional fields).
    expect(await codeOf(() => jobs.enqueue(job, {}, { delay: undefined } as never)), 'an unknown name given undefined').toBe(
      'accepted',
    );
  });

  it('a handler whose lease was lost and that never returns does not keep its slot after a stop: the restarted worker runs jobs', async () => {
    const inner = inTestAdapter();
    const queue = 'lost-slot';
    const job = defineJob({ type: 'audit3.hang', schema: z.object({ n: z.number() }) });
    const adapter = wrapped(inner, {
      extend: () => Promise.reject(new BgError('LEASE_LOST', 'taken by another consumer', { retryable: false })),
    });
    const jobs = createQueue({ adapter: inner, queue });
    await jobs.enqueue(job, { n: 1 });
    const ran: number[] = [];
    const events: WorkerEvent[] = [];
    let release: () => void = () => {};
    const hanging = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = createWorker({ adapter, queue, concurrency: 1, leaseMs: 60, pollMs: 10, onEvent: (e) => events.push(e) });
    worker.handle(job, async ({ n }) => {
      ran.push(n);
      if (ran.length === 1) await hanging; // ignores its signal
    });
    try {
      await worker.start();
      await until('the lease of the hanging job to be lost', () => events.some((e) => e.type === 'lease-lost'));
      await worker.stop({ graceMs: 20 });
      expect(worker.active, 'deliveries held after stop(): the lost one must be let go').toBe(0);
      await jobs.enqueue(job, { n: 2 });
      await worker.start();
      await until('job 2 to run on the restarted worker (concurrency 1)', () => ran.includes(2), 2_000);
    } finally {
      release();
      await worker.stop({ graceMs: 20 });
    }
    expect(unhandled).toEqual([]);
  });
});
