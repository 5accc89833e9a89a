// Outside review, round five: the worker runtime. Each case failed before its fix; each block
// is its own scope (the findings were written apart).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, decodeEnvelope, defineJob, permanentError, uuidv7, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

{
  /**
   * Finding 1: a handler that fails for its own reasons while the worker stops (its failure is not
   * the stop's abort) is handed back (released at once) even when the failure is permanent
   * (`permanentError`) or its last attempt. DESIGN.md: "after maxAttempts, or at once for permanent
   * errors, the job is dead-lettered with a reason … plus the last error".
   */
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  }

  async function failDuringStop(maxAttempts: number, fail: () => never) {
    const adapter = inTestAdapter();
    const queue = `stop-fail-${maxAttempts}`;
    const job = defineJob({ type: 'stop.fail', schema: z.object({}), retry: { maxAttempts, baseMs: 5, maxMs: 5 } });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    const release = gate();
    let runs = 0;
    worker.handle(job, async () => {
      runs++;
      await release.promise; // ignores its signal: the failure below is the handler's own
      fail();
    });
    await createQueue({ adapter, queue }).enqueue(job, {});
    await worker.start();
    await until('the handler to start', () => runs === 1);
    const stopping = worker.stop({ graceMs: 5_000 });
    release.open();
    await stopping;
    const dead = await adapter.listDeadLetters(queue);
    return { adapter, queue, events, dead: dead.items, report: worker.lastStop };
  }

  describe('a handler that fails for its own reasons during a stop', () => {
    it('a permanentError is dead-lettered permanent-error, not handed back to run again', async () => {
      const { adapter, queue, dead, report } = await failDuringStop(5, () => {
        throw permanentError('user u1 does not exist');
      });
      expect(report?.handedBack, 'stop report').toEqual([]);
      expect(
        dead.map((d) => `${d.reason}: ${d.error?.message}`),
        'dead letters',
      ).toEqual(['permanent-error: user u1 does not exist']);
      expect(adapter.liveCount(queue), 'live jobs left').toBe(0);
    });

    it('a failure on the last attempt is dead-lettered max-attempts with that failure', async () => {
      const { adapter, queue, dead, report } = await failDuringStop(1, () => {
        throw new Error('smtp 550 mailbox unavailable');
      });
      expect(report?.handedBack, 'stop report').toEqual([]);
      expect(
        dead.map((d) => `${d.reason}: ${d.error?.message}`),
        'dead letters (the last error is kept)',
      ).toEqual(['max-attempts: smtp 550 mailbox unavailable']);
      expect(adapter.liveCount(queue), 'live jobs left').toBe(0);
    });

    it('(unchanged) a handler that gives up because of the stop is still handed back', async () => {
      const adapter = inTestAdapter();
      const queue = 'stop-gave-up';
      const job = defineJob({ type: 'stop.polite', schema: z.object({}), retry: { maxAttempts: 3 } });
      const worker = createWorker({ adapter, queue, pollMs: 20 });
      let runs = 0;
      worker.handle(job, async (_p, ctx) => {
        runs++;
        await new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      });
      await createQueue({ adapter, queue }).enqueue(job, {});
      await worker.start();
      await until('the handler to start', () => runs === 1);
      await worker.stop({ graceMs: 5_000 });
      expect(worker.lastStop?.handedBack.map((h) => h.why)).toEqual(['gave-up']);
      expect(adapter.liveCount(queue)).toBe(1);
      expect(adapter.deadCount(queue)).toBe(0);
    });
  });
}

