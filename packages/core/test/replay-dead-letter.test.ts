import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createQueue, createWorker, defineJob, encodeEnvelope, replayDeadLetter } from '../src/index.js';
import { inTestAdapter } from './support/in-test-adapter.js';
import { until } from './support/until.js';

// A dead letter that still bears the marker: what a backend's own redrive (SQS, Pub/Sub) stores
// when it sets aside a dead letter in transit (`bgctl move --dead`) before a worker saw it.
const MARK = 'bg-dead-letter';
const job = defineJob({ type: 'replay.job', schema: z.object({ n: z.number() }) });
const ID = '0193a6c0-0000-7000-8000-0000000000bb';
const BODY = encodeEnvelope({
  bg: 1,
  id: ID,
  type: 'replay.job',
  v: 1,
  payload: { n: 1 },
  createdAt: '2026-01-01T00:00:00.000Z',
});
const RECORD = JSON.stringify({ v: 1, reason: 'max-attempts', attempts: 5, deadLetteredAt: 1_700_000_100_000 });
const INFO = { reason: 'max-attempts', attempts: 5, deadLetteredAt: 1_700_000_100_000 } as const;

/** A queue holding one dead letter of {@link ID} with the given attributes, set aside as a backend would. */
async function withDeadLetter(queue: string, attributes: Record<string, string>) {
  const adapter = inTestAdapter();
  await adapter.ensureQueue(queue);
  await adapter.send(queue, [{ id: ID, body: BODY, attributes }]);
  const [m] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 });
  if (!m) throw new Error('the seeded job was not received');
  await adapter.deadLetter(queue, m, INFO);
  await adapter.ack(queue, m.handle);
  return adapter;
}

describe('replayDeadLetter: a replayed dead letter runs', () => {
  it.each([
    [
      'createQueue().deadLetters.replay(id)',
      (a: ReturnType<typeof inTestAdapter>, q: string) => createQueue({ adapter: a, queue: q }).deadLetters.replay(ID),
    ],
    ['replayDeadLetter(adapter, queue, id)', (a: ReturnType<typeof inTestAdapter>, q: string) => replayDeadLetter(a, q, ID)],
    [
      'replayDeadLetter(adapter, queue, deadLetter)',
      async (a: ReturnType<typeof inTestAdapter>, q: string) => {
        const dead = await a.getDeadLetter(q, ID);
        if (!dead) throw new Error('no dead letter to replay');
        return replayDeadLetter(a, q, dead);
      },
    ],
  ])(
    '%s of a dead letter still bearing the bg-dead-letter marker drops it: the job runs once, nothing is dead-lettered again',
    async (_name, replay) => {
      const queue = 'q-replay-marked';
      const adapter = await withDeadLetter(queue, { 'bg-type': 'replay.job', [MARK]: RECORD });
      const runs: string[] = [];
      const worker = createWorker({ adapter, queue, pollMs: 20 });
      worker.handle(job, async (_payload, ctx) => {
        runs.push(ctx.jobId);
      });
      expect(await replay(adapter, queue), 'replay of a marked dead letter: found').toBe(true);
      expect(await adapter.stats(queue), 'after the replay: live again, no dead letter').toMatchObject({ ready: 1, dead: 0 });
      await worker.start();
      try {
        await until(
          'the replayed job to run or be dead-lettered again',
          async () => runs.length > 0 || (await adapter.stats(queue)).dead > 0,
        );
      } finally {
        await worker.stop();
      }
      expect(runs, 'handler runs of the replayed job (the marker must not survive a replay)').toEqual([ID]);
      expect(await adapter.stats(queue), 'after the run').toMatchObject({ ready: 0, inFlight: 0, dead: 0 });
    },
  );

  it('a dead letter without the marker is replayed by the adapter with its attributes as they were', async () => {
    const queue = 'q-replay-plain';
    const adapter = await withDeadLetter(queue, { 'bg-type': 'replay.job', 'x-tenant': 't1' });
    expect(await replayDeadLetter(adapter, queue, ID), 'replay: found').toBe(true);
    const [back] = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 0 });
    expect(back, 'the replayed message: same id, body, attributes, a fresh delivery count').toMatchObject({
      id: ID,
      body: BODY,
      attributes: { 'bg-type': 'replay.job', 'x-tenant': 't1' },
      deliveryCount: 1,
    });
  });

  it('false, and nothing sent, for an id with no dead letter or a record purged since it was read', async () => {
    const queue = 'q-replay-gone';
    const adapter = await withDeadLetter(queue, { 'bg-type': 'replay.job', [MARK]: RECORD });
    const dead = await adapter.getDeadLetter(queue, ID);
    if (!dead) throw new Error('no dead letter');
    expect(await replayDeadLetter(adapter, queue, '0193a6c0-0000-7000-8000-0000000000cc'), 'replay of an unknown id').toBe(false);
    await adapter.purgeDeadLetters(queue, [ID]);
    expect(await replayDeadLetter(adapter, queue, dead), 'replay of a marked record purged since it was read').toBe(false);
    expect(await adapter.stats(queue), 'nothing sent to the live queue').toMatchObject({ ready: 0, dead: 0 });
  });
});
