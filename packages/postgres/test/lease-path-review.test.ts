import { randomBytes } from 'node:crypto';
import { isBgError } from '@bg/core';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter } from '../src/index.js';

/**
 * The lease and ack path, after a review of 2026-12-03: each test failed on the code before its
 * fix (lease calls and receives on a queue another process deleted said LEASE_LOST or idled for
 * ever, a second ack sent while the first was unanswered said LEASE_LOST, an ack on the wrong
 * queue of a handle acked elsewhere resolved).
 */

const url = inject('pgUrl') as string;
const fresh = (p: string) => `${p}-${randomBytes(4).toString('hex')}`;
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => String((e as { code?: string }).code),
  );

/**
 * Holds back the answer of `pool`'s first `bg_ack` statement until `release()` (as a slow
 * network would); `laterAcks` counts the `bg_ack` statements sent after it, `laterAnswered`
 * resolves once the first of those is answered.
 */
function holdFirstAck(pool: pg.Pool) {
  let acks = 0;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let sent: () => void = () => {};
  const firstSent = new Promise<void>((resolve) => {
    sent = resolve;
  });
  let answered: () => void = () => {};
  const laterAnswered = new Promise<void>((resolve) => {
    answered = resolve;
  });
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: unknown }).query = (...args: unknown[]) => {
    const name = (args[0] as { name?: unknown } | undefined)?.name;
    const result = query(...args);
    if (typeof name !== 'string' || !name.startsWith('bg_ack')) return result;
    if (++acks > 1) return result.finally(answered);
    // The first ack's DELETE has committed once its answer is here: then hold it.
    return result.then(async (r) => {
      sent();
      await gate;
      return r;
    });
  };
  return { release, firstSent, laterAnswered, laterAcks: () => acks - 1 };
}

/** A pool of its own with {@link holdFirstAck}. */
function holdingPool() {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  return { pool, ...holdFirstAck(pool) };
}

