import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Adapter, createQueue, createWorker, decodeEnvelope, defineJob, encodeEnvelope, isBgError } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';

const job = defineJob({ type: 'demo.job', schema: z.object({ name: z.string() }) });

function setup(caps: Parameters<typeof inTestAdapter>[0] = {}) {
  const adapter = inTestAdapter(caps);
  const inspect = adapter;
  return { adapter, inspect, jobs: createQueue({ adapter, queue: 'jobs' }) };
}

async function errorCode(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    return isBgError(error) ? error.code : `not a BgError: ${String(error)}`;
  }
  return undefined;
}

describe('createQueue / enqueue', () => {
  it('writes a valid envelope with the current version and a UUIDv7 id', async () => {
    const { adapter, jobs } = setup();
    const { id, duplicate } = await jobs.enqueue(job, { name: 'a' }, { meta: { tenant: 't1' } });
    expect(duplicate).toBe(false);
    const [m] = await adapter.receive('jobs', { max: 1, leaseMs: 1_000 });
    const env = decodeEnvelope(m?.body ?? '');
    expect(env).toMatchObject({ bg: 1, id, type: 'demo.job', v: 1, payload: { name: 'a' }, meta: { tenant: 't1' } });
    expect(m?.attributes['bg-type']).toBe('demo.job');
  });

  it('bad input is a typed error and nothing reaches the queue', async () => {
    const { jobs, inspect } = setup();
    expect(await errorCode(jobs.enqueue(job, { name: 1 } as never))).toBe('INVALID_PAYLOAD');
    expect(await errorCode(jobs.enqueue(job, { name: 'a', when: new Date() } as never))).toBe('INVALID_PAYLOAD');
    expect(await errorCode(jobs.enqueue(job, { name: 'a' }, { delayMs: -5 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(jobs.enqueue({ type: 'fake' } as never, { name: 'a' } as never))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(jobs.enqueueMany(job, [{ name: 'ok' }, { name: 2 } as never]))).toBe('INVALID_PAYLOAD');
    expect(await inspect.liveCount('jobs')).toBe(0);
  });

  it('checks the adapter size limit before sending', async () => {
    const { jobs, inspect } = setup({ maxPayloadBytes: 200 });
    expect(await errorCode(jobs.enqueue(job, { name: 'x'.repeat(300) }))).toBe('PAYLOAD_TOO_LARGE');
    expect(await inspect.liveCount('jobs')).toBe(0);
  });

  it('hops delays longer than the native maximum through notBefore', async () => {
    const { adapter, jobs } = setup({ maxDelayMs: 1_000 });
    const now = Date.now();
    await jobs.enqueue(job, { name: 'late' }, { delayMs: 60_000 });
    const stats = await adapter.stats('jobs');
    expect(stats.delayed).toBe(1);
    const [stored] = adapter.stored('jobs');
    expect(stored?.visibleAt).toBeLessThanOrEqual(now + 1_000 + 50);
    const env = decodeEnvelope(stored?.body ?? '');
    expect(Date.parse(env.notBefore ?? '')).toBeGreaterThanOrEqual(now + 60_000);
  });

  it('short delays and runAt use the native delay without notBefore', async () => {
    const { adapter, jobs } = setup();
    await jobs.enqueue(job, { name: 'soon' }, { runAt: new Date(Date.now() + 500) });
    const [stored] = adapter.stored('jobs');
    expect(decodeEnvelope(stored?.body ?? '').notBefore).toBeUndefined();
    expect((await adapter.stats('jobs')).delayed).toBe(1);
    expect(await errorCode(jobs.enqueue(job, { name: 'x' }, { runAt: new Date(Number.NaN) }))).toBe('INVALID_ARGUMENT');
  });

  it('a duplicate answers with the stored job id and says deduplication is honoured', async () => {
    const { jobs } = setup();
    const a = await jobs.enqueue(job, { name: 'a' }, { idempotencyKey: 'k' });
    const b = await jobs.enqueue(job, { name: 'b' }, { idempotencyKey: 'k' });
    expect(a).toMatchObject({ duplicate: false, deduplication: 'honoured' });
    expect(b, 'the duplicate of a').toEqual({ id: a.id, duplicate: true, deduplication: 'honoured' });
    expect((await jobs.enqueue(job, { name: 'c' })).deduplication).toBe('none');
  });

  it("missingQueue: 'fail' names the missing queue and creates nothing; 'create' (default) creates it", async () => {
    const adapter = inTestAdapter();
    const strict = createQueue({ adapter, queue: 'orders', missingQueue: 'fail' });
    let error: unknown;
    try {
      await strict.enqueue(job, { name: 'a' });
    } catch (caught) {
      error = caught;
    }
    expect(isBgError(error, 'QUEUE_NOT_FOUND'), String(error)).toBe(true);
    expect((error as Error).message).toContain('queue "orders" does not exist on in-test');
    expect((error as { retryable: boolean }).retryable).toBe(false);
    expect(await adapter.queueExists('orders')).toBe(false);
    await createQueue({ adapter, queue: 'orders' }).enqueue(job, { name: 'a' });
    expect(await adapter.listQueues()).toEqual(['orders']);
    await strict.enqueue(job, { name: 'b' });
    expect((await adapter.stats('orders')).ready).toBe(2);
    expect(() => createQueue({ adapter, queue: 'orders', missingQueue: 'maybe' as never })).toThrow(/missingQueue/);
  });

  it("a worker with missingQueue: 'fail' does not start on a missing queue", async () => {
    const adapter = inTestAdapter();
    const worker = createWorker({ adapter, queue: 'absent', missingQueue: 'fail' });
    let error: unknown;
    try {
      await worker.start();
    } catch (caught) {
      error = caught;
    }
    expect(isBgError(error, 'QUEUE_NOT_FOUND'), String(error)).toBe(true);
    expect(worker.running).toBe(false);
    expect(await adapter.queueExists('absent')).toBe(false);
  });

  it('idempotency keys deduplicate where the adapter can', async () => {
    const { jobs, inspect } = setup();
    const a = await jobs.enqueue(job, { name: 'a' }, { idempotencyKey: 'k1' });
    const b = await jobs.enqueue(job, { name: 'a' }, { idempotencyKey: 'k1' });
    expect(a.duplicate).toBe(false);
    expect(b.duplicate).toBe(true);
    expect(await inspect.liveCount('jobs')).toBe(1);
  });

  it('enqueueMany sends in batches of maxBatchSize, results in order', async () => {
    const { adapter, jobs } = setup({ maxBatchSize: 3 });
    let calls = 0;
    const counting: Adapter = {
      ...adapter,
      send: (q, m) => {
        calls++;
        return adapter.send(q, m);
      },
    };
    const results = await createQueue({ adapter: counting, queue: 'jobs' }).enqueueMany(
      job,
      Array.from({ length: 7 }, (_, i) => ({ name: `n${i}` })),
    );
    expect(results).toHaveLength(7);
    expect(calls).toBe(3);
    expect(await jobs.enqueueMany(job, [])).toEqual([]);
  });

  it('enqueueMany writes each job the envelope enqueue would (ids, time, shared options), checked once per call', async () => {
    let clock = Date.parse('2026-11-30T10:00:00.000Z');
    const adapter = inTestAdapter({ maxDelayMs: 60_000 });
    const jobs = createQueue({ adapter, queue: 'jobs', now: () => clock++ });
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
    const meta = { tenant: 't1' };
    const results = await jobs.enqueueMany(job, [{ name: 'a' }, { name: 'b' }, { name: 'c' }], { trace, meta });
    const bodies = adapter.stored('jobs').map((m) => m.body);
    expect(bodies).toHaveLength(3);
    bodies.forEach((body, i) => {
      const envelope = decodeEnvelope(body);
      // Byte for byte what encodeEnvelope writes, fields in the stored order.
      expect(body).toBe(encodeEnvelope(envelope));
      expect(Object.keys(envelope)).toEqual(['bg', 'id', 'type', 'v', 'payload', 'createdAt', 'trace', 'meta']);
      expect(envelope).toMatchObject({ id: results[i]?.id, payload: { name: ['a', 'b', 'c'][i] }, trace, meta });
      // The id's millisecond is the envelope's createdAt.
      const id = envelope.id.replace('-', '');
      expect(Number.parseInt(id.slice(0, 12), 16)).toBe(Date.parse(envelope.createdAt));
    });
    // A bad shared option is the same typed error as before, and nothing is sent.
    expect(await errorCode(jobs.enqueueMany(job, [{ name: 'x' }], { meta: { tenant: 5 as unknown as string } }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await errorCode(jobs.enqueue(job, { name: 'x' }, { idempotencyKey: '' }))).toBe('INVALID_ARGUMENT');
    expect(await errorCode(jobs.enqueue(job, { name: 'x' }, { id: 'not-a-uuid' }))).toBe('INVALID_ARGUMENT');
    // A clock past what an envelope can store (year 10000) is explained, not written.
    const farOff = createQueue({ adapter, queue: 'jobs', now: () => Date.parse('+010000-01-01T00:00:00.000Z') });
    expect(await errorCode(farOff.enqueueMany(job, [{ name: 'x' }]))).toBe('INVALID_ARGUMENT');
    // A bad payload is still reported before a bad option.
    expect(await errorCode(jobs.enqueueMany(job, [{ name: 1 } as never], { meta: { a: 1 as unknown as string } }))).toBe(
      'INVALID_PAYLOAD',
    );
    // Long delays still hop through notBefore (encoded whole), with the shared options.
    await jobs.enqueueMany(job, [{ name: 'late' }], { delayMs: 120_000, meta });
    const late = decodeEnvelope(adapter.stored('jobs').at(-1)?.body ?? '');
    expect(Object.keys(late)).toEqual(['bg', 'id', 'type', 'v', 'payload', 'createdAt', 'notBefore', 'meta']);
    expect(adapter.stored('jobs')).toHaveLength(4);
  });

  it('a job definition changed after its first enqueue is written as it is now', async () => {
    const { adapter, jobs } = setup();
    const mutable = defineJob({ type: 'demo.first', schema: z.object({ name: z.string() }) });
    await jobs.enqueue(mutable, { name: 'a' });
    (mutable as { type: string }).type = 'demo.second';
    await jobs.enqueueMany(mutable, [{ name: 'b' }]);
    expect(adapter.stored('jobs').map((m) => decodeEnvelope(m.body).type)).toEqual(['demo.first', 'demo.second']);
  });

  it('refuses adapters of another contract version and bad queue names', () => {
    const { adapter } = setup();
    expect(() => createQueue({ adapter: { ...adapter, contractVersion: 2 as never } })).toThrow(
      expect.objectContaining({ code: 'CONTRACT_MISMATCH' }),
    );
    expect(() => createQueue({ adapter, queue: 'Bad Name' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => createQueue({ adapter, queue: 'under_score' })).toThrow(/lowercase/);
  });

  it('dead letters: list, all, show, replay, purge', async () => {
    const { adapter, jobs } = setup();
    const { id } = await jobs.enqueue(job, { name: 'dl' });
    const [m] = await adapter.receive('jobs', { max: 1, leaseMs: 1_000 });
    if (!m) throw new Error('no message');
    await adapter.deadLetter('jobs', m, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack('jobs', m.handle);
    const all = [];
    for await (const d of jobs.deadLetters.all()) all.push(d.id);
    expect(all).toEqual([id]);
    expect((await jobs.deadLetters.show(id))?.reason).toBe('manual');
    expect(await jobs.deadLetters.replay(id)).toBe(true);
    expect((await jobs.stats()).ready).toBe(1);
    expect(await jobs.deadLetters.purge()).toBe(0);
  });
});
