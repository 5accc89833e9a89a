import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob, encodeEnvelope, type WorkerEvent } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';

// The marker is written out by hand (not with encodeDeadLetterMark): it is the wire format
// `bgctl move --dead` sends, and what a worker of any version meets.
const MARK = 'bg-dead-letter';
const job = defineJob({ type: 'mark.job', schema: z.object({ n: z.number() }), retry: { maxAttempts: 3, baseMs: 5 } });
const body = (id: string) =>
  encodeEnvelope({ bg: 1, id, type: 'mark.job', v: 1, payload: { n: 1 }, createdAt: '2026-01-01T00:00:00.000Z' });
const ID = '0193a6c0-0000-7000-8000-0000000000aa';
const RECORD = {
  v: 1,
  reason: 'permanent-error',
  attempts: 4,
  enqueuedAt: 1_700_000_000_000,
  deadLetteredAt: 1_700_000_100_000,
  error: { message: 'card declined', name: 'PaymentError', code: 'E_DECLINED' },
};

describe('worker: a delivery marked bg-dead-letter (a dead letter in transit) is dead-lettered, never run', () => {
  it('dead-letters it with the recorded reason, attempts, error and timestamps; a replay of it then runs', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-marked';
    await adapter.ensureQueue(queue);
    const runs: string[] = [];
    const events: WorkerEvent[] = [];
    const worker = createWorker({ adapter, queue, pollMs: 20, onEvent: (e) => events.push(e) });
    worker.handle(job, async (_payload, ctx) => {
      runs.push(ctx.jobId);
    });
    await adapter.send(queue, [
      { id: ID, body: body(ID), attributes: { 'bg-type': 'mark.job', [MARK]: JSON.stringify(RECORD) } },
    ]);
    await worker.start();
    try {
      await until(
        'the marked job to be dead-lettered or run',
        async () => runs.length > 0 || (await adapter.stats(queue)).dead > 0,
      );
      expect(runs, 'handler runs of a job marked bg-dead-letter (a dead letter in transit must never run)').toEqual([]);
      const dead = await adapter.getDeadLetter(queue, ID);
      expect(dead, 'the dead letter written for the marked delivery').toMatchObject({
        id: ID,
        body: body(ID),
        reason: 'permanent-error',
        attempts: 4,
        enqueuedAt: RECORD.enqueuedAt,
        deadLetteredAt: RECORD.deadLetteredAt,
        error: RECORD.error,
      });
      expect(dead?.attributes, 'the record keeps the job attributes but not the marker').toEqual({ 'bg-type': 'mark.job' });
      expect(await adapter.stats(queue), 'nothing left in the live queue').toMatchObject({ ready: 0, inFlight: 0, dead: 1 });
      expect(events.find((e) => e.type === 'dead-lettered')).toMatchObject({ jobId: ID, reason: 'permanent-error' });

      // Replayed through the core API, it is a job again: it runs once.
      expect(await createQueue({ adapter, queue }).deadLetters.replay(ID), 'replay found it').toBe(true);
      await until('the replayed job to run', () => runs.length > 0);
      await until('the replayed job to be acked', async () => (await adapter.stats(queue)).ready === 0);
      expect(runs, 'the replay ran once').toEqual([ID]);
      expect((await adapter.stats(queue)).dead, 'the replay is not dead-lettered again').toBe(0);
    } finally {
      await worker.stop();
    }
  });

  const bad: Array<[string, string]> = [
    ['not JSON', '{oops'],
    ['an unknown reason', JSON.stringify({ ...RECORD, reason: 'whatever' })],
    ['code', 'require("child_process").exec("rm -rf /")'],
  ];
  for (const [what, value] of bad) {
    it(`a marker that is ${what} is dead-lettered malformed-envelope, never run`, async () => {
      const adapter = inTestAdapter();
      const queue = 'q-bad-mark';
      await adapter.ensureQueue(queue);
      let runs = 0;
      const worker = createWorker({ adapter, queue, pollMs: 20 });
      worker.handle(job, () => {
        runs++;
      });
      await adapter.send(queue, [{ id: ID, body: body(ID), attributes: { 'bg-type': 'mark.job', [MARK]: value } }]);
      await worker.start();
      try {
        await until('the job to be dead-lettered or run', async () => runs > 0 || (await adapter.stats(queue)).dead > 0);
        expect(runs, `handler runs of a job whose bg-dead-letter marker is ${what}`).toBe(0);
        const dead = await adapter.getDeadLetter(queue, ID);
        expect(dead).toMatchObject({ reason: 'malformed-envelope', attempts: 1 });
        expect(dead?.error?.message).toMatch(/bg-dead-letter attribute .*cannot be read/);
        expect(dead?.attributes, 'the record does not keep the marker').toEqual({ 'bg-type': 'mark.job' });
      } finally {
        await worker.stop();
      }
    });
  }

  it('a producer cannot set the marker: enqueue takes no attributes, and meta stays in the envelope', async () => {
    const adapter = inTestAdapter();
    const queue = 'q-producer';
    const jobs = createQueue({ adapter, queue });
    await expect(
      jobs.enqueue(job, { n: 1 }, { attributes: { [MARK]: JSON.stringify(RECORD) } } as never),
      'enqueue with an `attributes` option',
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const { id } = await jobs.enqueue(job, { n: 2 }, { meta: { [MARK]: JSON.stringify(RECORD) } });
    let ran = 0;
    const worker = createWorker({ adapter, queue, pollMs: 20 });
    worker.handle(job, () => {
      ran++;
    });
    await worker.start();
    try {
      await until('the job with a bg-dead-letter meta key to run', () => ran > 0);
      expect((await adapter.stats(queue)).dead, `job ${id} was not dead-lettered`).toBe(0);
    } finally {
      await worker.stop();
    }
  });
});
