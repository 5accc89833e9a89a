import { randomBytes } from 'node:crypto';
import { type BgError, isBgError } from '@bg/core';
import { encodeDeadLetterCursor } from '@bg/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter } from '../src/index.js';
import { entryChars, firstOfEachKey, statementRanges } from '../src/send-chunks.js';

// Round four of the outside review of the PostgreSQL adapter: statements the client gave up on
// that still committed, writers racing deleteQueue, values only the server refused, and a
// close() held by another process's migration.

const url = inject('pgUrl') as string;
const adapters: PostgresAdapter[] = [];
let admin: pg.Client;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
});
afterAll(async () => {
  await Promise.all(adapters.splice(0).map((a) => a.close()));
  await admin.end();
});

function track(adapter: PostgresAdapter): PostgresAdapter {
  adapters.push(adapter);
  return adapter;
}

const fresh = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

/** Resolves once `check` holds; fails naming `what` after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Whether a server backend waits for a lock in a statement that contains `text`. */
async function waitingOnLock(text: string): Promise<boolean> {
  const { rows } = await admin.query<{ n: string }>(
    "select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and position($1 in query) > 0 and pid <> pg_backend_pid()",
    [text],
  );
  return Number(rows[0]?.n) > 0;
}

/** Whether a server backend (not this test's) runs a statement that contains `text`. */
async function running(text: string): Promise<boolean> {
  const { rows } = await admin.query<{ n: string }>(
    "select count(*) as n from pg_stat_activity where state = 'active' and position($1 in query) > 0 and pid <> pg_backend_pid()",
    [text],
  );
  return Number(rows[0]?.n) > 0;
}

async function rejection(promise: Promise<unknown>): Promise<BgError | undefined> {
  try {
    await promise;
  } catch (error) {
    if (isBgError(error)) return error;
    throw error;
  }
  return undefined;
}