{
  /**
   * Finding 2: a job's `timeoutMs` frees the handler's slot when the timer fires, although the
   * handler (which cannot be stopped) still runs. `concurrency` documents "Handlers run at once
   * (default 8). A slot frees when its handler returns": with handlers that outlive their timeout
   * (a hung socket that ignores ctx.signal, the very case timeouts exist for), the worker starts
   * new handlers without bound, and runs a job's retry while its first run is still going.
   */
  describe('timeouts and the concurrency limit', () => {
    it('never runs more handlers at once than `concurrency`, even when they outlive their timeout', async () => {
      const adapter = inTestAdapter();
      const queue = 'timeout-concurrency';
      const slow = defineJob({
        type: 'timeout.hung',
        schema: z.object({ n: z.number() }),
        timeoutMs: 20,
        retry: { maxAttempts: 5, baseMs: 1, maxMs: 1 },
      });
      const worker = createWorker({ adapter, queue, concurrency: 1, pollMs: 10 });
      let running = 0;
      let most = 0;
      let started = 0;
      const finish: Array<() => void> = [];
      worker.handle(slow, async () => {
        started++;
        running++;
        most = Math.max(most, running);
        // Ignores ctx.signal (a hung call that takes no signal); ends only when the test lets it.
        await new Promise<void>((resolve) => finish.push(resolve));
        running--;
      });
      const jobs = createQueue({ adapter, queue });
      for (let n = 0; n < 3; n++) await jobs.enqueue(slow, { n });
      await worker.start();
      try {
        // Well past several timeouts: time for the worker to start more handlers if it would.
        await new Promise((r) => setTimeout(r, 300));
        expect({ most, started }, 'handlers running at once (concurrency 1)').toMatchObject({ most: 1 });
      } finally {
        for (const f of finish.splice(0)) f();
        await worker.stop({ graceMs: 100 });
        for (const f of finish.splice(0)) f();
      }
    });

    it('a handler that returns after its timeout frees its slot then: the next job runs', async () => {
      const adapter = inTestAdapter();
      const queue = 'timeout-frees-late';
      const slow = defineJob({
        type: 'timeout.late',
        schema: z.object({ n: z.number() }),
        timeoutMs: 20,
        retry: { maxAttempts: 1 },
      });
      const worker = createWorker({ adapter, queue, concurrency: 1, pollMs: 10 });
      const ran: number[] = [];
      worker.handle(slow, async ({ n }) => {
        ran.push(n);
        if (n === 0) await new Promise((r) => setTimeout(r, 80)); // returns, late
      });
      const jobs = createQueue({ adapter, queue });
      await jobs.enqueue(slow, { n: 0 });
      await jobs.enqueue(slow, { n: 1 });
      await worker.start();
      try {
        await until('both jobs to run', () => ran.length === 2, 3_000);
        expect(adapter.deadCount(queue), 'job 0 timed out on its only attempt').toBe(1);
      } finally {
        await worker.stop({ graceMs: 100 });
      }
    });

    it('(with the patch) a hung handler past its timeout gives its slot up at a stop: the restarted worker runs jobs', async () => {
      const adapter = inTestAdapter();
      const queue = 'timeout-restart';
      const hung = defineJob({
        type: 'timeout.forever',
        schema: z.object({ n: z.number() }),
        timeoutMs: 20,
        retry: { maxAttempts: 1 },
      });
      const worker = createWorker({ adapter, queue, concurrency: 1, pollMs: 10 });
      const ran: number[] = [];
      worker.handle(hung, async ({ n }) => {
        ran.push(n);
        if (n === 0) await new Promise(() => {}); // never returns, ignores its signal
      });
      const jobs = createQueue({ adapter, queue });
      await jobs.enqueue(hung, { n: 0 });
      await worker.start();
      await until('job 0 to time out and be dead-lettered', () => adapter.deadCount(queue) === 1);
      await worker.stop({ graceMs: 10 });
      await jobs.enqueue(hung, { n: 1 });
      await worker.start();
      try {
        await until('job 1 to run on the restarted worker', () => ran.includes(1), 2_000);
      } finally {
        await worker.stop({ graceMs: 10 });
      }
    });
  });
}

