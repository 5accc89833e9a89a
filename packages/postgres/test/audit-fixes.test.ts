import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { isBgError } from '@bg/core';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter, schemaSql } from '../src/index.js';

const url = inject('pgUrl') as string;

const fresh = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A pool whose named statements can be watched (`done` emits the name when one resolves) and
 * delayed once (`before(name, fn)`: `fn` runs after the statement, before the adapter sees its rows).
 */
function tracedPool(): pg.Pool & { done: EventEmitter; before(prefix: string, fn: () => Promise<void>): void } {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
  const done = new EventEmitter();
  let hook: { prefix: string; fn: () => Promise<void> } | undefined;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  const traced = (...args: unknown[]): Promise<unknown> => {
    const name = (args[0] as { name?: unknown } | undefined)?.name;
    const result = query(...args);
    if (typeof name !== 'string') return result;
    const h = hook;
    if (h !== undefined && name.startsWith(h.prefix)) {
      hook = undefined;
      return result.then(async (r) => {
        await h.fn();
        done.emit('done', name);
        return r;
      });
    }
    return result.then((r) => {
      done.emit('done', name);
      return r;
    });
  };
  return Object.assign(pool, {
    query: traced as unknown as pg.Pool['query'],
    done,
    before(prefix: string, fn: () => Promise<void>) {
      hook = { prefix, fn };
    },
  });
}

/** Resolves when a statement whose name starts with `prefix` resolved on `pool`, then lets the adapter go on to its wait. */
async function statementDone(pool: ReturnType<typeof tracedPool>, prefix: string): Promise<void> {
  for (;;) {
    const [name] = (await once(pool.done, 'done')) as [string];
    if (name.startsWith(prefix)) break;
  }
  // The adapter's own awaits after the statement (raceAbort, the fallback choice) before it sleeps.
  await new Promise((r) => setTimeout(r, 50));
}

