import type { StandardSchemaV1 } from '@standard-schema/spec';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { LeaseHandle } from '../src/adapter.js';
import { createQueue, createWorker, defineJob, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * Races of a worker's stop found by a second review (2026-12-03): each test failed on the code
 * before its fix (an attempt spent on a job that never ran, a job settled twice, a finished job
 * handed back, a stop that forgot a delivery, two stops at once, a restarted worker that never
 * received).
 */

const job = defineJob({ type: 'race2.job', schema: z.object({ n: z.number() }) });

const unhandled = collectUnhandledRejections();

describe('worker stop races, round two', () => {
  it('a delivery whose async payload check outlives the grace goes back not-started (a re-send): no attempt spent', async () => {
    const adapter = inTestAdapter();
    const queue = 'race2-slow-check';
    let slow = false;
    let checking = false;
    let finishCheck: () => void = () => {};
    const schema: StandardSchemaV1<{ n: number }, { n: number }> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          if (!slow) return { value: value as { n: number } };
          slow = false; // only the first check on the worker is slow
          checking = true;
          return new Promise((resolve) => {
            finishCheck = () => resolve({ value: value as { n: number } });
          });
        },
      },
    };
    const slowJob = defineJob({ type: 'race2.slow-check', schema, retry: { maxAttempts: 1 } });
    await createQueue({ adapter, queue }).enqueue(slowJob, { n: 1 });
    slow = true;
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let runs = 0;
    worker.handle(slowJob, () => {
      runs++;
    });
    await worker.start();
    await until('the payload check to start', () => checking);
    await worker.stop({ graceMs: 10 });
    finishCheck();
    const handedBack = worker.lastStop?.handedBack.map((h) => `${h.why}/${h.via}`);
    await worker.start();
    try {
      await until('the job to run or be dead-lettered', () => runs > 0 || adapter.deadCount(queue) > 0, 3_000);
    } finally {
      await worker.stop({ graceMs: 10 });
    }
    const dead = (await adapter.listDeadLetters(queue)).items.map((d) => d.reason);
    expect(
      { handedBack, runs, dead, unhandled },
      'stop(): a delivery whose handler never started is handed back not-started (re-send); with maxAttempts 1 it then runs once, never dead-lettered',
    ).toEqual({ handedBack: ['not-started/re-send'], runs: 1, dead: [], unhandled: [] });
  });

  it('a delivery that arrives during a stop and whose hand-back hangs is reported as left to its lease', async () => {
    const inner = inTestAdapter();
    const queue = 'race2-unheld-hang';
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    let receiving = false;
    const adapter = wrapped(inner, {
      // The first receive answers only once the worker stops (a long poll ending at the abort).
      receive: async (q, options) => {
        if (receiving) return inner.receive(q, options);
        receiving = true;
        await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
        return inner.receive(q, { max: options.max, leaseMs: options.leaseMs });
      },
      // The backend hangs for the hand-back (re-send and release).
      send: () => new Promise(() => {}),
      release: () => new Promise(() => {}),
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 1_000, onEvent: (e) => events.push(e) });
    worker.handle(job, () => {});
    await worker.start();
    await until('the first receive to be in flight', () => receiving);
    await worker.stop({ graceMs: 50 });
    const report = worker.lastStop;
    const errorsNamingIt = events.filter((e) => e.type === 'error' && e.jobId === id).length;
    expect(
      {
        handedBack: report?.handedBack.map((h) => h.jobId),
        leftToLease: report?.leftToLease.map((l) => l.jobId),
        errorsNamingIt,
        unhandled,
      },
      'stop(): a delivery it could not hand back is in leftToLease, with one error event naming it',
    ).toEqual({ handedBack: [], leftToLease: [id], errorsNamingIt: 1, unhandled: [] });
  });

  it('a delivery that waited for a slot and is handed back while its extension is in flight is settled once', async () => {
    const inner = inTestAdapter({ maxBatchSize: 4 });
    const queue = 'race2-initial-quiesce';
    const blockJob = defineJob({ type: 'race2.q', schema: z.object({ block: z.boolean() }), retry: { maxAttempts: 3 } });
    const jobs = createQueue({ adapter: inner, queue });
    // Three quick jobs teach the worker that jobs are short (it prefetches), then a blocking one
    // takes the only slot while malformed deliveries wait in hand, their leases kept by extensions.
    await jobs.enqueueMany(
      blockJob,
      [0, 1, 2].map(() => ({ block: false })),
    );
    await jobs.enqueue(blockJob, { block: true });
    for (let i = 0; i < 6; i++) inner.sendRaw(queue, `not an envelope ${i}`);

    let hang = false;
    const hung: Array<() => void> = [];
    const adapter = wrapped(inner, {
      extend: (q: string, handle: LeaseHandle, leaseMs: number) => {
        if (!hang) return inner.extend(q, handle, leaseMs);
        return new Promise((resolve, reject) => {
          hung.push(() => inner.extend(q, handle, leaseMs).then(resolve, reject));
        });
      },
    });
    const events: WorkerEvent[] = [];
    let unblock: () => void = () => {};
    const blocked = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    let blocking = false;
    const worker = createWorker({ adapter, queue, concurrency: 1, pollMs: 20, leaseMs: 150, onEvent: (e) => events.push(e) });
    worker.handle(blockJob, async ({ block }) => {
      if (!block) return;
      blocking = true;
      await blocked;
    });
    await worker.start();
    await until('the blocking job to run with deliveries waiting in hand', () => blocking && worker.active >= 3, 5_000);
    const held = worker.active;
    hang = true;
    await until('an extension in flight for every held delivery', () => hung.length >= held, 3_000);
    // The slot frees: the next waiting (malformed) delivery starts (in this turn's microtasks) and
    // waits for its extension; so does the blocking job before its ack.
    unblock();
    await new Promise((resolve) => setImmediate(resolve));
    const stopping = worker.stop({ graceMs: 0 });
    await until('the stop to let go of every delivery but the finished one', () => worker.active === 1);
    hang = false;
    for (const go of hung.splice(0)) go();
    await stopping;

    const deadIds = new Set((await inner.listDeadLetters(queue)).items.map((d) => d.id));
    const handedBackIds = new Set(worker.lastStop?.handedBack.map((h) => h.jobId));
    const both = [...deadIds].filter((id) => handedBackIds.has(id));
    const lostEvents = events.filter((e) => e.type === 'lease-lost').map((e) => e.jobId);
    expect(
      { deadLetteredAndHandedBack: both, leaseLostEvents: lostEvents, unhandled },
      'stop(): no delivery is both dead-lettered by its settle and handed back by the stop',
    ).toEqual({ deadLetteredAndHandedBack: [], leaseLostEvents: [], unhandled: [] });
  });

  for (const [timeoutMs, slowAck] of [
    [undefined, false],
    [60_000, false],
    [60_000, true],
  ] as const) {
    it(`a handler that returns as a second stop() ends the grace (timeoutMs ${timeoutMs}, slow ack ${slowAck}) is acked, never handed back`, async () => {
      const inner = inTestAdapter();
      const adapter = slowAck
        ? wrapped(inner, {
            ack: async (q, h) => {
              await new Promise((r) => setTimeout(r, 5)); // an ack's round trip
              return inner.ack(q, h);
            },
          })
        : inner;
      const queue = `race2-finish-forced-${timeoutMs ?? 'none'}-${slowAck}`;
      const timedJob = defineJob({
        type: 'race2.finish',
        schema: z.object({ n: z.number() }),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
      });
      await createQueue({ adapter: inner, queue }).enqueue(timedJob, { n: 1 });
      const events: WorkerEvent[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = false;
      let returned = 0;
      worker.handle(timedJob, async () => {
        started = true;
        await gate; // ignores its signal
        returned++;
      });
      await worker.start();
      await until('the handler to start', () => started);
      const first = worker.stop({ graceMs: 5_000 });
      // The stop's loop ends (its receive aborted): the stop waits for the handler.
      await new Promise((resolve) => setImmediate(resolve));
      // The work the handler waited for completes, and the operator presses Ctrl-C again.
      release();
      void worker.stop();
      await first;
      await until('the job to leave the queue', () => inner.liveCount(queue) === 0, 1_000).catch(() => {});
      expect(
        {
          returned,
          handedBack: worker.lastStop?.handedBack.map((h) => h.why),
          leftToLease: worker.lastStop?.leftToLease.length,
          live: inner.liveCount(queue),
          kinds: events.filter((e) => ['succeeded', 'deferred', 'finished', 'error'].includes(e.type)).map((e) => e.type),
          unhandled,
        },
        'stop(): a handler that returned is acked (one succeeded event), and the stop hands nothing back',
      ).toEqual({ returned: 1, handedBack: [], leftToLease: 0, live: 0, kinds: ['succeeded'], unhandled: [] });
    });
  }

  it('a stop() called from a handler abort listener joins the stop in progress: one stop, one stopped event', async () => {
    const adapter = inTestAdapter();
    const queue = 'race2-reentrant-stop';
    await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    let started = false;
    let fromListener: Promise<void> | undefined;
    worker.handle(job, async (_payload, ctx) => {
      started = true;
      ctx.signal.addEventListener('abort', () => {
        fromListener = worker.stop({ graceMs: 0 });
      });
      await new Promise(() => {}); // ignores its signal
    });
    await worker.start();
    await until('the handler to start', () => started);
    await worker.stop({ graceMs: 1_000 });
    let listenerStopEnded = false;
    void fromListener?.then(() => {
      listenerStopEnded = true;
    });
    await until('the stop called from the listener to end', () => listenerStopEnded, 2_000).catch(() => {});
    const stopped = events.filter((e) => e.type === 'stopped');
    expect(
      {
        listenerCalledStop: fromListener !== undefined,
        listenerStopEnded,
        stoppedEvents: stopped.length,
        lastStopHandedBack: worker.lastStop?.handedBack.length,
        unhandled,
      },
      'stop() from an abort listener: one stop (the second call ends the grace), one stopped event reporting the hand-back',
    ).toEqual({ listenerCalledStop: true, listenerStopEnded: true, stoppedEvents: 1, lastStopHandedBack: 1, unhandled: [] });
  });

  it('a restarted worker receives even though a receive of its previous run never answered', async () => {
    const inner = inTestAdapter();
    const queue = 'race2-restart-stuck-receive';
    let calls = 0;
    let stuck = false;
    const adapter = wrapped(inner, {
      receive: async (q, options) => {
        calls++;
        if (calls === 1) {
          stuck = true;
          await new Promise(() => {}); // a backend call that never answers and ignores the signal
        }
        return inner.receive(q, options);
      },
    });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let runs = 0;
    worker.handle(job, () => {
      runs++;
    });
    await worker.start();
    await until('the first receive to hang', () => stuck);
    await worker.stop({ graceMs: 50 });
    await worker.start();
    await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1 });
    try {
      await until('the job to run on the restarted worker', () => runs === 1, 2_000).catch(() => {});
    } finally {
      await worker.stop({ graceMs: 50 });
    }
    expect(
      { runs, receivesAfterRestart: calls > 1, unhandled },
      'start() after stop(): the new run receives although a receive of the old run never answered',
    ).toEqual({ runs: 1, receivesAfterRestart: true, unhandled: [] });
  });
});