describe.skipIf(!url)('@bg/postgres: the lease and ack path under review', () => {
  const opened: PostgresAdapter[] = [];
  const pools: pg.Pool[] = [];
  const open = (): PostgresAdapter => {
    const adapter = postgresAdapter({ url, schema: 'bgreview' });
    opened.push(adapter);
    return adapter;
  };
  afterAll(async () => {
    await Promise.all(opened.map((a) => a.close()));
    await Promise.all(pools.map((p) => p.end().catch(() => {})));
  });

  it('lease calls and receives (waiting or not) on a queue another process deleted are QUEUE_NOT_FOUND', async () => {
    const a = open();
    const b = open();
    const queue = fresh('gone');
    await a.ensureQueue(queue);
    await a.send(queue, [{ id: 'j1', body: '{}' }]);
    const [m1] = await a.receive(queue, { max: 1, leaseMs: 60_000 });
    expect(m1, 'the job leased before the delete').toBeDefined();
    const c = open();
    expect(await c.receive(queue, { max: 1, leaseMs: 1_000, waitMs: 0 }), 'receive (not waiting) before the delete').toEqual([]);
    expect(await b.deleteQueue(queue), 'deleteQueue() by the other adapter').toBe(true);
    const handle = m1?.handle as string;
    const outcomes = {
      ack: await codeOf(a.ack(queue, handle)),
      extend: await codeOf(a.extend(queue, handle, 10_000)),
      release: await codeOf(a.release(queue, handle, 0)),
      deadLetter: await codeOf(
        a.deadLetter(queue, m1 as NonNullable<typeof m1>, { reason: 'permanent-error', attempts: 1, deadLetteredAt: Date.now() }),
      ),
      // By a third adapter, whose only call on the queue is a receive: after a QUEUE_NOT_FOUND
      // an adapter forgets the queue (and checks it on every call).
      receiveNoWait: await codeOf(c.receive(queue, { max: 1, leaseMs: 1_000, waitMs: 0 })),
      receive: await codeOf(a.receive(queue, { max: 1, leaseMs: 1_000, waitMs: 200 })),
    };
    expect(outcomes, 'calls of the adapter that did not delete the queue').toEqual({
      ack: 'QUEUE_NOT_FOUND',
      extend: 'QUEUE_NOT_FOUND',
      release: 'QUEUE_NOT_FOUND',
      deadLetter: 'QUEUE_NOT_FOUND',
      receiveNoWait: 'QUEUE_NOT_FOUND',
      receive: 'QUEUE_NOT_FOUND',
    });
    expect(
      isBgError(await b.receive(queue, { max: 1, leaseMs: 1_000 }).catch((e) => e), 'QUEUE_NOT_FOUND'),
      'receive() of the adapter that deleted it',
    ).toBe(true);
  });

  it('a second ack sent while the first is unanswered resolves, as the first removed the job', async () => {
    const { pool, release, firstSent, laterAnswered, laterAcks } = holdingPool();
    pools.push(pool);
    const a = postgresAdapter({ pool, schema: 'bgreview' });
    opened.push(a);
    const queue = fresh('dbl');
    await a.ensureQueue(queue);
    await a.send(queue, [{ id: 'j1', body: '{}' }]);
    const [m] = await a.receive(queue, { max: 1, leaseMs: 60_000 });
    const handle = m?.handle as string;
    const first = codeOf(a.ack(queue, handle));
    await firstSent; // the row is deleted and committed; the answer is not read yet
    const second = codeOf(a.ack(queue, handle));
    // Its turn's flush: a second ack that goes to the database on its own is answered before the
    // first answer is read (one that waits for the first sends nothing).
    await new Promise((resolve) => setImmediate(resolve));
    if (laterAcks() > 0) await laterAnswered;
    release();
    expect(
      { first: await first, second: await second },
      'ack() twice of one handle, the second while the first is on its way',
    ).toEqual({
      first: 'ok',
      second: 'ok',
    });
  });

  it('an ack on another queue of a handle acked on its own queue is LEASE_LOST', async () => {
    const a = open();
    const qa = fresh('qa');
    const qb = fresh('qb');
    await a.ensureQueue(qa);
    await a.ensureQueue(qb);
    await a.send(qa, [{ id: 'a1', body: '{}' }]);
    await a.send(qb, [{ id: 'b1', body: '{}' }]);
    const [ma] = await a.receive(qa, { max: 1, leaseMs: 60_000 });
    await a.receive(qb, { max: 1, leaseMs: 60_000 });
    const handle = ma?.handle as string;
    const wrongFirst = await codeOf(a.ack(qb, handle));
    await a.ack(qa, handle);
    const wrongAfter = await codeOf(a.ack(qb, handle));
    expect({ wrongFirst, wrongAfter }, "ack(queue B, a handle of queue A), before and after A's own ack").toEqual({
      wrongFirst: 'LEASE_LOST',
      wrongAfter: 'LEASE_LOST',
    });
    expect(await a.stats(qb), 'queue B still holds its leased job').toMatchObject({ inFlight: 1 });
  });

  it('a row another transaction holds locked delays its own ack only, not the others of the batch', async () => {
    const a = open();
    const queue = fresh('locked');
    await a.ensureQueue(queue);
    await a.send(queue, [
      { id: 'free', body: '{}' },
      { id: 'held', body: '{}' },
    ]);
    const got = await a.receive(queue, { max: 2, leaseMs: 60_000 });
    const free = got.find((m) => m.id === 'free');
    const held = got.find((m) => m.id === 'held');
    expect([free?.id, held?.id], 'both jobs leased').toEqual(['free', 'held']);
    // An application's transaction locks the row of job "held" (select … for update).
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from bgreview.jobs where queue = $1 and id = $2 for update', [queue, 'held']);
      let heldAcked = false;
      const heldAck = a.ack(queue, held?.handle as string).then(() => {
        heldAcked = true;
      });
      // Same turn: both acks go in one batch.
      const freeAck = codeOf(a.ack(queue, free?.handle as string));
      const freeOutcome = await Promise.race([
        freeAck,
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3_000)),
      ]);
      expect(
        { free: freeOutcome, heldAcked },
        "ack() of two jobs in one turn while another transaction locks job 'held': 'free' is acked at once, 'held' waits",
      ).toEqual({ free: 'ok', heldAcked: false });
      await locker.query('commit');
      await heldAck;
      expect(await a.stats(queue), 'both rows deleted once the lock is gone').toMatchObject({ ready: 0, inFlight: 0 });
    } finally {
      await locker.query('rollback').catch(() => {});
      await locker.end();
    }
  });

  it('close() right after a second ack of a handle whose first ack is unanswered: both acks resolve', async () => {
    const a = open();
    const queue = fresh('closeack');
    await a.ensureQueue(queue);
    await a.send(queue, [{ id: 'j1', body: '{}' }]);
    const [m] = await a.receive(queue, { max: 1, leaseMs: 60_000 });
    const handle = m?.handle as string;
    const held = holdFirstAck(a.pool);
    const first = codeOf(a.ack(queue, handle));
    await held.firstSent; // the row is deleted and committed; the answer is held
    const second = codeOf(a.ack(queue, handle)); // made before close()
    const closed = a.close();
    await new Promise((resolve) => setImmediate(resolve));
    held.release();
    await closed;
    expect({ first: await first, second: await second }, 'ack() twice of one handle, then close()').toEqual({
      first: 'ok',
      second: 'ok',
    });
  });

  it('an ack made just before close() on a queue this adapter never checked is sent before the pool ends', async () => {
    const a = open();
    const queue = fresh('closeack2');
    await a.ensureQueue(queue);
    await a.send(queue, [{ id: 'j1', body: '{}' }]);
    const [m] = await a.receive(queue, { max: 1, leaseMs: 60_000 });
    // Another process's adapter (or this one's after a restart): it never looked at the queue.
    const b = postgresAdapter({ url, schema: 'bgreview' });
    const acked = codeOf(b.ack(queue, m?.handle as string));
    await b.close();
    expect(
      { outcome: await acked, stats: await a.stats(queue) },
      'ack() by a fresh adapter, then close() at once: the job is deleted',
    ).toEqual({ outcome: 'ok', stats: { ready: 0, inFlight: 0, delayed: 0, dead: 0 } });
  });
});
