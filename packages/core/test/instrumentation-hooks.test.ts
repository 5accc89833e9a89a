import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  BgError,
  createQueue,
  createWorker,
  defineJob,
  type Instrumentation,
  isBgError,
  type WorkerEvent,
} from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';
import { wrapped } from './support/wrapped-adapter.js';

/**
 * The instrumentation contract, as an outside audit of `@bg/otel` found it broken: telemetry
 * that throws never decides an enqueue's outcome (nor sends a job twice), failures that end a
 * delivery name its job, and a hook learns whether a job type is one the worker handles.
 */

const job = defineJob({ type: 'hooked.job', schema: z.object({ n: z.number() }) });

/** A producer hook that calls `run` and then fails as a span processor's `onEnd` might. */
const failsAfterSend: Instrumentation = {
  producer: () => ({
    async send(_info, run) {
      await run(undefined);
      throw new Error('span processor onEnd failed');
    },
  }),
};
/** A producer hook that fails before it sends, as a span processor's `onStart` might. */
const failsBeforeSend: Instrumentation = {
  producer: () => ({
    send() {
      throw new Error('span processor onStart failed');
    },
  }),
};
/** A producer hook that forgets to call `run`. */
const neverSends: Instrumentation = {
  producer: () => ({ send: async () => [] }),
};

describe('producer hooks never decide the outcome of an enqueue', () => {
  for (const [name, instrumentation] of [
    ['throws after the send', failsAfterSend],
    ['throws before the send', failsBeforeSend],
    ['never calls run', neverSends],
  ] as const) {
    it(`a hook that ${name}: enqueue resolves with the stored job, stored once`, async () => {
      const adapter = inTestAdapter();
      const jobs = createQueue({ adapter, queue: 'hooked', instrumentation });
      const result = await jobs.enqueue(job, { n: 1 });
      expect(result.id, `enqueue through a hook that ${name}`).toMatch(/^[0-9a-f-]{36}$/);
      expect(adapter.liveCount('hooked'), `jobs stored by one enqueue through a hook that ${name}`).toBe(1);
      const many = await jobs.enqueueMany(job, [{ n: 2 }, { n: 3 }]);
      expect(many.length, `enqueueMany results through a hook that ${name}`).toBe(2);
      expect(adapter.liveCount('hooked'), 'jobs stored after enqueueMany of two').toBe(3);
    });
  }

  it("the send's own error still reaches the caller through a hook that fails after it", async () => {
    const adapter = inTestAdapter();
    const jobs = createQueue({ adapter, queue: 'hooked', instrumentation: failsAfterSend });
    const error = await jobs.enqueue(job, { n: 'x' } as never).catch((e: unknown) => e);
    expect(isBgError(error, 'INVALID_PAYLOAD'), `enqueue of a bad payload rejected with ${String(error)}`).toBe(true);
  });
});

describe('worker hooks', () => {
  it('decoded() is told whether the job type has a handler here', async () => {
    const adapter = inTestAdapter();
    const seen: [string, boolean][] = [];
    const worker = createWorker({
      adapter,
      queue: 'hooked',
      pollMs: 20,
      instrumentation: { worker: () => ({ decoded: (_m, envelope, registered) => seen.push([envelope.type, registered]) }) },
    });
    worker.handle(job, () => {});
    const other = defineJob({ type: 'nobody.handles.this', schema: z.object({}) });
    const jobs = createQueue({ adapter, queue: 'hooked' });
    await jobs.enqueue(job, { n: 1 });
    await jobs.enqueue(other, {});
    await worker.start();
    await until('both deliveries decoded', () => seen.length === 2);
    await worker.stop();
    expect(new Map(seen), 'decoded(…, registered) per job type').toEqual(
      new Map([
        ['hooked.job', true],
        ['nobody.handles.this', false],
      ]),
    );
  });

  it('a failure that ends a delivery names its job in the error event and the log line', async () => {
    const inner = inTestAdapter();
    const adapter = wrapped(inner, {
      ack: () => Promise.reject(new BgError('UNREACHABLE', 'ack failed: connection reset')),
    });
    const events: WorkerEvent[] = [];
    const logged: Record<string, unknown>[] = [];
    const worker = createWorker({
      adapter,
      queue: 'hooked',
      pollMs: 20,
      onEvent: (event) => events.push(event),
      logger: { warn: (_message, data) => logged.push({ ...data }) },
    });
    worker.handle(job, () => {});
    const { id } = await createQueue({ adapter: inner, queue: 'hooked' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the failed ack reported', () => events.some((e) => e.type === 'error'));
    await worker.stop({ graceMs: 0 });
    const error = events.find((e) => e.type === 'error');
    expect(error, 'the error event of the failed ack').toMatchObject({ type: 'error', jobId: id, during: `handling job ${id}` });
    expect(logged, 'the log line of the failed ack').toContainEqual(expect.objectContaining({ jobId: id }));
  });

  it('a hand-back that fails at stop names its job; a failed lease extension names none', async () => {
    const inner = inTestAdapter();
    let started = false;
    const adapter = wrapped(inner, {
      release: () => Promise.reject(new BgError('UNREACHABLE', 'release failed')),
      extend: () => Promise.reject(new BgError('UNREACHABLE', 'extend failed')),
    });
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue: 'hooked', pollMs: 20, leaseMs: 1_000, onEvent: (e) => events.push(e) });
    worker.handle(job, async () => {
      started = true;
      await new Promise<void>((resolve) => setTimeout(resolve, 60_000).unref());
    });
    const { id } = await createQueue({ adapter: inner, queue: 'hooked' }).enqueue(job, { n: 1 });
    await worker.start();
    await until('the handler to start', () => started);
    await until('a failed lease extension', () => events.some((e) => e.type === 'error' && e.during === 'lease extension'));
    await worker.stop({ graceMs: 0 });
    const handBack = events.find((e) => e.type === 'error' && e.during.startsWith('release of'));
    expect(handBack, 'the failed hand-back').toMatchObject({ jobId: id, during: `release of ${id} on stop` });
    const extension = events.find((e) => e.type === 'error' && e.during === 'lease extension');
    expect(extension && 'jobId' in extension, 'a failed extension ends no delivery: no jobId').toBe(false);
  });
});
