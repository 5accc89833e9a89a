import { createQueue, defineJob, isBgError, type QueueStats } from '@bg/core';
import type { CaseContext, ConformanceCase } from '../case.js';
import { describeError, eventually, message, receiveCount, say, show, uniqueQueueName, watchQuiet } from '../helpers.js';
import { longLease } from '../timing.js';

/** A job with a trivial schema (Standard Schema by hand: the suite needs no schema library). */
const keyedJob = defineJob({
  type: 'conformance.keyed',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'bg-conformance',
      validate: (value: unknown) => ({ value: value as { n: number } }),
    },
  },
});

/**
 * A queue this adapter has used and another adapter instance (another process) deleted: a send
 * must fail with `QUEUE_NOT_FOUND`, or store the job where a receive finds it (a backend that
 * creates queues on demand). A success that stores it where no receive looks (an adapter that
 * trusts its cache and writes a stream without its consumer group) loses the job.
 */
async function sendAfterDeleteElsewhere(ctx: CaseContext, lease: number): Promise<void> {
  const { adapter, expect } = ctx;
  const gone = await ctx.newQueue();
  ctx.defer(async () => {
    await adapter.deleteQueue?.(gone);
  });
  await adapter.send(gone, [message('before the delete')]); // this adapter has seen the queue
  const other = await ctx.newAdapter();
  expect(await other.deleteQueue?.(gone), `deleteQueue("${gone}") through another adapter instance`).toBe(true);
  const after = message('after a delete elsewhere');
  const call = `send(${after.id}) on queue ${gone}, which another adapter instance deleted after this one used it`;
  let sendError: unknown;
  try {
    await adapter.send(gone, [after]);
  } catch (error) {
    sendError = error;
  }
  if (sendError !== undefined) {
    expect(isBgError(sendError, 'QUEUE_NOT_FOUND'), say(call, 'fails with QUEUE_NOT_FOUND', describeError(sendError))).toBe(true);
    return;
  }
  let receiveError: unknown;
  const got = await receiveCount(ctx, 1, { adapter: await ctx.newAdapter(), queue: gone, leaseMs: lease }).catch(
    (error: unknown) => {
      receiveError = error;
      return [];
    },
  );
  expect(
    got.map((m) => m.id),
    say(
      call,
      'succeeded, so a receive (through a fresh adapter instance) must find the job; a job stored where no receive looks is lost',
      receiveError === undefined ? show(got.map((m) => m.id)) : `receive failed: ${describeError(receiveError)}`,
    ),
  ).toContain(after.id);
}

/** The counts the contract allows: a non-negative integer, or `null` (unknown) — nothing else. */
function checkCount(ctx: CaseContext, stats: QueueStats, field: keyof QueueStats): void {
  const value = stats[field];
  if (field === 'total' && value === undefined) return;
  ctx
    .expect(
      value === null || (typeof value === 'number' && Number.isInteger(value) && value >= 0),
      `stats().${field} must be an integer ≥ 0 or null (unknown), got ${JSON.stringify(value)}`,
    )
    .toBe(true);
}

/** Whether known counts agree with `live` jobs stored (`delayed` of them delayed, `leased` leased). */
function statsMatch(stats: QueueStats, want: { ready: number; inFlight: number; delayed: number; dead: number }): boolean {
  const parts = [
    [stats.ready, want.ready],
    [stats.inFlight, want.inFlight],
    [stats.delayed, want.delayed],
    [stats.dead, want.dead],
  ] as const;
  if (!parts.every(([got, expected]) => got === null || got === expected)) return false;
  const live = want.ready + want.inFlight + want.delayed;
  return stats.total === undefined || stats.total === null || stats.total === live;
}

/** `listQueues()` answers its names sorted (code-unit order, as `Array.prototype.sort` does). */
function expectSortedQueues(ctx: CaseContext, listed: readonly string[]): void {
  const sorted = [...listed].sort();
  const at = listed.findIndex((name, i) => name !== sorted[i]);
  ctx
    .expect(
      at,
      say(
        'listQueues()',
        'answers the queue names sorted',
        at < 0 ? 'sorted' : `${show(listed[at])} at position ${at}, where ${show(sorted[at])} belongs`,
      ),
    )
    .toBe(-1);
}

/** A queue name of this run that was never created. */
function missingQueueName(ctx: CaseContext): string {
  return uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'missing');
}

/**
 * Fills `queue` with what `deleteQueue` must remove: a ready job, a leased one and a dead letter
 * (whose job was sent with a deduplication key when the backend deduplicates). Returns that key.
 */
