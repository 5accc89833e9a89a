import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Adapter, Capabilities, ReceivedMessage } from '../src/adapter.js';
import { planHandBack } from '../src/hand-back.js';
import {
  BgError,
  createQueue,
  createWorker,
  defineJob,
  type StopReport,
  stopOnSignals,
  type Worker,
  type WorkerEvent,
} from '../src/index.js';
import { type InTestAdapter, inTestAdapter } from './support/in-test-adapter.js';
import { collectUnhandledRejections } from './support/unhandled-rejections.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * What a stop hands back, and how: every hand-back is reported (`stop()`'s report, the `stopped`
 * event, the log line), and a delivery whose handler never ran, on its first delivery, is
 * re-sent rather than released so that a deploy spends none of its attempts. Each test failed
 * before: `stop()` resolved with nothing, and a job received ahead with `maxAttempts: 1` was
 * dead-lettered `max-attempts` after the restart without ever running.
 */

const job = defineJob({
  type: 'stop.job',
  schema: z.object({ n: z.number(), block: z.boolean() }),
  retry: { baseMs: 5, maxMs: 20, maxAttempts: 1 },
});

const unhandled = collectUnhandledRejections();

/** A promise and the function that resolves it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

interface HeldAhead {
  readonly worker: Worker;
  readonly events: WorkerEvent[];
  readonly logs: string[];
  /** Ids of the jobs received ahead and waiting for the slot (their handler never ran). */
  readonly waiting: string[];
  /** Lets the one blocked handler return. */
  readonly unblock: () => void;
}

/**
 * A worker of one slot that holds jobs received ahead (prefetched): three quick jobs teach it
 * that jobs are short, then the first of eight blocking ones takes the slot and the other seven
 * wait in hand, their leases kept.
 */
