import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type Adapter,
  createQueue,
  createWorker,
  type DeadLetter,
  defineJob,
  type JobContext,
  permanentError,
  type Worker,
  type WorkerOptions,
} from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { eventually, receiveOne, say, show, since, watchQuiet } from '../helpers.js';
import { longLease, promptly, shortLease } from '../timing.js';
import { withCapabilities } from '../with-capabilities.js';

/** A Standard Schema accepting `{ n: number, tag?: string }`, without depending on a validator library. */
const itemSchema = {
  '~standard': {
    version: 1 as const,
    vendor: 'bg-conformance',
    types: undefined as unknown as { input: { n: number; tag?: string }; output: { n: number; tag?: string } },
    validate: (value: unknown) =>
      typeof value === 'object' && value !== null && typeof (value as { n?: unknown }).n === 'number'
        ? { value: value as { n: number; tag?: string } }
        : { issues: [{ message: 'expected { n: number }' }] },
  },
};

const FAST_RETRY = { baseMs: 10, maxMs: 50, jitter: 'none' as const };

function startWorker(ctx: CaseContext, setup: (worker: Worker) => void, overrides: Partial<WorkerOptions> = {}): Worker {
  const worker = createWorker({
    adapter: ctx.adapter,
    queue: ctx.queue,
    concurrency: 4,
    leaseMs: longLease(ctx.timing, ctx.adapter.capabilities),
    pollMs: ctx.timing.pollMs,
    graceMs: 1_000,
    ...overrides,
  });
  setup(worker);
  ctx.defer(() => worker.stop({ graceMs: 0 }));
  return worker;
}

async function deadLetterOf(ctx: CaseContext, id: string, adapter: Adapter = ctx.adapter): Promise<DeadLetter> {
  return eventually(ctx, `job ${id} to be dead-lettered`, () => adapter.getDeadLetter(ctx.queue, id), ctx.timing.deadlineMs * 2);
}

async function drained(ctx: CaseContext): Promise<void> {
  await eventually(
    ctx,
    'the live queue to be empty',
    async () => ((await ctx.inspector.liveCount(ctx.queue)) === 0 ? true : undefined),
    ctx.timing.deadlineMs * 2,
  );
}