async function fillDoomedQueue(ctx: CaseContext, queue: string, lease: number): Promise<string | undefined> {
  const { adapter, expect } = ctx;
  const key = adapter.capabilities.deduplication ? `doomed-key-${Math.random().toString(36).slice(2, 8)}` : undefined;
  const toDie = message('doomed dead letter', key === undefined ? {} : { deduplicationKey: key });
  await adapter.send(queue, [toDie, message('doomed leased'), message('doomed ready')]);
  const leased = await receiveCount(ctx, 2, { queue, leaseMs: lease });
  const dying = leased.find((m) => m.id === toDie.id) ?? (await receiveCount(ctx, 1, { queue, leaseMs: lease }))[0];
  expect(dying?.id, say(`receive on queue ${queue}`, `delivers ${toDie.id}`, show(dying?.id))).toBe(toDie.id);
  if (dying) {
    await adapter.deadLetter(queue, dying, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack(queue, dying.handle);
  }
  await eventually(ctx, `the dead letter of ${toDie.id} on queue ${queue}`, async () =>
    (await ctx.inspector.deadCount(queue)) === 1 ? true : undefined,
  );
  return key;
}

/**
 * Honest semantics and queue management: deduplication is either done (a duplicate answers
 * with the stored job's id) or reported as not done; counts a backend cannot know are `null`,
 * never a made-up 0; the optional queue operations do what they say.
 */
export const honestQueueCases: readonly ConformanceCase[] = [
  {
    id: 'honesty.deduplication',
    group: 'Honest semantics',
    title:
      'an idempotency key is honoured (one job stored; the duplicate answers with its id) or the enqueue says "unsupported" and stores both',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const jobs = createQueue({ adapter, queue, missingQueue: 'fail' });
      const first = await jobs.enqueue(keyedJob, { n: 1 }, { idempotencyKey: 'same-key' });
      const second = await jobs.enqueue(keyedJob, { n: 2 }, { idempotencyKey: 'same-key' });
      const plain = await jobs.enqueue(keyedJob, { n: 3 });
      expect(plain.deduplication, 'enqueue without a key').toBe('none');
      if (adapter.capabilities.deduplication) {
        expect(first, 'first enqueue with a key').toMatchObject({ duplicate: false, deduplication: 'honoured' });
        expect(second.duplicate, 'second enqueue with the same key is a duplicate').toBe(true);
        expect(second.id, 'a duplicate answers with the STORED job id, not a new one').toBe(first.id);
        expect(second.deduplication).toBe('honoured');
        const got = await receiveCount(ctx, 2, { leaseMs: lease });
        expect(got.map((m) => m.id).sort(), 'delivered: the first keyed job and the plain one').toEqual(
          [first.id, plain.id].sort(),
        );
        expect(await watchQuiet(ctx, timing.quietMs, { leaseMs: lease }), 'the duplicate was delivered too').toEqual([]);
      } else {
        for (const r of [first, second]) {
          expect(r, 'enqueue with a key on a backend that does not deduplicate').toMatchObject({
            duplicate: false,
            deduplication: 'unsupported',
          });
        }
        expect(second.id, 'both jobs are stored under their own ids').not.toBe(first.id);
        const got = await receiveCount(ctx, 3, { leaseMs: lease });
        expect(got.map((m) => m.id).sort(), 'every job is stored (nothing dropped silently)').toEqual(
          [first.id, second.id, plain.id].sort(),
        );
      }
    },
  },
  {
    id: 'honesty.stats',
    group: 'Honest semantics',
    title: 'stats() reports each count exactly or as null (unknown), never a made-up 0',
    async run(ctx) {
      const { adapter, queue, expect, timing } = ctx;
      const lease = longLease(timing, adapter.capabilities);
      const canDelay = adapter.capabilities.maxDelayMs >= 60_000;
      await adapter.send(queue, [message('leased'), message('ready')]);
      if (canDelay) await adapter.send(queue, [message('delayed', { delayMs: 60_000 })]);
      const [leased] = await receiveCount(ctx, 1, { leaseMs: lease });
      expect(leased, 'one job received').toBeDefined();
      const want = { ready: 1, inFlight: 1, delayed: canDelay ? 1 : 0, dead: 0 };
      let last: QueueStats | undefined;
      await eventually(ctx, `stats of ${queue} to match ${JSON.stringify(want)} (null allowed)`, async () => {
        last = await adapter.stats(queue);
        return statsMatch(last, want) ? true : undefined;
      }).catch((error: unknown) => {
        throw new Error(`${String(error)}; last stats: ${JSON.stringify(last)}`);
      });
      const stats = last as QueueStats;
      for (const field of ['ready', 'inFlight', 'delayed', 'dead', 'total'] as const) checkCount(ctx, stats, field);
      expect(stats.dead, 'dead letters are always countable through listDeadLetters').not.toBeNull();
    },
  },
  {
    id: 'queues.exists-list-delete',
    group: 'Queue management',
    title:
      'queueExists, listQueues and deleteQueue (where implemented) see and remove exactly the named queue, jobs and dead letters included, and nothing of a queue whose name extends it; listQueues is sorted and lists no dead-letter store',
    async run(ctx) {
      const { adapter, queue, expect } = ctx;
      const missing = missingQueueName(ctx);
      if (adapter.queueExists) {
        expect(await adapter.queueExists(queue), `queueExists("${queue}") after ensureQueue`).toBe(true);
        expect(await adapter.queueExists(missing), `queueExists("${missing}") of a queue never created`).toBe(false);
      }
      if (adapter.listQueues) {
        const listed = await adapter.listQueues();
        expect(listed, 'listQueues() includes an ensured queue').toContain(queue);
        expect(listed, 'listQueues() omits a queue never created').not.toContain(missing);
        expectSortedQueues(ctx, listed);
      }
      if (adapter.deleteQueue) {
        // Fresh names only, never created again here: real SQS and Azure Storage refuse a deleted
        // queue's name for a while (queues.recreate-same-name is the case that reuses one).
        const doomed = uniqueQueueName(ctx.options.queuePrefix ?? 'conf', 'doomed', 40);
        const sibling = `${doomed}-b`; // its name extends the doomed one: a delete by prefix takes it too
        await adapter.ensureQueue(doomed);
        await adapter.ensureQueue(sibling);
        ctx.defer(async () => {
          await adapter.deleteQueue?.(sibling);
          await adapter.deleteQueue?.(doomed);
        });
        const lease = longLease(ctx.timing, adapter.capabilities);
        const kept = message('kept on the sibling queue');
        await adapter.send(sibling, [kept]);
        // A live job, a leased one and a dead letter: deleteQueue removes a queue holding all of it.
        await fillDoomedQueue(ctx, doomed, lease);
        if (adapter.listQueues) {
          // The doomed queue now has a dead letter, so its dead-letter store exists wherever it lives.
          const listed = await adapter.listQueues();
          const helpers = listed.filter((name) => name.includes(doomed) && name !== doomed && name !== sibling);
          expect(
            helpers,
            say(
              `listQueues() while queue ${doomed} holds a job, a leased job and a dead letter`,
              'lists bg queues only: no dead-letter store or other helper resource of a queue',
              show(helpers),
            ),
          ).toEqual([]);
          expect(
            [doomed, sibling].filter((name) => !listed.includes(name)),
            say('listQueues()', `includes ${doomed} and ${sibling}`),
          ).toEqual([]);
          expectSortedQueues(ctx, listed);
        }
        expect(await adapter.deleteQueue(doomed), `deleteQueue("${doomed}") of an existing queue`).toBe(true);
        if (adapter.queueExists) expect(await adapter.queueExists(doomed), 'queueExists after deleteQueue').toBe(false);
        if (adapter.listQueues) expect(await adapter.listQueues(), 'listQueues after deleteQueue').not.toContain(doomed);
        expect(await adapter.deleteQueue(doomed), 'deleteQueue of a queue already deleted').toBe(false);
        expect(await adapter.queueExists?.(queue), 'the other queue is untouched').not.toBe(false);
        const untouched = `queue ${sibling}, whose name extends the deleted ${doomed}`;
        expect(await adapter.queueExists?.(sibling), say(`queueExists on ${untouched}`, 'is still true')).not.toBe(false);
        if (adapter.listQueues) expect(await adapter.listQueues(), `listQueues() still lists ${untouched}`).toContain(sibling);
        const got = await receiveCount(ctx, 1, { queue: sibling, leaseMs: lease });
        expect(
          got.map((m) => m.id),
          say(`receive on ${untouched}`, `still delivers its job ${kept.id}`, show(got.map((m) => m.id))),
        ).toEqual([kept.id]);
      }
    },
  },
  {
    id: 'queues.recreate-same-name',
    group: 'Queue management',
    title:
      'a queue deleted with deleteQueue and created again under the same name is new: no jobs, dead letters or deduplication keys of the old one; a send to a queue another adapter instance deleted fails with QUEUE_NOT_FOUND or stores a job a receive finds',
    skip: (o) =>
      o.deletedQueueNamesReusable === false
        ? 'the backend refuses a deleted queue’s name for a while (deletedQueueNamesReusable: false)'
        : undefined,
    async run(ctx) {
      const { adapter, expect } = ctx;
      if (!adapter.deleteQueue) return;
      const doomed = await ctx.newQueue();
      ctx.defer(async () => {
        await adapter.deleteQueue?.(doomed);
      });
      const lease = longLease(ctx.timing, adapter.capabilities);
      // A live job, a leased one and a dead letter (and a deduplication key): deleteQueue removes all of it.
      const key = await fillDoomedQueue(ctx, doomed, lease);
      expect(await adapter.deleteQueue(doomed), `deleteQueue("${doomed}") of an existing queue`).toBe(true);
      // The same name again is a new, empty queue: no old jobs, dead letters or deduplication keys.
      let lastError: unknown;
      await eventually(
        ctx,
        `ensureQueue("${doomed}") to succeed after deleteQueue (a backend may need a moment to free the name)`,
        async () => {
          try {
            await adapter.ensureQueue(doomed);
            return true;
          } catch (error) {
            lastError = error;
            return undefined;
          }
        },
      ).catch((error: unknown) => {
        throw new Error(
          `${String(error)}; last error: ${describeError(lastError)}. A backend that refuses a deleted queue's name for a while ` +
            '(real SQS for 60 s, real Azure Storage while the queue is being deleted) says so with the suite option ' +
            'deletedQueueNamesReusable: false, which skips this case',
        );
      });
      const recreated = `queue ${doomed} deleted by deleteQueue and created again with ensureQueue`;
      const dead = await adapter.listDeadLetters(doomed);
      expect(
        dead.items.map((d) => d.id),
        say(`listDeadLetters on ${recreated}`, 'lists no dead letter of the deleted queue', show(dead.items.map((d) => d.id))),
      ).toEqual([]);
      const stats = await adapter.stats(doomed);
      expect(
        statsMatch(stats, { ready: 0, inFlight: 0, delayed: 0, dead: 0 }),
        say(`stats on ${recreated}`, 'every count is 0 (or null: unknown)', JSON.stringify(stats)),
      ).toBe(true);
      expect(
        (await watchQuiet(ctx, ctx.timing.pollMs, { queue: doomed, leaseMs: lease })).map((m) => m.id),
        say(`receive on ${recreated}`, 'delivers no job of the deleted queue'),
      ).toEqual([]);
      if (key !== undefined) {
        const again = message('same key, new queue', { deduplicationKey: key });
        const [result] = await adapter.send(doomed, [again]);
        expect(
          result,
          say(
            `send(${again.id}, key ${key}) on ${recreated}`,
            'the deleted queue’s deduplication keys are gone: not a duplicate',
            show(result),
          ),
        ).toEqual({ id: again.id, duplicate: false });
      }
      await sendAfterDeleteElsewhere(ctx, lease);
    },
  },
  {
    id: 'queues.missing-queue-policy',
    group: 'Queue management',
    title: "missingQueue: 'fail' never creates a queue and names the missing one; 'create' creates it",
    async run(ctx) {
      const { adapter, expect } = ctx;
      const missing = missingQueueName(ctx);
      ctx.defer(async () => {
        await adapter.deleteQueue?.(missing);
      });
      if (adapter.queueExists) {
        let error: unknown;
        try {
          await createQueue({ adapter, queue: missing, missingQueue: 'fail' }).enqueue(keyedJob, { n: 1 });
        } catch (caught) {
          error = caught;
        }
        expect(isBgError(error, 'QUEUE_NOT_FOUND'), `enqueue into a missing queue with 'fail': ${String(error)}`).toBe(true);
        expect(String((error as Error).message), 'the error names the queue').toContain(`"${missing}"`);
        expect(await adapter.queueExists(missing), "missingQueue: 'fail' created nothing").toBe(false);
      }
      const result = await createQueue({ adapter, queue: missing }).enqueue(keyedJob, { n: 2 });
      expect(result.id, "enqueue with the default missingQueue: 'create'").toBeTruthy();
      if (adapter.queueExists) expect(await adapter.queueExists(missing), 'the queue was created').toBe(true);
    },
  },
];