async function holdAhead(adapter: Adapter, inner: InTestAdapter, queue: string): Promise<HeldAhead> {
  const jobs = createQueue({ adapter: inner, queue });
  await jobs.enqueueMany(
    job,
    [0, 1, 2].map((n) => ({ n, block: false })),
  );
  const blocking = await jobs.enqueueMany(
    job,
    Array.from({ length: 8 }, (_, n) => ({ n: 3 + n, block: true })),
  );
  const events: WorkerEvent[] = [];
  const logs: string[] = [];
  const blocked = gate();
  const running: string[] = [];
  const worker = createWorker({
    adapter,
    queue,
    concurrency: 1,
    pollMs: 20,
    onEvent: (e) => events.push(e),
    logger: { info: (message) => logs.push(message) },
  });
  worker.handle(job, async ({ block }, ctx) => {
    if (!block) return;
    running.push(ctx.jobId);
    await blocked.promise; // ignores its signal
  });
  await worker.start();
  await until(
    'one blocking job to run and the other seven to wait in hand',
    () => running.length === 1 && worker.active === 8,
    10_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message} (handlers blocked: ${running.length}, deliveries held: ${worker.active})`);
  });
  const waiting = blocking.map((r) => r.id).filter((id) => id !== running[0]);
  return { worker, events, logs, waiting, unblock: blocked.open };
}

/**
 * `inner` whose first receive answers only once the worker stops (a long poll that ignores its
 * signal): what it returns arrives while the worker stops, never held.
 */
function arrivingAtStop(inner: InTestAdapter): Adapter {
  let held = true;
  return wrapped(inner, {
    receive: async (queue, options) => {
      if (!held) return inner.receive(queue, options);
      held = false;
      await new Promise<void>((resolve) => {
        if (options.signal?.aborted) resolve();
        else options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      return inner.receive(queue, { max: options.max, leaseMs: options.leaseMs });
    },
  });
}

/** Stops `worker` and returns its report (`worker.lastStop`, set before the stop resolves). */
async function stopped(worker: Worker, options: { graceMs?: number } = {}): Promise<StopReport> {
  await worker.stop(options);
  const report = worker.lastStop;
  if (report === undefined) throw new Error('worker.lastStop is undefined after worker.stop() resolved');
  return report;
}

/** Runs a fresh worker on `queue` until it is empty; returns the jobs it ran. */
async function drain(adapter: InTestAdapter, queue: string): Promise<Array<{ id: string; attempt: number }>> {
  const ran: Array<{ id: string; attempt: number }> = [];
  const worker = createWorker({ adapter, queue, pollMs: 20 });
  worker.handle(job, (_payload, ctx) => {
    ran.push({ id: ctx.jobId, attempt: ctx.attempt });
  });
  await worker.start();
  try {
    await until('the queue to drain', () => adapter.liveCount(queue) === 0);
  } finally {
    await worker.stop({ graceMs: 0 });
  }
  return ran;
}

describe('a stop reports what it handed back', () => {
  it('prefetched deliveries: worker.lastStop lists their ids (not-started, re-sent), the stopped event and the log line agree', async () => {
    const adapter = inTestAdapter({ maxBatchSize: 4 });
    const queue = 'hand-back-report';
    const { worker, events, logs, waiting, unblock } = await holdAhead(adapter, adapter, queue);
    const stopping = stopped(worker, { graceMs: 5_000 });
    unblock(); // the running handler finishes within the grace period: acked, not handed back
    const report = await stopping;
    expect(
      [...report.handedBack].sort((a, b) => a.jobId.localeCompare(b.jobId)),
      'stop() report: the seven jobs received ahead',
    ).toEqual(waiting.sort().map((jobId) => ({ jobId, deliveryCount: 1, why: 'not-started', via: 're-send' })));
    expect(report.leftToLease, 'nothing left to a lease').toEqual([]);
    expect(
      events.filter((e) => e.type === 'stopped'),
      'one stopped event, with the same report',
    ).toEqual([{ type: 'stopped', ...report }]);
    expect(
      logs.find((l) => l.includes('stopped')),
      'the log line',
    ).toBe('bg worker: stopped on "hand-back-report": 7 job(s) handed back (7 not started; 7 re-sent)');
    await worker.stop();
    expect(worker.lastStop, 'a stop of a stopped worker changes nothing').toBe(report);
    expect(unhandled).toEqual([]);
  });

  it('unfinished and gave-up handlers: released, each with its why', async () => {
    const adapter = inTestAdapter();
    const queue = 'hand-back-why';
    const stubborn = defineJob({ type: 'stop.stubborn', schema: z.object({}) });
    const polite = defineJob({ type: 'stop.polite', schema: z.object({}) });
    const worker = createWorker({ adapter, queue, concurrency: 2, pollMs: 20 });
    let started = 0;
    worker.handle(stubborn, async () => {
      started++;
      await new Promise(() => {}); // ignores its signal
    });
    worker.handle(polite, async (_payload, ctx) => {
      started++;
      await new Promise<void>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
    });
    const jobs = createQueue({ adapter, queue });
    const a = await jobs.enqueue(stubborn, {});
    const b = await jobs.enqueue(polite, {});
    await worker.start();
    await until('both handlers to start', () => started === 2);
    const report = await stopped(worker, { graceMs: 50 });
    expect(
      [...report.handedBack].sort((x, y) => x.why.localeCompare(y.why)),
      'stop() report of a handler that gave up and one still running at the end of the grace period',
    ).toEqual([
      { jobId: b.id, deliveryCount: 1, why: 'gave-up', via: 'release' },
      { jobId: a.id, deliveryCount: 1, why: 'unfinished', via: 'release' },
    ]);
    expect(adapter.liveCount(queue), 'both back in the queue').toBe(2);
  });

  it('a hand-back that fails: the job is listed as left to its lease', async () => {
    const inner = inTestAdapter();
    const queue = 'hand-back-fails';
    const adapter = wrapped(inner, { release: () => Promise.reject(new BgError('UNREACHABLE', 'release failed')) });
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    let started = false;
    worker.handle(job, async () => {
      started = true;
      await new Promise(() => {});
    });
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1, block: true });
    await worker.start();
    await until('the handler to start', () => started);
    const report = await stopped(worker, { graceMs: 0 });
    expect(report, 'stop() report').toEqual({ handedBack: [], leftToLease: [{ jobId: id, during: `release of ${id} on stop` }] });
  });

  it('deliveries that arrive while the worker stops are handed back and reported (they had no event at all)', async () => {
    const inner = inTestAdapter();
    const queue = 'hand-back-arriving';
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter: arrivingAtStop(inner), queue, pollMs: 1_000, onEvent: (e) => events.push(e) });
    worker.handle(job, () => {});
    const sent = await createQueue({ adapter: inner, queue }).enqueueMany(job, [
      { n: 1, block: false },
      { n: 2, block: false },
    ]);
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 20)); // the receive is in flight
    const report = await stopped(worker, { graceMs: 1_000 });
    const ids = sent.map((s) => s.id).sort();
    expect(report.handedBack.map((h) => h.jobId).sort(), 'stop() report: the deliveries that arrived while stopping').toEqual(
      ids,
    );
    expect(new Set(report.handedBack.map((h) => `${h.why}/${h.via}`)), 'never started, re-sent').toEqual(
      new Set(['not-started/re-send']),
    );
    expect(
      events
        .filter((e) => e.type === 'deferred')
        .map((e) => e.jobId)
        .sort(),
      'a deferred (shutdown) event for each',
    ).toEqual(ids);
    expect(inner.liveCount(queue), 'both stored once').toBe(2);
  });
});

describe('stopOnSignals passes the reports on', () => {
  it('onStopped gets each worker’s stop report', async () => {
    const inner = inTestAdapter();
    const queue = 'hand-back-signal';
    const worker = createWorker({ adapter: arrivingAtStop(inner), queue, pollMs: 1_000 });
    worker.handle(job, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1, block: false });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    let reports: readonly (StopReport | undefined)[] | undefined;
    const dispose = stopOnSignals([worker], {
      signals: ['SIGUSR2'],
      graceMs: 1_000,
      onStopped: (given) => {
        reports = given;
      },
    });
    try {
      process.emit('SIGUSR2', 'SIGUSR2');
      await until('onStopped', () => reports !== undefined);
    } finally {
      dispose();
    }
    expect(reports, 'the reports onStopped got').toEqual([
      { handedBack: [{ jobId: id, deliveryCount: 1, why: 'not-started', via: 're-send' }], leftToLease: [] },
    ]);
  });
});

describe('a stop spends no attempt of a job whose handler never ran', () => {
  it('maxAttempts 1: jobs prefetched at stop run after the restart (they were dead-lettered max-attempts)', async () => {
    const adapter = inTestAdapter({ maxBatchSize: 4 });
    const queue = 'hand-back-attempts';
    const { worker, waiting, unblock } = await holdAhead(adapter, adapter, queue);
    const stopping = worker.stop({ graceMs: 5_000 });
    unblock();
    await stopping;
    const ran = await drain(adapter, queue);
    expect(adapter.deadCount(queue), 'dead letters after the restart').toBe(0);
    expect(ran.map((r) => r.id).sort(), 'the jobs received ahead ran after the restart, with their ids kept').toEqual(
      [...waiting].sort(),
    );
    expect(new Set(ran.map((r) => r.attempt)), 'each as its attempt 1').toEqual(new Set([1]));
  });

  it('maxAttempts 1: jobs that arrive while stopping run after the restart', async () => {
    const inner = inTestAdapter();
    const queue = 'hand-back-arriving-attempts';
    const worker = createWorker({ adapter: arrivingAtStop(inner), queue, pollMs: 1_000 });
    worker.handle(job, () => {});
    await createQueue({ adapter: inner, queue }).enqueueMany(job, [
      { n: 1, block: false },
      { n: 2, block: false },
    ]);
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await worker.stop({ graceMs: 1_000 });
    const ran = await drain(inner, queue);
    expect(inner.deadCount(queue), 'dead letters after the restart').toBe(0);
    expect(
      ran.map((r) => r.attempt),
      'both ran as attempt 1',
    ).toEqual([1, 1]);
  });

  for (const failure of ['dropped as a duplicate', 'rejected'] as const) {
    it(`a re-send ${failure}: the delivery is released instead, never acked (nothing lost)`, async () => {
      const inner = inTestAdapter();
      const queue = `hand-back-send-${failure === 'rejected' ? 'fails' : 'dup'}`;
      const adapter = wrapped(arrivingAtStop(inner) as InTestAdapter, {
        send: async (_queue, messages) => {
          if (failure === 'rejected') throw new BgError('UNREACHABLE', 'send failed');
          return messages.map((m) => ({ id: m.id, duplicate: true }));
        },
      });
      const worker = createWorker({ adapter, queue, pollMs: 1_000 });
      worker.handle(job, () => {});
      const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1, block: false });
      await worker.start();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const report = await stopped(worker, { graceMs: 1_000 });
      expect(report.handedBack, 'stop() report').toEqual([{ jobId: id, deliveryCount: 1, why: 'not-started', via: 'release' }]);
      expect(inner.liveCount(queue), 'the job is still stored, once').toBe(1);
      const [back] = await inner.receive(queue, { max: 1, leaseMs: 1_000 });
      expect(back?.deliveryCount, 'released: visible at once, its count raised').toBe(2);
    });
  }

  it('a re-send whose old delivery cannot be removed: handed back and left to its lease (a duplicate, never a loss)', async () => {
    const inner = inTestAdapter();
    const queue = 'hand-back-ack-fails';
    const adapter = wrapped(arrivingAtStop(inner) as InTestAdapter, {
      ack: () => Promise.reject(new BgError('UNREACHABLE', 'ack failed')),
    });
    const worker = createWorker({ adapter, queue, pollMs: 1_000 });
    worker.handle(job, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1, block: false });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const report = await stopped(worker, { graceMs: 1_000 });
    expect(report, 'stop() report').toEqual({
      handedBack: [{ jobId: id, deliveryCount: 1, why: 'not-started', via: 're-send' }],
      leftToLease: [{ jobId: id, during: `re-send of ${id} on stop` }],
    });
    expect(inner.liveCount(queue), 'the copy and the old delivery').toBe(2);
  });

  it('an ordered job (ordering backend) is released, keeping its place in its group', async () => {
    const inner = inTestAdapter({ ordering: true });
    const queue = 'hand-back-ordered';
    const worker = createWorker({ adapter: arrivingAtStop(inner), queue, pollMs: 1_000 });
    worker.handle(job, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(job, { n: 1, block: false }, { orderingKey: 'k' });
    await worker.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const report = await stopped(worker, { graceMs: 1_000 });
    expect(report.handedBack, 'stop() report').toEqual([{ jobId: id, deliveryCount: 1, why: 'not-started', via: 'release' }]);
  });
});

describe('planHandBack', () => {
  const caps = (ordering: boolean): Capabilities => ({ ...inTestAdapter().capabilities, ordering });
  const delivery = (deliveryCount: number, attributes: Record<string, string> = {}): ReceivedMessage => ({
    id: 'j',
    body: '{}',
    attributes,
    deliveryCount,
    handle: 'h',
    leaseExpiresAt: 0,
  });
  const cases: Array<{
    branch: string;
    ordering: boolean;
    message: ReceivedMessage;
    why: 'not-started' | 'unfinished' | 'gave-up';
    expected: string;
  }> = [
    {
      branch: 'never started, first delivery → re-send',
      ordering: false,
      message: delivery(1),
      why: 'not-started',
      expected: 're-send',
    },
    {
      branch: 'never started, delivered before (attempts spent) → release',
      ordering: false,
      message: delivery(2),
      why: 'not-started',
      expected: 'release',
    },
    {
      branch: 'handler still running → release (its run was an attempt)',
      ordering: false,
      message: delivery(1),
      why: 'unfinished',
      expected: 'release',
    },
    { branch: 'handler gave up → release', ordering: false, message: delivery(1), why: 'gave-up', expected: 'release' },
    {
      branch: 'ordered job on an ordering backend → release (keeps its place)',
      ordering: true,
      message: delivery(1, { 'bg-ordering-key': 'k' }),
      why: 'not-started',
      expected: 'release',
    },
    {
      branch: 'ordering-key attribute on a backend without ordering → re-send',
      ordering: false,
      message: delivery(1, { 'bg-ordering-key': 'k' }),
      why: 'not-started',
      expected: 're-send',
    },
    {
      branch: 'ordering backend, job without a key → re-send',
      ordering: true,
      message: delivery(1),
      why: 'not-started',
      expected: 're-send',
    },
  ];
  for (const c of cases) {
    it(c.branch, () => {
      expect(planHandBack(caps(c.ordering), c.message, c.why), c.branch).toBe(c.expected);
    });
  }
});

describe('a delay hop re-send the backend drops as a duplicate', () => {
  it('keeps the delivery (it was acked: the job was lost)', async () => {
    const inner = inTestAdapter({ maxDelayMs: 40 });
    const queue = 'hop-dup';
    const hopper = defineJob({ type: 'stop.hopper', schema: z.object({}) });
    const adapter = wrapped(inner, {
      send: async (_queue, messages) => messages.map((m) => ({ id: m.id, duplicate: true })),
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(hopper, () => {});
    const { id } = await createQueue({ adapter: inner, queue }).enqueue(hopper, {}, { delayMs: 60_000 });
    await worker.start();
    try {
      await until('the hop to be tried', () => events.some((e) => e.type === 'error' || e.type === 'deferred'));
    } finally {
      await worker.stop({ graceMs: 0 });
    }
    const error = events.find((e) => e.type === 'error');
    expect(error, 'the dropped re-send is reported').toMatchObject({ jobId: id, during: `handling job ${id}` });
    expect(error?.type === 'error' ? error.error.message : '', 'what the error says').toContain('dropped the re-send');
    expect(inner.liveCount(queue), 'the job is still stored').toBe(1);
  });
});