describe.skipIf(!url)('postgres adapter, outside review round four', () => {
  it('a receive the client gave up on (stuck behind a lock past queryTimeoutMs) leases nothing: the server rolled it back', async () => {
    // A schema of its own: the lock below must not stall the other test files.
    const schema = `audit4_lock_${randomBytes(3).toString('hex')}`;
    const adapter = track(postgresAdapter({ url, schema, queryTimeoutMs: 1_000 }));
    const queue = fresh('q');
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'job-1', body: 'one' }]);
    // Another session holds what CREATE INDEX takes on the table: receives wait behind it.
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query(`lock table "${schema}".jobs in share mode`);
      const failed = await rejection(adapter.receive(queue, { max: 10, leaseMs: 600_000 }));
      expect(
        failed && { code: failed.code, retryable: failed.retryable },
        'receive past queryTimeoutMs (1 s) behind a lock: a retryable error',
      ).toMatchObject({ retryable: true });
      await locker.query('commit');
    } finally {
      await locker.end();
    }
    // Whatever the server still ran of it has ended (committed, or cancelled and rolled back).
    await until('no statement of the schema running', async () => !(await running(`"${schema}".jobs`)));
    expect(
      await adapter.stats(queue),
      'after a receive the client gave up on: the job is ready, not leased to nobody for 10 minutes',
    ).toMatchObject({ ready: 1, inFlight: 0 });
    const [again] = await adapter.receive(queue, { max: 1, leaseMs: 1_000 });
    expect(again && { id: again.id, deliveryCount: again.deliveryCount }, 'the next receive: its first delivery').toEqual({
      id: 'job-1',
      deliveryCount: 1,
    });
    await adapter.deleteQueue(queue);
  });

  it('deleteQueue waits for a keyed send holding the queue, then deletes what it stored (no job left for a queue created later)', async () => {
    const adapter = track(postgresAdapter({ url }));
    const other = track(postgresAdapter({ url })); // another process: bgctl queue delete
    const queue = fresh('race-send');
    await adapter.ensureQueue(queue);
    // A gate: an uncommitted claim of the key holds the send after it took the queue's row.
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    try {
      await gate.query('begin');
      await gate.query("insert into bg.dedup (queue, key, id, expires_at) values ($1, 'k', 'gate', 0)", [queue]);
      const sent = adapter.send(queue, [{ id: 'sent', body: 'b', deduplicationKey: 'k' }]);
      await until('the send to wait for the gate', () => waitingOnLock('insert into "bg".dedup'));
      const deleted = other.deleteQueue(queue);
      await until('deleteQueue to wait for the send', () => waitingOnLock('delete from "bg".queues'));
      await gate.query('rollback');
      expect(await sent, 'the send, stored before the queue was deleted').toEqual([{ id: 'sent', duplicate: false }]);
      expect(await deleted, 'deleteQueue').toBe(true);
    } finally {
      await gate.end();
    }
    const { rows } = await admin.query(
      'select id from bg.jobs where queue = $1 union all select key from bg.dedup where queue = $1',
      [queue],
    );
    expect(rows, `rows of the deleted queue ${queue} left in jobs and dedup`).toEqual([]);
    await adapter.ensureQueue(queue);
    expect(await adapter.receive(queue, { max: 10, leaseMs: 1_000 }), 'a queue created later with the same name').toEqual([]);
    await adapter.deleteQueue(queue);
  });

  it('a replay racing deleteQueue leaves no job behind; a dead letter racing it leaves no dead letter either', async () => {
    const adapter = track(postgresAdapter({ url }));
    const other = track(postgresAdapter({ url }));
    const queue = fresh('race-dead');
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [
      { id: 'replayed', body: 'r' },
      { id: 'poison', body: 'p' },
    ]);
    const got = await adapter.receive(queue, { max: 2, leaseMs: 60_000 });
    const replayed = got.find((m) => m.id === 'replayed');
    const poison = got.find((m) => m.id === 'poison');
    if (!replayed || !poison) throw new Error(`receive gave ${got.map((m) => m.id).join(', ')}`);
    await adapter.deadLetter(queue, replayed, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() });
    await adapter.ack(queue, replayed.handle);

    // The replay holds the queue's row, then waits for the gate on its dead letter; deleteQueue
    // then waits for the replay; the dead letter, sent last, waits for deleteQueue.
    const gate = new pg.Client({ connectionString: url });
    await gate.connect();
    try {
      await gate.query('begin');
      await gate.query("select 1 from bg.dead where queue = $1 and id = 'replayed' for update", [queue]);
      const replay = adapter.replayDeadLetter(queue, 'replayed');
      await until('the replay to wait for the gate', () => waitingOnLock('delete from "bg".dead where queue = $1 and id = $2'));
      const deleted = other.deleteQueue(queue);
      await until('deleteQueue to wait for the replay', () => waitingOnLock('delete from "bg".queues'));
      // The dead letter comes in while deleteQueue is under way: it waits for it, or it is
      // written first and deleted with the rest; never left behind.
      let deadSettled = false;
      const dead = rejection(
        adapter.deadLetter(queue, poison, { reason: 'manual', attempts: 1, deadLetteredAt: Date.now() }),
      ).finally(() => {
        deadSettled = true;
      });
      await until('the dead letter to end or wait', async () => deadSettled || (await waitingOnLock('insert into "bg".dead')));
      await gate.query('commit');
      expect(await replay, 'the replay, done before the queue was deleted').toBe(true);
      expect(await deleted, 'deleteQueue').toBe(true);
      expect((await dead)?.code ?? 'stored', 'deadLetter racing deleteQueue: stored first, or LEASE_LOST after').toMatch(
        /^(stored|LEASE_LOST)$/,
      );
    } finally {
      await gate.end();
    }
    const { rows } = await admin.query(
      "select 'job ' || id as row from bg.jobs where queue = $1 union all select 'dead ' || id from bg.dead where queue = $1",
      [queue],
    );
    expect(rows, `rows of the deleted queue ${queue} left in jobs and dead`).toEqual([]);
  });

  it('job ids and cursors PostgreSQL text cannot keep are INVALID_ARGUMENT (never a retryable error, never another id)', async () => {
    const adapter = track(postgresAdapter({ url }));
    const queue = fresh('odd-ids');
    await adapter.ensureQueue(queue);
    for (const id of ['nul-\u0000-id', 'lone-\ud800-high', 'lone-\udc00-low']) {
      const failed = await rejection(
        adapter.send(queue, [
          { id: 'fine', body: 'f' },
          { id, body: 'b' },
        ]),
      );
      expect(failed && { code: failed.code, retryable: failed.retryable }, `send of job id ${JSON.stringify(id)}`).toEqual({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
      expect(await adapter.getDeadLetter(queue, id), `getDeadLetter(${JSON.stringify(id)})`).toBeUndefined();
      expect(await adapter.replayDeadLetter(queue, id), `replayDeadLetter(${JSON.stringify(id)})`).toBe(false);
      expect(await adapter.purgeDeadLetters(queue, [id]), `purgeDeadLetters([${JSON.stringify(id)}])`).toBe(0);
    }
    expect(await adapter.stats(queue), 'nothing of the refused batches was stored').toMatchObject({ ready: 0 });
    for (const [what, cursor] of [
      ['a fraction of a millisecond', encodeDeadLetterCursor({ deadLetteredAt: 1_700_000_000_000.5, id: 'x' })],
      ['an id with a NUL character', encodeDeadLetterCursor({ deadLetteredAt: 1, id: 'a\u0000b' })],
      ['a time past the safe integers', encodeDeadLetterCursor({ deadLetteredAt: 1e300, id: 'x' })],
    ] as const) {
      const failed = await rejection(adapter.listDeadLetters(queue, { cursor }));
      expect(failed && { code: failed.code, retryable: failed.retryable }, `listDeadLetters with a cursor of ${what}`).toEqual({
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
    }
    const huge = await rejection(adapter.listDeadLetters(queue, { limit: 1e19 }));
    expect(huge && { code: huge.code, retryable: huge.retryable }, 'listDeadLetters({ limit: 1e19 })').toEqual({
      code: 'INVALID_ARGUMENT',
      retryable: false,
    });
    await adapter.deleteQueue(queue);
  });

  it('close() ends at once while ensureQueue waits for another process holding the migration lock (ensureQueue is CLOSED)', async () => {
    const schema = `audit4_mig_${randomBytes(3).toString('hex')}`;
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('begin');
      // Another process migrating the schema (or stuck in it).
      await holder.query('select pg_advisory_xact_lock(hashtext($1))', [`bg-migrate:${schema}`]);
      const holderPid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
      const adapter = postgresAdapter({ url, schema });
      const ensured = rejection(adapter.ensureQueue(fresh('mig')));
      await until('ensureQueue to wait for the migration lock', async () => {
        const { rows } = await admin.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where pid <> $1 and pid <> pg_backend_pid() and position('advisory_xact_lock' in query) > 0",
          [holderPid],
        );
        return Number(rows[0]?.n) > 0;
      });
      const started = Date.now();
      const closed = await Promise.race([
        adapter.close().then(() => 'closed'),
        new Promise((r) => setTimeout(r, 5_000, 'still pending after 5 s')),
      ]);
      expect(closed, 'close() while another process holds the migration lock').toBe('closed');
      expect(Date.now() - started, 'close() took (ms)').toBeLessThan(2_000);
      expect((await ensured)?.code, 'the ensureQueue that waited').toBe('CLOSED');
    } finally {
      await holder.query('rollback');
      await holder.query(`drop schema if exists "${schema}" cascade`);
      await holder.end();
    }
  });

  it('a batch whose text would not fit one statement is sent in several, in one transaction, keys deduplicated across them', async () => {
    const adapter = track(postgresAdapter({ url }));
    const queue = fresh('split');
    await adapter.ensureQueue(queue);
    // 33 bodies of 1 MiB: past STATEMENT_CHARS as counted (each character may double when escaped), so split.
    const body = 'x'.repeat(1024 * 1024);
    const batch = Array.from({ length: 33 }, (_, i) => ({
      id: `big-${i}`,
      body,
      ...(i === 0 || i === 32 ? { deduplicationKey: 'same' } : {}),
    }));
    expect(
      statementRanges(batch.map((m) => entryChars(m.id, m.body, null))).length,
      'statements the batch needs',
    ).toBeGreaterThan(1);
    const results = await adapter.send(queue, batch);
    expect(results[0], 'the first entry of the key').toEqual({ id: 'big-0', duplicate: false });
    expect(results[32], 'the last entry, same key, in a later statement: a duplicate of the first').toEqual({
      id: 'big-0',
      duplicate: true,
    });
    expect(
      results.slice(1, 32).filter((r, i) => r.id !== `big-${i + 1}` || r.duplicate),
      'results of the entries without a key that are not their own',
    ).toEqual([]);
    expect(await adapter.stats(queue), 'stored: every entry but the duplicate').toMatchObject({ ready: 32 });
    const [one] = await adapter.receive(queue, { max: 1, leaseMs: 5_000 });
    expect(one?.body === body, `a received body is whole (${one?.body.length} characters)`).toBe(true);
    await adapter.deleteQueue(queue);
    // A split send whose queue is gone stores nothing at all (its transaction rolls back).
    const gone = await rejection(adapter.send(queue, batch.slice(0, 32)));
    expect(gone?.code, 'a split send to a deleted queue').toBe('QUEUE_NOT_FOUND');
    const { rows } = await admin.query('select count(*)::int as n from bg.jobs where queue = $1', [queue]);
    expect(rows[0]?.n, 'rows the failed split send left').toBe(0);
  });
});

describe('send statement ranges (pure)', () => {
  it('splits in order within the budget, an oversized entry alone, one range for none', () => {
    expect(statementRanges([], 10)).toEqual([[0, 0]]);
    expect(statementRanges([3, 3, 3], 10)).toEqual([[0, 3]]);
    expect(statementRanges([4, 4, 4, 4], 10)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(statementRanges([2, 30, 2], 10)).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    expect(entryChars('id', 'ab', null), 'twice the characters, and room for quotes and separators').toBe(2 * 4 + 16);
  });

  it('keeps the first entry of each key, and every entry without one, in order', () => {
    const m = (id: string, deduplicationKey?: string) => ({ id, ...(deduplicationKey ? { deduplicationKey } : {}) });
    expect(firstOfEachKey([m('a', 'k'), m('b'), m('c', 'k'), m('d', 'j'), m('e')]).map((x) => x.id)).toEqual([
      'a',
      'b',
      'd',
      'e',
    ]);
  });
});
