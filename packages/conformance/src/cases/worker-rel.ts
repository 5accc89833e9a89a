import { randomUUID } from 'node:crypto';
import { type Adapter, createQueue, createWorker, type DeadLetter, defineJob, isBgError, type WorkerEvent } from '@bg/core';
import type { ConformanceCase } from '../case.js';
import { eventually, expectBgError, receiveOne, uniqueQueueName } from '../helpers.js';
import { longLease } from '../timing.js';
import { withCapabilities } from '../with-capabilities.js';

/** A Standard Schema accepting `{ s: string }`, without depending on a validator library. */
const textSchema = {
  '~standard': {
    version: 1 as const,
    vendor: 'bg-conformance',
    types: undefined as unknown as { input: { s: string }; output: { s: string } },
    validate: (value: unknown) =>
      typeof value === 'object' && value !== null && typeof (value as { s?: unknown }).s === 'string'
        ? { value: value as { s: string } }
        : { issues: [{ message: 'expected { s: string }' }] },
  },
};

/** The longest a delay-park case parks at once (ms): whole seconds, as SQS, Azure and Pub/Sub count them. */
const PARK_MS = 1_000;

/** A manifest cap the park case tests against when the backend has none of its own. */
const PRETEND_CAP = 3;

/** Above this cap the park case needs {@link ConformanceOptions.lowDeliveryCapAdapter} to run in seconds. */
const MAX_CAP_WITHOUT_HOOK = 10;

/** The body `createQueue().enqueue` writes for `payload`, caught on its way to `send` (nothing is sent). */
async function encodedBody(adapter: Adapter, queue: string, now: number, id: string, s: string): Promise<string> {
  let body: string | undefined;
  const probe: Adapter = {
    ...withCapabilities(adapter, { maxPayloadBytes: Number.MAX_SAFE_INTEGER }),
    send: async (_queue, messages) => {
      body = messages[0]?.body;
      throw new Error('probe: not sent');
    },
  };
  await createQueue({ adapter: probe, queue, now: () => now })
    .enqueue(job, { s }, { id })
    .catch(() => undefined);
  if (body === undefined) throw new Error('conformance: the probe did not see the encoded envelope');
  return body;
}

const job = defineJob({ type: 'conformance.sized', schema: textSchema });