{
  /**
   * Finding 3: an async schema (or migration) that REJECTS the payload after the worker let the
   * delivery go (a stop's grace period ended and handed it back; or its lease was lost meanwhile)
   * is still dead-lettered with the old handle: `settle` checks `item.abandoned` only on the path
   * that runs the handler. The adapter refuses (LEASE_LOST) where it checks ownership, and the
   * worker then reports a second `lease-lost` for a delivery the stop handed back; where the old
   * handle still works (an SQS receipt handle stays valid until the message is received again) the
   * "handed back" job is dead-lettered and deleted behind the stop report's back.
   */
  function gate(): { promise: Promise<void>; open: () => void } {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { promise, open };
  }

  describe('an async payload check that fails after the delivery was let go', () => {
    it('touches nothing after a stop handed the delivery back', async () => {
      const inner = inTestAdapter();
      const calls: string[] = [];
      const adapter = wrapped(inner, {
        deadLetter: (q, m, i) => {
          calls.push('deadLetter');
          return inner.deadLetter(q, m, i);
        },
      });
      const queue = 'async-reject-after-stop';
      const checking = gate();
      const verdict = gate();
      let producing = true;
      const job = defineJob({
        type: 'async.reject',
        schema: {
          '~standard': {
            version: 1,
            vendor: 'test',
            validate: async (value: unknown) => {
              if (producing) return { value: value as { n: number } };
              checking.open();
              await verdict.promise;
              return { issues: [{ message: 'n must be even' }] };
            },
          },
        },
      });
      const events: WorkerEvent[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
      worker.handle(job, async () => {});
      await createQueue({ adapter, queue }).enqueue(job, { n: 1 });
      producing = false;
      await worker.start();
      await checking.promise;
      await worker.stop({ graceMs: 0 });
      expect(
        worker.lastStop?.handedBack.map((h) => h.why),
        'the stop handed the delivery back, not-started (its handler never ran: no attempt spent)',
      ).toEqual(['not-started']);
      verdict.open();
      await until('the worker to let the delivery go', () => worker.active === 0);
      await new Promise((r) => setTimeout(r, 20));
      expect(calls, 'adapter calls on the handed-back delivery').toEqual([]);
      expect(
        events.filter((e) => e.type === 'lease-lost' || e.type === 'error').map((e) => e.type),
        'lease-lost / error events for a delivery the stop handed back',
      ).toEqual([]);
      expect(inner.liveCount(queue), 'the job is back in the queue').toBe(1);
    });
  });
}

{
  /**
   * Finding 4: the envelope's `trace` field is telemetry, yet a malformed one (a traceparent that is
   * not a string or is longer than 512 characters, a `baggage` member beside it — what another
   * language's producer may write) makes the whole envelope MALFORMED_ENVELOPE: the job is
   * dead-lettered `malformed-envelope` and never runs. A bad trace context must never fail a job.
   */
  const job = defineJob({ type: 'trace.job', schema: z.object({ n: z.number() }) });

  const body = (trace: unknown): string =>
    JSON.stringify({
      bg: 1,
      id: uuidv7(),
      type: 'trace.job',
      v: 1,
      payload: { n: 1 },
      createdAt: new Date().toISOString(),
      trace,
    });

  const BAD_TRACES: Array<[string, unknown]> = [
    ['a traceparent longer than 512 characters', { traceparent: `00-${'a'.repeat(600)}` }],
    ['a traceparent that is a number', { traceparent: 42 }],
    [
      'a member besides traceparent/tracestate',
      { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', baggage: 'k=v' },
    ],
    ['null', null],
  ];

  describe('a job whose trace context is malformed', () => {
    it.each(BAD_TRACES)('decodes (the trace is dropped) with %s', (_what, trace) => {
      const envelope = decodeEnvelope(body(trace));
      expect(envelope.trace, 'the trace is dropped').toBeUndefined();
      expect(envelope.payload).toEqual({ n: 1 });
    });

    it('runs, and is not dead-lettered', async () => {
      const adapter = inTestAdapter();
      const queue = 'malformed-trace';
      for (const [, trace] of BAD_TRACES) adapter.sendRaw(queue, body(trace));
      const worker = createWorker({ adapter, queue, pollMs: 10 });
      let runs = 0;
      worker.handle(job, () => {
        runs++;
      });
      await worker.start();
      try {
        await until('every job to be settled', () => adapter.liveCount(queue) === 0);
      } finally {
        await worker.stop();
      }
      const dead = await adapter.listDeadLetters(queue);
      expect(
        dead.items.map((d) => d.reason),
        'dead letters',
      ).toEqual([]);
      expect(runs, 'handler runs').toBe(BAD_TRACES.length);
    });
  });
}