describe.skipIf(!url)('audit fixes: the PostgreSQL adapter (private PostgreSQL)', () => {
  const admin = new pg.Pool({ connectionString: url, max: 3 });
  admin.on('error', () => {});
  const opened: PostgresAdapter[] = [];
  const open = (options: Parameters<typeof postgresAdapter>[0]): PostgresAdapter => {
    const adapter = postgresAdapter(options);
    opened.push(adapter);
    return adapter;
  };
  const listenQuery = (schema: string): string => `listen "bg_${schema}"`;
  const listenerUp = async (schema: string): Promise<boolean> =>
    (await admin.query('select 1 from pg_stat_activity where query = $1', [listenQuery(schema)])).rowCount === 1;

  afterAll(async () => {
    await Promise.all(opened.map((a) => a.close()));
    await admin.end();
  });

  it('poolSize 1: the LISTEN of a long poll takes no pooled connection, so send, stats and receive still work', async () => {
    const a = open({ url, schema: 'afx', poolSize: 1, connectTimeoutMs: 2_000 });
    const queue = fresh('pool1');
    await a.ensureQueue(queue);
    const idle = await a.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 300 }).catch((e: unknown) => e);
    expect(idle, `an idle long poll on a pool of one: ${String(idle)}`).toEqual([]);
    const sent = await a.send(queue, [{ id: 'p1', body: '{}' }]).catch((e: unknown) => e);
    expect(sent, `send after a long poll on a pool of one (the LISTEN held the only connection): ${String(sent)}`).toEqual([
      { id: 'p1', duplicate: false },
    ]);
    expect((await a.stats(queue)).ready, 'stats after the send').toBe(1);
    const got = await a.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 1_000 });
    expect(
      got.map((m) => m.id),
      'receive after the send',
    ).toEqual(['p1']);
    expect(a.pool.totalCount, 'connections of the pool (the LISTEN connection is not one of them)').toBeLessThanOrEqual(1);
  });

  it('a waiter is woken when the LISTEN connection dies: a job sent then arrives within a second or two, not after pollIntervalMs', async () => {
    const schema = 'afx_listen';
    const pool = tracedPool();
    const consumer = open({ pool, schema, pollIntervalMs: 10_000 });
    const producer = open({ url, schema });
    const queue = fresh('listen');
    await consumer.ensureQueue(queue);
    await producer.ensureQueue(queue);
    await consumer.receive(queue, { max: 1, leaseMs: 1_000, waitMs: 50 });
    await waitFor('the LISTEN connection', () => listenerUp(schema));
    const waiting = statementDone(pool, `bg_next_${schema}`);
    const pending = consumer.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 20_000 });
    await waiting;
    const killed = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where query = $1', [
      listenQuery(schema),
    ]);
    expect(killed.rowCount, 'LISTEN backends terminated').toBe(1);
    await waitFor('the LISTEN backend to be gone', async () => !(await listenerUp(schema)));
    const sentAt = Date.now();
    await producer.send(queue, [{ id: 'wake-me', body: '{}' }]);
    const got = await pending;
    const took = Date.now() - sentAt;
    expect(
      got.map((m) => m.id),
      'the waiting receive',
    ).toEqual(['wake-me']);
    expect(took, `ms from the send to the delivery after the LISTEN connection died (pollIntervalMs 10 000)`).toBeLessThan(5_000);
    await pool.end().catch(() => {});
  });

  it('release with a delay notifies: a waiting receiver gets the job when the delay ends, not at its next poll', async () => {
    const schema = 'afx_rel';
    const pool = tracedPool();
    const waiter = open({ pool, schema, pollIntervalMs: 10_000 });
    const other = open({ url, schema });
    const queue = fresh('rel');
    await waiter.ensureQueue(queue);
    await other.ensureQueue(queue);
    await other.send(queue, [{ id: 'r1', body: '{}' }]);
    const [leased] = await other.receive(queue, { max: 1, leaseMs: 60_000 });
    expect(leased?.id, 'the job leased by the other adapter').toBe('r1');
    await waiter.receive(queue, { max: 1, leaseMs: 1_000, waitMs: 50 });
    await waitFor('the LISTEN connection', () => listenerUp(schema));
    const waiting = statementDone(pool, `bg_next_${schema}`);
    const pending = waiter.receive(queue, { max: 1, leaseMs: 5_000, waitMs: 15_000 });
    await waiting;
    const t0 = Date.now();
    await other.release(queue, leased?.handle as string, 300);
    const got = await pending;
    const took = Date.now() - t0;
    expect(
      got.map((m) => m.id),
      'the waiting receive',
    ).toEqual(['r1']);
    expect(took, 'ms from release(300) to the delivery to a waiter (pollIntervalMs 10 000)').toBeLessThan(4_000);
    expect(took, 'ms from release(300) to the delivery: not before the delay').toBeGreaterThanOrEqual(250);
    await pool.end().catch(() => {});
  });

  it('concurrent keyed sends with the same keys in opposite order never deadlock; a batch keeps its send order', async () => {
    const a = open({ url, schema: 'afx' });
    const b = open({ url, schema: 'afx' });
    const queue = fresh('dl');
    await a.ensureQueue(queue);
    const failures: string[] = [];
    for (let round = 0; round < 12; round++) {
      const keys = Array.from({ length: 200 }, (_, j) => `k${round}-${String(j).padStart(3, '0')}`);
      const batch = (ks: string[], p: string) => ks.map((k) => ({ id: `${p}-${k}`, body: '{}', deduplicationKey: k }));
      const results = await Promise.allSettled([a.send(queue, batch(keys, 'a')), b.send(queue, batch([...keys].reverse(), 'b'))]);
      for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason));
      if (results.every((r) => r.status === 'fulfilled')) {
        const [ra, rb] = results.map((r) => (r as PromiseFulfilledResult<{ id: string; duplicate: boolean }[]>).value);
        const stored = (ra ?? []).filter((r) => !r.duplicate).length + (rb ?? []).filter((r) => !r.duplicate).length;
        expect(stored, `round ${round}: messages stored out of two batches of the same 200 keys`).toBe(200);
      }
    }
    expect(failures.slice(0, 2), 'sends that failed (deadlocks)').toEqual([]);
    const ordered = fresh('order');
    await a.ensureQueue(ordered);
    const ids = ['z', 'm', 'a', 'q'].map((k) => `id-${k}`);
    await a.send(
      ordered,
      ids.map((id) => ({ id, body: '{}', deduplicationKey: `key-${id}` })),
    );
    const got = await a.receive(ordered, { max: 10, leaseMs: 5_000 });
    expect(
      got.map((m) => m.id),
      'a keyed batch is received in send order (not key order)',
    ).toEqual(ids);
  });

  it('a duplicate whose stored job completes during the send still names that job: the key outlives it (the window), and the id was stored', async () => {
    const pool = tracedPool();
    const a = open({ pool, schema: 'afx' });
    const queue = fresh('dedup');
    await a.ensureQueue(queue);
    await a.send(queue, [{ id: 'first', body: '{}', deduplicationKey: 'k' }]);
    // The first job completes (is acked) right after the second send's statement found its key taken.
    pool.before('bg_send', async () => {
      await admin.query('delete from afx.jobs where queue = $1 and id = $2', [queue, 'first']);
    });
    const [result] = await a.send(queue, [{ id: 'second', body: '{}', deduplicationKey: 'k' }]);
    expect(result, 'the result of a send whose first job completed in between').toEqual({ id: 'first', duplicate: true });
    const stored = (await admin.query<{ id: string }>('select id from afx.jobs where queue = $1', [queue])).rows.map((r) => r.id);
    expect(stored, 'stored jobs after the send (the duplicate stored nothing)').toEqual([]);
    await pool.end().catch(() => {});
  });

  it('close() right after ack() waits for the batched acks (with and without LISTEN): the acks resolve and the rows are gone', async () => {
    for (const warm of [false, true]) {
      const a = postgresAdapter({ url, schema: 'afx' });
      const queue = fresh('ackclose');
      await a.ensureQueue(queue);
      await a.send(queue, [
        { id: 'c1', body: '{}' },
        { id: 'c2', body: '{}' },
      ]);
      const got = await a.receive(queue, { max: 2, leaseMs: 60_000, waitMs: warm ? 10 : 0 });
      expect(got.length, 'jobs received').toBe(2);
      const acks = got.map((m) =>
        a.ack(queue, m.handle).then(
          () => 'ok',
          (e: { code?: string }) => String(e.code),
        ),
      );
      await a.close();
      const how = warm ? 'with LISTEN' : 'without LISTEN';
      expect(await Promise.all(acks), `acks made just before close() (${how})`).toEqual(['ok', 'ok']);
      const left = await admin.query('select 1 from afx.jobs where queue = $1', [queue]);
      expect(left.rowCount, `rows left after the acks and close() (${how})`).toBe(0);
    }
  });

  it('lease handles: a leading zero or a seq beyond bigint is INVALID_ARGUMENT, touches nothing and fails no other ack of the batch', async () => {
    const a = open({ url, schema: 'afx' });
    const queue = fresh('handles');
    await a.ensureQueue(queue);
    await a.send(queue, [
      { id: 'h1', body: '{}' },
      { id: 'h2', body: '{}' },
    ]);
    const [m1, m2] = await a.receive(queue, { max: 2, leaseMs: 30_000 });
    const [seq, token] = (m1?.handle ?? '').split(':');
    const padded = `0${seq}:${token}`;
    const huge = '9999999999999999999:1';
    for (const handle of [padded, huge, '1:01']) {
      for (const op of ['ack', 'extend', 'release'] as const) {
        const call =
          op === 'ack' ? a.ack(queue, handle) : op === 'extend' ? a.extend(queue, handle, 1_000) : a.release(queue, handle, 0);
        const error = await call.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isBgError(error, 'INVALID_ARGUMENT'), `${op}(${handle}): expected INVALID_ARGUMENT, got ${String(error)}`).toBe(
          true,
        );
        expect((error as { retryable?: boolean }).retryable, `${op}(${handle}).retryable`).toBe(false);
      }
    }
    expect(await a.stats(queue), 'the padded handle touched nothing').toMatchObject({ inFlight: 2 });
    const [bad, good] = await Promise.allSettled([a.ack(queue, huge), a.ack(queue, m2?.handle as string)]);
    expect(bad.status, 'ack with a seq beyond bigint').toBe('rejected');
    expect(good, 'an ack in the same batch as a bad handle').toEqual({ status: 'fulfilled', value: undefined });
    await a.ack(queue, m1?.handle as string);
    expect(await a.stats(queue), 'both jobs acked with their own handles').toMatchObject({ inFlight: 0, ready: 0 });
  });

  it('schema names PostgreSQL keeps for itself (pg_…, information_schema) are INVALID_ARGUMENT', () => {
    for (const schema of ['pg_bg', 'pg_catalog', 'information_schema']) {
      for (const [what, make] of [
        ['postgresAdapter', () => postgresAdapter({ url, schema })],
        ['schemaSql', () => schemaSql(schema)],
      ] as const) {
        let error: unknown;
        try {
          make();
        } catch (e) {
          error = e;
        }
        expect(isBgError(error, 'INVALID_ARGUMENT'), `${what} with schema ${schema}: got ${String(error)}`).toBe(true);
      }
    }
  });

  it('bad options are INVALID_ARGUMENT at construction, not retryable, naming the option; a url is parsed as fromUrl parses it', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ pollIntervalMs: 'fast' }, /pollIntervalMs.*"fast"/],
      [{ pollIntervalMs: 0 }, /pollIntervalMs.*0/],
      [{ pollIntervalMs: -5 }, /pollIntervalMs.*-5/],
      [{ maxPayloadBytes: Number.NaN }, /maxPayloadBytes.*NaN/],
      [{ maxPayloadBytes: '1000' }, /maxPayloadBytes.*"1000"/],
      [{ maxPayloadBytes: -1 }, /maxPayloadBytes/],
      [{ maxPayloadBytes: 0 }, /maxPayloadBytes/],
      [{ poolSize: 0 }, /poolSize.*0/],
      [{ poolSize: -3 }, /poolSize/],
      [{ poolSize: '2' }, /poolSize.*"2"/],
      [{ connectTimeoutMs: -1 }, /connectTimeoutMs/],
      [{ migrate: 'yes' }, /migrate.*"yes"/],
      [{ url: 42 }, /url.*42/],
      [{ url: 'mysql://bg@127.0.0.1:5432/bg' }, /scheme must be postgres/],
      [{ url: 'not a url' }, /not a valid URL/],
      [{ url: 'postgres://bg:pw-S3cret@127.0.0.1:99999/bg' }, /not a valid URL/],
      [{ url: 'postgres://bg@127.0.0.1:5432/bg?poolSize=0' }, /poolSize/],
      [{ url: undefined, pool: {} }, /pool/],
    ];
    for (const [bad, message] of cases) {
      let error: unknown;
      try {
        open({ url, schema: 'afx', ...bad });
      } catch (e) {
        error = e;
      }
      const shown = JSON.stringify(bad);
      expect(
        isBgError(error, 'INVALID_ARGUMENT'),
        `postgresAdapter(${shown}): expected INVALID_ARGUMENT, got ${String(error)}`,
      ).toBe(true);
      expect((error as { retryable?: boolean }).retryable, `postgresAdapter(${shown}).retryable`).toBe(false);
      expect(String(error), `postgresAdapter(${shown}) message`).toMatch(message);
      expect(`${String(error)} ${(error as Error).stack}`, `postgresAdapter(${shown}): no password shown`).not.toContain(
        'pw-S3cret',
      );
    }
    const fromParams = open({ url: `${url}?schema=afx_url&poolSize=3` });
    expect(fromParams.schema, 'the schema of ?schema= in options.url').toBe('afx_url');
  });
});