/** Size agreement, long delays and dead-letter counts (issue 16). */
export const reliabilityCases: readonly ConformanceCase[] = [
  {
    id: 'limits.enqueue-max-payload',
    group: 'Limits and errors',
    title:
      'a job encoding to exactly maxPayloadBytes is accepted by enqueue and stored; one byte more is PAYLOAD_TOO_LARGE and nothing is sent',
    slow: 2,
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const max = adapter.capabilities.maxPayloadBytes;
      const now = Date.now();
      const id = randomUUID();
      const empty = Buffer.byteLength(await encodedBody(adapter, queue, now, id, ''));
      expect(empty, `an empty job encodes to ${empty} bytes, more than maxPayloadBytes ${max}`).toBeLessThan(max);
      const jobs = createQueue({ adapter, queue, now: () => now });
      // One byte more than the declared maximum: refused by the core, nothing stored.
      const over = 'x'.repeat(max - empty + 1);
      await expectBgError(
        ctx,
        `enqueue of a job encoding to ${max + 1} bytes`,
        jobs.enqueue(job, { s: over }, { id: randomUUID() }),
        'PAYLOAD_TOO_LARGE',
        false,
        'a job one byte over maxPayloadBytes is refused before anything is sent',
      );
      expect(await ctx.inspector.liveCount(queue), 'a refused enqueue stored something').toBe(0);
      // Exactly the declared maximum: accepted by the core and by the adapter, stored whole.
      const exact = 'x'.repeat(max - empty);
      expect(Buffer.byteLength(await encodedBody(adapter, queue, now, id, exact)), 'the probe body').toBe(max);
      try {
        await jobs.enqueue(job, { s: exact }, { id });
      } catch (error) {
        const detail = isBgError(error) ? `${error.code}: ${error.message}` : String(error);
        throw new Error(`enqueue of a job encoding to exactly maxPayloadBytes (${max}) must be accepted, got ${detail}`);
      }
      const got = await receiveOne(ctx, { leaseMs: longLease(timing, adapter.capabilities), deadlineMs: timing.deadlineMs * 2 });
      expect(got.id, 'the stored job id').toBe(id);
      expect(Buffer.byteLength(got.body), 'the stored body bytes').toBe(max);
      await adapter.ack(queue, got.handle);
    },
  },
  {
    id: 'worker.delay-parks-past-native-cap',
    group: 'Worker',
    title:
      'a delay needing more parks than the backend lets a message be delivered runs once, as attempt 1, and is never dead-lettered',
    slow: 3,
    skip: (o) =>
      (o.capabilities.maxDeliveries ?? 0) > MAX_CAP_WITHOUT_HOOK && !o.lowDeliveryCapAdapter
        ? `the backend dead-letters after ${o.capabilities.maxDeliveries} deliveries: give lowDeliveryCapAdapter to run this in seconds`
        : undefined,
    async run(ctx) {
      let base = ctx.adapter;
      let queue = ctx.queue;
      if ((ctx.adapter.capabilities.maxDeliveries ?? 0) > MAX_CAP_WITHOUT_HOOK && ctx.options.lowDeliveryCapAdapter) {
        base = await ctx.options.lowDeliveryCapAdapter();
        ctx.defer(() => base.close());
        queue = uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'delay-parks');
        await base.ensureQueue(queue);
      }
      const cap = base.capabilities.maxDeliveries ?? PRETEND_CAP;
      ctx.expect(cap, `maxDeliveries ${cap} is too high to park past it in seconds`).toBeLessThanOrEqual(MAX_CAP_WITHOUT_HOOK);
      // No native delay, parks of at most a second: the delay below takes 2 × (cap + 2) parks
      // (fewer when the backend redelivers late, as a loaded emulator does).
      const parking = withCapabilities(base, { maxDelayMs: 0, maxReleaseDelayMs: PARK_MS, maxDeliveries: cap });
      const delay = 2 * PARK_MS * (cap + 2) + 500;
      const runs: Array<{ at: number; attempt: number }> = [];
      const events: WorkerEvent[] = [];
      const worker = createWorker({
        adapter: parking,
        queue,
        pollMs: ctx.timing.pollMs,
        leaseMs: longLease(ctx.timing, base.capabilities),
        onEvent: (e) => events.push(e),
      });
      worker.handle(job, (_p, c) => void runs.push({ at: Date.now(), attempt: c.attempt }));
      ctx.defer(() => worker.stop({ graceMs: 0 }));
      const sentAt = Date.now();
      const { id } = await createQueue({ adapter: parking, queue }).enqueue(job, { s: 'later' }, { delayMs: delay });
      await worker.start();
      await eventually(
        ctx,
        `the job delayed ${delay} ms to run (or be dead-lettered)`,
        async () => (runs.length > 0 || events.some((e) => e.type === 'dead-lettered') ? true : undefined),
        delay + ctx.timing.deadlineMs * 3,
      );
      const dead: DeadLetter | undefined = await base.getDeadLetter(queue, id);
      ctx.expect(dead?.reason, 'a parked delay was dead-lettered (the backend ran out of deliveries)').toBeUndefined();
      ctx.expect(runs, 'the delayed job did not run').toHaveLength(1);
      ctx.expect((runs[0]?.at ?? 0) - sentAt, 'ran before its delay').toBeGreaterThanOrEqual(delay - ctx.timing.toleranceMs);
      ctx.expect(runs[0]?.attempt, 'parks and re-sends must not count as attempts').toBe(1);
      const counts = events.flatMap((e) => (e.type === 'received' ? [e.deliveryCount] : []));
      ctx
        .expect(Math.max(...counts), `delivery counts ${counts.join(',')}: parks must re-send before the cap of ${cap}`)
        .toBeLessThan(cap);
      // Re-sent as a new message while parked: more early deliveries than the highest count
      // (without a re-send, k early deliveries end with a delivery counted k + 1).
      const parks = events.filter((e) => e.type === 'deferred' && e.why === 'not-before').length;
      ctx
        .expect(
          parks,
          `delivery counts ${counts.join(',')}: ${parks} early deliveries in ${delay} ms never re-sent the job (the backend redelivered too rarely for the case to prove anything)`,
        )
        .toBeGreaterThanOrEqual(Math.max(...counts));
      await eventually(
        ctx,
        'the live queue to be empty',
        async () => ((await ctx.inspector.liveCount(queue)) === 0 ? true : undefined),
        ctx.timing.deadlineMs * 2,
      );
      ctx.expect(runs, 'the job ran again after it succeeded').toHaveLength(1);
      ctx.expect((await base.stats(queue)).dead, 'dead letters after a parked delay').toBe(0);
    },
  },
  {
    id: 'dead-letters.counted-once',
    group: 'Dead letters',
    title:
      'a job dead-lettered twice (a crash between the dead-letter write and the ack) is listed once and counted once by stats().dead',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const { id } = await createQueue({ adapter, queue }).enqueue(job, { s: 'poison' });
      const got = await receiveOne(ctx, { leaseMs: longLease(timing, adapter.capabilities) });
      const info = { reason: 'permanent-error' as const, attempts: 1, error: { message: 'boom' } };
      await adapter.deadLetter(queue, got, { ...info, deadLetteredAt: Date.now() });
      // The worker crashed before its ack; the dead letter is written again.
      await adapter.deadLetter(queue, got, { ...info, deadLetteredAt: Date.now() + 1 });
      await adapter.ack(queue, got.handle);
      const listed: DeadLetter[] = [];
      for await (const d of createQueue({ adapter, queue }).deadLetters.all()) listed.push(d);
      expect(
        listed.map((d) => d.id),
        'dead-letter listing of a job written twice',
      ).toEqual([id]);
      expect((await adapter.getDeadLetter(queue, id))?.reason, 'getDeadLetter of the job').toBe('permanent-error');
      await eventually(ctx, 'stats().dead to count the job once', async () => {
        const dead = (await adapter.stats(queue)).dead;
        expect(dead, 'stats().dead of one job dead-lettered twice').toBeLessThanOrEqual(1);
        return dead === 1 ? true : undefined;
      });
    },
  },
];