/** Worker-level cases: the core worker host run through the adapter under test. */
export const workerCases: readonly ConformanceCase[] = [
  {
    id: 'worker.success-acks-once',
    group: 'Worker',
    title: 'a handler that succeeds is acked exactly once',
    async run(ctx) {
      const job = defineJob({ type: 'conformance.ok', schema: itemSchema });
      const calls: JobContext[] = [];
      const worker = startWorker(ctx, (w) => w.handle(job, (_p, c) => void calls.push(c)));
      const { id } = await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 1 });
      await worker.start();
      await drained(ctx);
      await eventually(ctx, 'the worker to go idle', async () => (worker.active === 0 ? true : undefined));
      await watchQuiet(ctx, ctx.timing.quietMs, { leaseMs: shortLease(ctx.timing, ctx.adapter.capabilities) });
      ctx.expect(calls.map((c) => [c.jobId, c.attempt])).toEqual([[id, 1]]);
    },
  },
  {
    id: 'worker.retry-then-succeed',
    group: 'Worker',
    title: 'a retryable failure is retried with backoff and succeeds later; attempts are reported',
    async run(ctx) {
      const job = defineJob({ type: 'conformance.flaky', schema: itemSchema, retry: { ...FAST_RETRY, maxAttempts: 5 } });
      const attempts: number[] = [];
      const times: number[] = [];
      const worker = startWorker(ctx, (w) =>
        w.handle(job, (_p, c) => {
          attempts.push(c.attempt);
          times.push(Date.now());
          if (c.attempt < 3) throw new Error(`flaky failure ${c.attempt}`);
        }),
      );
      await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 2 });
      await worker.start();
      await drained(ctx);
      ctx.expect(attempts).toEqual([1, 2, 3]);
      ctx.expect((times[1] ?? 0) - (times[0] ?? 0), 'retried without backoff').toBeGreaterThanOrEqual(FAST_RETRY.baseMs - 2);
      ctx.expect(await ctx.inspector.deadCount(ctx.queue)).toBe(0);
    },
  },
  {
    id: 'worker.max-attempts',
    group: 'Worker',
    title: 'a job failing every time is dead-lettered after maxAttempts with reason max-attempts',
    async run(ctx) {
      const job = defineJob({ type: 'conformance.poison', schema: itemSchema, retry: { ...FAST_RETRY, maxAttempts: 3 } });
      let calls = 0;
      const worker = startWorker(ctx, (w) =>
        w.handle(job, () => {
          calls++;
          throw new TypeError('always broken');
        }),
      );
      const { id } = await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 3 });
      await worker.start();
      const dead = await deadLetterOf(ctx, id);
      ctx.expect(dead.reason).toBe('max-attempts');
      ctx.expect(dead.attempts).toBe(3);
      ctx.expect(dead.error?.message).toBe('always broken');
      ctx.expect(dead.error?.name).toBe('TypeError');
      ctx.expect(JSON.parse(dead.body).payload).toEqual({ n: 3 });
      await drained(ctx);
      ctx.expect(calls).toBe(3);
    },
  },
  {
    id: 'worker.permanent-error',
    group: 'Worker',
    title: 'a permanent error is dead-lettered on the first attempt',
    async run(ctx) {
      const job = defineJob({ type: 'conformance.permanent', schema: itemSchema, retry: { ...FAST_RETRY, maxAttempts: 5 } });
      let calls = 0;
      const worker = startWorker(ctx, (w) =>
        w.handle(job, () => {
          calls++;
          throw permanentError('this can never work');
        }),
      );
      const { id } = await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 4 });
      await worker.start();
      const dead = await deadLetterOf(ctx, id);
      ctx.expect(dead.reason).toBe('permanent-error');
      ctx.expect(dead.attempts).toBe(1);
      await drained(ctx);
      ctx.expect(calls).toBe(1);
    },
  },
  {
    id: 'worker.crash-redelivers',
    group: 'Worker',
    title: 'a job whose worker process dies mid-handler is redelivered after its lease, the death counted as an attempt',
    slow: 2,
    skip: (o) => (o.workerProcess ? undefined : 'no workerProcess hook given'),
    async run(ctx) {
      const hook = ctx.options.workerProcess;
      if (!hook) return;
      const lease = shortLease(ctx.timing, ctx.adapter.capabilities);
      const job = defineJob({ type: 'conformance.crash', schema: itemSchema });
      const { id } = await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 5 });
      const script = fileURLToPath(new URL('../crash-worker.js', import.meta.url));
      const child = fork(script, [], {
        env: {
          ...process.env,
          ...hook.env,
          BG_CONF_ADAPTER_MODULE: hook.adapterModule,
          BG_CONF_QUEUE: ctx.queue,
          BG_CONF_LEASE_MS: String(lease),
        },
        execArgv: hook.adapterModule.endsWith('.ts') ? ['--import', 'tsx'] : [],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const unserve = hook.serve?.(child, ctx.adapter);
      ctx.defer(() => {
        unserve?.();
        if (child.exitCode === null) child.kill('SIGKILL');
      });
      // Wait for 'close' rather than 'exit' before reporting a dead child: 'exit' can come
      // before its stderr is read to the end, and that stderr is the only account of why.
      let ready = false;
      const childState = (): string =>
        `child pid ${child.pid}, ${ready ? 'reported ready' : 'never reported ready'}, stderr:\n${stderr.slice(-4000) || '(empty)'}`;
      const started = await new Promise<{ jobId: string; attempt: number }>((resolve, reject) => {
        const waitMs = ctx.timing.deadlineMs * 3;
        const timer = setTimeout(
          () => reject(new Error(`the child worker did not start job ${id} within ${waitMs} ms (${childState()})`)),
          waitMs,
        );
        child.on('message', (m: { bg?: string; jobId: string; attempt: number }) => {
          if (m?.bg === 'ready') ready = true;
          if (m?.bg === 'started') {
            clearTimeout(timer);
            resolve(m);
          }
        });
        child.once('close', (code, signal) => {
          clearTimeout(timer);
          reject(
            new Error(`the child worker exited (code ${code}, signal ${signal}) before starting job ${id} (${childState()})`),
          );
        });
      });
      ctx.expect(started).toEqual({ bg: 'started', jobId: id, attempt: 1 });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const killedAt = Date.now();
      const attempts: number[] = [];
      const worker = startWorker(ctx, (w) => w.handle(job, (_p, c) => void attempts.push(c.attempt)));
      await worker.start();
      await eventually(
        ctx,
        'the killed job to be handled again',
        async () => (attempts.length > 0 ? true : undefined),
        lease + ctx.timing.deadlineMs * 2,
      );
      ctx.expect(attempts, 'the crashed delivery must count as an attempt').toEqual([2]);
      ctx.expect(since(killedAt)).toBeLessThan(lease + ctx.timing.deadlineMs * 2);
      await drained(ctx);
    },
  },
  {
    id: 'worker.heartbeat',
    group: 'Worker',
    title: 'a handler running several times its lease keeps it through heartbeats and is not delivered twice',
    slow: 2,
    async run(ctx) {
      // At least a second: heartbeats come every third of the lease, and a loaded machine can
      // stall a process for a few hundred milliseconds without any bug.
      const lease = Math.max(1_000, shortLease(ctx.timing, ctx.adapter.capabilities));
      const job = defineJob({ type: 'conformance.long', schema: itemSchema });
      const calls: number[] = [];
      const second = await ctx.newAdapter();
      const worker = startWorker(
        ctx,
        (w) =>
          w.handle(job, async (_p, c) => {
            calls.push(c.attempt);
            await new Promise((r) => setTimeout(r, lease * 3));
          }),
        { leaseMs: lease, concurrency: 1 },
      );
      await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 6 });
      await worker.start();
      await eventually(ctx, 'the handler to start', async () => (calls.length > 0 ? true : undefined));
      const stolen = await watchQuiet(ctx, lease * 2, { adapter: second, leaseMs: lease });
      ctx.expect(stolen, 'the job was delivered to another consumer while its handler ran').toEqual([]);
      await drained(ctx);
      ctx.expect(calls).toEqual([1]);
    },
  },
  {
    id: 'worker.bad-messages',
    group: 'Worker',
    title:
      'malformed envelopes, invalid payloads and unknown types are dead-lettered with the right reason; the worker carries on',
    async run(ctx) {
      const job = defineJob({ type: 'conformance.known', schema: itemSchema });
      const handled: number[] = [];
      const worker = startWorker(ctx, (w) => w.handle(job, (p) => void handled.push(p.n)));
      const queue = createQueue({ adapter: ctx.adapter, queue: ctx.queue });
      const envelope = (over: Record<string, unknown>): string =>
        JSON.stringify({
          bg: 1,
          id: '0190d6c2-7f3a-7b1c-8d2e-0123456789ab',
          type: 'conformance.known',
          v: 1,
          payload: { n: 1 },
          createdAt: new Date().toISOString(),
          ...over,
        });
      const raw: Array<[string, string]> = [
        ['not json at all {', 'malformed-envelope'],
        ['{"hello":"world"}', 'malformed-envelope'],
        [envelope({ bg: 2 }), 'malformed-envelope'],
        [envelope({ id: '0190d6c2-7f3a-7b1c-8d2e-0123456789a1', type: 'conformance.nobody-handles-this' }), 'unknown-type'],
        [envelope({ id: '0190d6c2-7f3a-7b1c-8d2e-0123456789a2', payload: { n: 'not a number' } }), 'invalid-payload'],
      ];
      const send = ctx.inspector.sendRaw?.bind(ctx.inspector);
      const bodies = new Map<string, string>();
      for (const [body, reason] of raw) {
        if (send) await send(ctx.queue, body);
        else await ctx.adapter.send(ctx.queue, [{ id: `raw-${bodies.size}`, body }]);
        bodies.set(body, reason);
      }
      await queue.enqueue(job, { n: 42 });
      await worker.start();
      await drained(ctx);
      await eventually(ctx, 'every bad message dead-lettered', async () =>
        (await ctx.inspector.deadCount(ctx.queue)) === raw.length ? true : undefined,
      );
      const dead: DeadLetter[] = [];
      for await (const d of queue.deadLetters.all()) dead.push(d);
      for (const [body, reason] of bodies) {
        const found = dead.find((d) => d.body === body);
        ctx.expect(found, `no dead letter keeps the original bytes of ${body.slice(0, 40)}`).toBeDefined();
        ctx.expect(found?.reason, `reason for ${body.slice(0, 40)}`).toBe(reason);
      }
      ctx.expect(handled).toEqual([42]);
      ctx.expect(worker.running).toBe(true);
    },
  },
  {
    id: 'worker.versions',
    group: 'Worker',
    title: 'old payload versions are migrated; a newer unknown version is released within the skew window, then dead-lettered',
    async run(ctx) {
      const v1 = defineJob({ type: 'conformance.versioned', version: 1, schema: itemSchema });
      const v3 = defineJob({
        type: 'conformance.versioned',
        version: 3,
        schema: itemSchema,
        migrate: { 1: (p: unknown) => p, 2: (p: unknown) => p },
      });
      const v2Schema = {
        '~standard': {
          version: 1 as const,
          vendor: 'bg-conformance',
          types: undefined as unknown as { input: { n: number; tag: string }; output: { n: number; tag: string } },
          validate: (value: unknown) => {
            const v = value as { n?: unknown; tag?: unknown };
            return typeof v?.n === 'number' && typeof v.tag === 'string'
              ? { value: v as { n: number; tag: string } }
              : { issues: [{ message: 'expected { n, tag }' }] };
          },
        },
      };
      const v2 = defineJob({
        type: 'conformance.versioned',
        version: 2,
        schema: v2Schema,
        migrate: { 1: (old: { n: number }) => ({ n: old.n, tag: 'migrated' }) },
      });
      const handled: Array<{ n: number; tag: string }> = [];
      const producer = createQueue({ adapter: ctx.adapter, queue: ctx.queue });
      const old = await producer.enqueue(v1, { n: 1 });
      const newer = await producer.enqueue(v3, { n: 3 });
      const events: string[] = [];
      const worker = startWorker(ctx, (w) => w.handle(v2, (p) => void handled.push(p)), {
        unknownVersionWindowMs: 60_000,
        onEvent: (e) => {
          if (e.type === 'deferred' && e.jobId === newer.id) events.push(e.why);
        },
      });
      await worker.start();
      await eventually(ctx, 'the old version to be handled', async () => (handled.length > 0 ? true : undefined));
      ctx.expect(handled).toEqual([{ n: 1, tag: 'migrated' }]);
      await eventually(ctx, 'the newer version to be released for later', async () => (events.length > 0 ? true : undefined));
      ctx.expect(events[0]).toBe('unknown-version');
      ctx.expect(await ctx.adapter.getDeadLetter(ctx.queue, newer.id)).toBeUndefined();
      await worker.stop({ graceMs: 0 });
      const strict = startWorker(ctx, (w) => w.handle(v2, (p) => void handled.push(p)), { unknownVersionWindowMs: 0 });
      await strict.start();
      const dead = await deadLetterOf(ctx, newer.id);
      ctx.expect(dead.reason).toBe('unknown-version');
      ctx.expect(handled).toHaveLength(1);
      ctx.expect(old.id).not.toBe(newer.id);
    },
  },
  {
    id: 'worker.delay-hop',
    group: 'Worker',
    title: 'a delay beyond the native maximum hops through the core: not run early, not counted as attempts',
    slow: 2,
    async run(ctx) {
      const caps = ctx.adapter.capabilities;
      const nativeMax = caps.maxDelayMs > 0 ? Math.max(1_000, shortLease(ctx.timing, caps)) : 0;
      const hopping = withCapabilities(ctx.adapter, { maxDelayMs: nativeMax });
      const delay = caps.maxDelayMs > 0 ? nativeMax * 2 + 500 : Math.max(2_000, shortLease(ctx.timing, caps));
      const job = defineJob({ type: 'conformance.later', schema: itemSchema });
      const runs: Array<{ at: number; attempt: number }> = [];
      const worker = createWorker({
        adapter: hopping,
        queue: ctx.queue,
        pollMs: ctx.timing.pollMs,
        leaseMs: longLease(ctx.timing, caps),
      });
      worker.handle(job, (_p, c) => void runs.push({ at: Date.now(), attempt: c.attempt }));
      ctx.defer(() => worker.stop({ graceMs: 0 }));
      const sentAt = Date.now();
      await createQueue({ adapter: hopping, queue: ctx.queue }).enqueue(job, { n: 7 }, { delayMs: delay });
      await worker.start();
      await eventually(
        ctx,
        'the delayed job to run',
        async () => (runs.length > 0 ? true : undefined),
        delay + ctx.timing.deadlineMs * 2,
      );
      ctx.expect((runs[0]?.at ?? 0) - sentAt, 'ran before its delay').toBeGreaterThanOrEqual(delay - ctx.timing.toleranceMs);
      ctx.expect(runs[0]?.attempt, 'hops must not count as attempts').toBe(1);
      await drained(ctx);
      ctx.expect(runs).toHaveLength(1);
    },
  },
  {
    id: 'worker.timeout',
    group: 'Worker',
    title: 'a handler past its timeout is aborted and retried',
    async run(ctx) {
      const job = defineJob({
        type: 'conformance.slow',
        schema: itemSchema,
        timeoutMs: 200,
        retry: { ...FAST_RETRY, maxAttempts: 3 },
      });
      const reasons: string[] = [];
      const attempts: number[] = [];
      const worker = startWorker(ctx, (w) =>
        w.handle(job, async (_p, c) => {
          attempts.push(c.attempt);
          if (c.attempt > 1) return;
          await new Promise<void>((resolve) => c.signal.addEventListener('abort', () => resolve(), { once: true }));
          reasons.push((c.signal.reason as { code?: string })?.code ?? 'none');
        }),
      );
      await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueue(job, { n: 8 });
      await worker.start();
      await eventually(ctx, 'the timed-out job to be retried', async () => (attempts.length > 1 ? true : undefined));
      await drained(ctx);
      ctx
        .expect(reasons, say(`worker on queue ${ctx.queue}`, 'aborts the first attempt with TIMEOUT', show(reasons)))
        .toEqual(['TIMEOUT']);
      ctx
        .expect(attempts, say(`worker on queue ${ctx.queue}`, 'retries a timed-out job once and it succeeds', show(attempts)))
        .toEqual([1, 2]);
      ctx.expect(await ctx.inspector.deadCount(ctx.queue)).toBe(0);
    },
  },
  {
    id: 'worker.graceful-stop',
    group: 'Worker',
    title: 'on stop, handlers finishing within the grace period are acked; the others are released and come back at once',
    async run(ctx) {
      const caps = ctx.adapter.capabilities;
      const lease = longLease(ctx.timing, caps);
      const quick = defineJob({ type: 'conformance.quick', schema: itemSchema });
      const stuck = defineJob({ type: 'conformance.stuck', schema: itemSchema });
      let started = 0;
      const worker = startWorker(
        ctx,
        (w) => {
          w.handle(quick, async () => {
            started++;
            await new Promise((r) => setTimeout(r, 150));
          });
          w.handle(stuck, async () => {
            started++;
            await new Promise(() => {});
          });
        },
        { leaseMs: lease },
      );
      const producer = createQueue({ adapter: ctx.adapter, queue: ctx.queue });
      await producer.enqueue(quick, { n: 1 });
      const stuckJob = await producer.enqueue(stuck, { n: 2 });
      await worker.start();
      await eventually(ctx, 'both handlers to start', async () => (started === 2 ? true : undefined));
      const stopAt = Date.now();
      await worker.stop({ graceMs: 600 });
      const stopTook = since(stopAt);
      ctx.expect(stopTook).toBeGreaterThanOrEqual(550);
      ctx.expect(worker.running).toBe(false);
      const back = await receiveOne(ctx, { leaseMs: lease, deadlineMs: ctx.timing.deadlineMs });
      ctx.expect(back.id).toBe(stuckJob.id);
      const backAfter = since(stopAt);
      ctx
        .expect(
          backAfter,
          say(
            `receive after worker.stop({ graceMs: 600 }) on queue ${ctx.queue}`,
            `the unfinished job is released at the end of the grace period and comes back within 600 + promptMs + pollMs + toleranceMs = ${600 + promptly(ctx.timing) + ctx.timing.toleranceMs} ms, not after its ${lease} ms lease`,
            `${backAfter} ms (stop() returned after ${stopTook} ms)`,
          ),
        )
        .toBeLessThanOrEqual(600 + promptly(ctx.timing) + ctx.timing.toleranceMs);
      await ctx.adapter.ack(ctx.queue, back.handle);
      ctx.expect(await ctx.inspector.liveCount(ctx.queue), 'the finished job must have been acked').toBe(0);
    },
  },
  {
    id: 'worker.mixed-load',
    group: 'Worker',
    title:
      'under healthy, flaky and poison jobs with concurrency, completed + dead-lettered = enqueued and every healthy job completes',
    slow: 2,
    async run(ctx) {
      const job = defineJob({ type: 'conformance.mixed', schema: itemSchema, retry: { ...FAST_RETRY, maxAttempts: 3 } });
      const completed = new Map<number, number>();
      const workers = [0, 1].map(() =>
        startWorker(
          ctx,
          (w) =>
            w.handle(job, (p, c) => {
              if (p.tag === 'poison') throw new Error('poison');
              if (p.tag === 'flaky' && c.attempt === 1) throw new Error('flaky');
              completed.set(p.n, (completed.get(p.n) ?? 0) + 1);
            }),
          { concurrency: 8 },
        ),
      );
      const payloads = Array.from({ length: 60 }, (_, n) => ({
        n,
        ...(n % 20 === 3 ? { tag: 'poison' } : n % 7 === 0 ? { tag: 'flaky' } : {}),
      }));
      const poison = payloads.filter((p) => p.tag === 'poison').length;
      await createQueue({ adapter: ctx.adapter, queue: ctx.queue }).enqueueMany(job, payloads);
      await Promise.all(workers.map((w) => w.start()));
      await eventually(
        ctx,
        'every job completed or dead-lettered',
        async () => (completed.size + (await ctx.inspector.deadCount(ctx.queue)) >= payloads.length ? true : undefined),
        ctx.timing.deadlineMs * 4,
      );
      await drained(ctx);
      ctx.expect(await ctx.inspector.deadCount(ctx.queue)).toBe(poison);
      ctx.expect(completed.size + poison).toBe(payloads.length);
      for (const p of payloads)
        if (p.tag !== 'poison') ctx.expect(completed.get(p.n), `healthy job ${p.n}`).toBeGreaterThanOrEqual(1);
    },
  },
];
