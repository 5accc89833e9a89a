import { expectNoSecret } from '@bg/backends';
import {
  type Adapter,
  type BgError,
  createQueue,
  createWorker,
  isBgError,
  type JobContext,
  type OutgoingMessage,
} from '@bg/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectivelyOnce, type PostgresAdapter, postgresAdapter } from '../src/index.js';
import { createOutbox, outboxStats, startRelay } from '../src/outbox/index.js';
import { anyObjectJob, waitFor } from './support.js';

const url = inject('pgUrl') as string;
const passwordUrl = inject('pgPasswordUrl') as string;

const anyJob = anyObjectJob('audit3.any');

/** The error `fn` throws (or `undefined`). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** `code retryable=…` of a BgError, or what else it was. */
const described = (error: unknown): string =>
  isBgError(error) ? `${error.code} retryable=${error.retryable}` : `not a BgError: ${String(error)}`;

/** Resolves with `p`'s outcome, or `'pending'` after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([p, new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms).unref())]);
}

describe.skipIf(!url)('audit round three (private PostgreSQL)', () => {
  const db = new pg.Pool({ connectionString: url, max: 6 });
  db.on('error', () => {});
  let target: PostgresAdapter;

  /** Writes `n` jobs for `queue` in one committed transaction (all with `orderingKey` when given). */
  async function enqueueRows(schema: string, queue: string, n: number, orderingKey?: (i: number) => string): Promise<string[]> {
    const outbox = createOutbox({ schema, capabilities: { ...target.capabilities, ordering: true } });
    const tx = await db.connect();
    const ids: string[] = [];
    try {
      await tx.query('begin');
      for (let i = 0; i < n; i++) {
        const key = orderingKey?.(i);
        ids.push((await outbox.enqueue(anyJob, { n: i }, { tx, queue, ...(key ? { orderingKey: key } : {}) })).id);
      }
      await tx.query('commit');
    } finally {
      tx.release();
    }
    return ids;
  }

  beforeAll(async () => {
    for (const schema of ['ar3', 'ar3_h', 'ar3_k', 'ar3_m', 'ar3_p']) await postgresAdapter({ url, schema }).migrate();
    target = postgresAdapter({ url, schema: 'ar3' });
    await db.query('create table if not exists ar3.effects (job_id text)');
  });
  afterAll(async () => {
    await target.close();
    await db.end();
  });

  it('postgresAdapter({ url, pool }) is INVALID_ARGUMENT naming the conflict, without the password; so are poolSize/connectTimeoutMs with a pool and a misspelt option', () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const secretUrl = 'postgres://app:hunter2-secret@db.example:5432/app';
      const both = thrown(() => postgresAdapter({ url: secretUrl, pool }));
      expect(described(both), 'postgresAdapter({ url, pool })').toBe('INVALID_ARGUMENT retryable=false');
      expect(String(both), 'postgresAdapter({ url, pool }) message').toMatch(/url.*pool|pool.*url/);
      expectNoSecret(both, 'postgresAdapter({ url, pool })', ['hunter2-secret']);
      for (const extra of [{ poolSize: 3 }, { connectTimeoutMs: 1_000 }]) {
        const error = thrown(() => postgresAdapter({ pool, ...extra }));
        expect(described(error), `postgresAdapter({ pool, ${JSON.stringify(extra)} })`).toBe('INVALID_ARGUMENT retryable=false');
        expect(String(error), `postgresAdapter({ pool, ${JSON.stringify(extra)} }) message`).toContain(Object.keys(extra)[0]);
      }
      const misspelt = thrown(() => postgresAdapter({ url, pollInterval: 100 } as never));
      expect(described(misspelt), 'postgresAdapter({ url, pollInterval }) (pollIntervalMs misspelt)').toBe(
        'INVALID_ARGUMENT retryable=false',
      );
      expect(String(misspelt), 'the misspelt option is named').toContain('pollInterval');
    } finally {
      void pool.end();
    }
  });

  it('startRelay on a pool of one connection whose target queries through that same pool is INVALID_ARGUMENT at the call (it would hang); two connections forward', async () => {
    const one = new pg.Pool({ connectionString: url, max: 1 });
    one.on('error', () => {});
    const two = new pg.Pool({ connectionString: url, max: 2 });
    two.on('error', () => {});
    const sameOne = postgresAdapter({ pool: one, schema: 'ar3' });
    const sameTwo = postgresAdapter({ pool: two, schema: 'ar3' });
    try {
      const error = thrown(() => startRelay({ db: one, target: sameOne, schema: 'ar3_p' }));
      expect(described(error), 'startRelay({ db: pool of 1, target: adapter on that pool })').toBe(
        'INVALID_ARGUMENT retryable=false',
      );
      expect(String(error), 'the message names the pool size').toMatch(/max/);
      const [id] = await enqueueRows('ar3_p', 'pool-two', 1);
      const relay = startRelay({ db: two, target: sameTwo, schema: 'ar3_p', pollIntervalMs: 100 });
      try {
        await waitFor('the row to be forwarded through a shared pool of two', async () => relay.forwarded === 1);
        const stored = await db.query('select 1 from ar3.jobs where id = $1', [id]);
        expect(stored.rowCount, 'the job in the target').toBe(1);
        const second = thrown(() => startRelay({ db: two, target: sameTwo, schema: 'ar3_p' }));
        expect(described(second), 'a second relay on that pool of two (each round holds one)').toBe(
          'INVALID_ARGUMENT retryable=false',
        );
      } finally {
        await relay.stop();
      }
      const again = startRelay({ db: two, target: sameTwo, schema: 'ar3_p' });
      expect((await again.stop()).abandoned, 'a relay started on the pool once the first stopped').toEqual([]);
    } finally {
      await sameOne.close();
      await sameTwo.close();
      await one.end();
      await two.end();
    }
  });

  it('relay.stop() with a target.send that never settles resolves within graceMs, reports the abandoned rows, and leaves them for the next relay', async () => {
    const ids = await enqueueRows('ar3_h', 'hung', 3);
    let entered = false;
    const hung: Adapter = {
      ...target,
      name: 'hung',
      send: () => {
        entered = true;
        return new Promise<never>(() => {});
      },
    };
    const errors: BgError[] = [];
    const relay = startRelay({
      db,
      target: hung,
      schema: 'ar3_h',
      pollIntervalMs: 100,
      graceMs: 300,
      onError: (e) => errors.push(e),
    });
    await waitFor('the relay to call target.send', async () => entered);
    const t0 = Date.now();
    const stopped = await within(relay.stop(), 5_000);
    const took = Date.now() - t0;
    expect(stopped, 'relay.stop() with a hung send (graceMs 300)').not.toBe('pending');
    expect(took, 'ms relay.stop() took (graceMs 300)').toBeLessThan(2_000);
    expect(
      stopped === 'pending' ? [] : [...stopped.abandoned.map((r) => r.id)].sort(),
      'rows relay.stop() reports it abandoned',
    ).toEqual([...ids].sort());
    expect(
      errors.map((e) => ({ code: e.code, abandoned: e.details.abandoned })),
      'onError heard of the abandoned round',
    ).toEqual([{ code: 'TIMEOUT', abandoned: 3 }]);
    // The rows were not lost: their transaction rolled back, and a relay with a working target forwards them.
    expect((await outboxStats(db, 'ar3_h')).backlog, 'rows left in the outbox').toBe(3);
    const next = startRelay({ db, target, schema: 'ar3_h', pollIntervalMs: 100 });
    try {
      await waitFor('the abandoned rows to be forwarded by the next relay', async () => next.forwarded === 3);
      const stored = await db.query('select id from ar3.jobs where id = any($1)', [ids]);
      expect(stored.rowCount, 'abandoned jobs in the target after the next relay').toBe(3);
    } finally {
      await next.stop();
    }
  });

  it('a backlog of one ordering key is relayed in batches, in order: 10 rows in one send, not one row per round', async () => {
    const q = 'backlog-one-key';
    const ids = await enqueueRows('ar3_k', q, 10, () => 'acct-1');
    const sends: string[][] = [];
    const recording: Adapter = {
      ...target,
      name: 'recording',
      async send(queue: string, messages: readonly OutgoingMessage[]) {
        sends.push(messages.map((m) => m.id));
        return target.send(queue, messages);
      },
    };
    const relay = startRelay({ db, target: recording, schema: 'ar3_k', pollIntervalMs: 60_000 });
    try {
      await waitFor('the ten rows to be forwarded', async () => relay.forwarded === 10);
    } finally {
      await relay.stop();
    }
    expect(sends, 'the sends of 10 rows of one key (batchSize 100): one send, in enqueue order').toEqual([ids]);
  });

  it('four relays over interleaved keys in small batches: every row once, each key in order', async () => {
    const q = 'many-keys';
    const keyOf = (i: number): string => `k${i % 4}`;
    const ids = await enqueueRows('ar3_m', q, 120, keyOf);
    const seen: string[] = [];
    const recording: Adapter = {
      ...target,
      name: 'recording',
      async send(queue: string, messages: readonly OutgoingMessage[]) {
        seen.push(...messages.map((m) => m.id));
        await new Promise((r) => setTimeout(r, 2));
        return target.send(queue, messages);
      },
    };
    const relays = [1, 2, 3, 4].map(() =>
      startRelay({ db, target: recording, schema: 'ar3_m', batchSize: 7, pollIntervalMs: 50 }),
    );
    try {
      await waitFor('the outbox to drain', async () => (await outboxStats(db, 'ar3_m')).backlog === 0, 20_000);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
    }
    const mine = new Set(ids);
    expect(seen.filter((id) => mine.has(id)).length, 'rows sent to the target by four relays (120 rows: none twice)').toBe(120);
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const expected = ids.filter((_id, i) => keyOf(i) === key);
      expect(
        seen.filter((id) => expected.includes(id)),
        `the send order of ordering key ${key}`,
      ).toEqual(expected);
    }
  });

  it('effectivelyOnce: a handler that rolls back ctx.tx itself is not acked as a success: the job is dead-lettered, nothing kept', async () => {
    const q = 'eo-rollback';
    await target.ensureQueue(q);
    const { id } = await createQueue({ adapter: target, queue: q }).enqueue(anyJob, { n: 1 });
    let runs = 0;
    const worker = createWorker({ adapter: target, queue: q, concurrency: 1, leaseMs: 5_000 });
    worker.handle(
      anyJob,
      effectivelyOnce({ db, schema: 'ar3' }, async (_p, ctx) => {
        runs++;
        await ctx.tx.query('insert into ar3.effects values ($1)', [ctx.jobId]);
        await ctx.tx.query('rollback');
      }),
    );
    await worker.start();
    try {
      await waitFor('the job to leave the live queue', async () => {
        const s = await target.stats(q);
        return s.ready + s.inFlight + s.delayed === 0;
      });
    } finally {
      await worker.stop();
    }
    const stats = await target.stats(q);
    const dead = await target.getDeadLetter(q, id);
    const effects = (await db.query('select 1 from ar3.effects where job_id = $1', [id])).rowCount;
    expect(
      { runs, dead: stats.dead, reason: dead?.reason, effects },
      'a handler that rolled back ctx.tx: the job must not be acked (its writes were discarded)',
    ).toEqual({ runs: 1, dead: 1, reason: 'permanent-error', effects: 0 });
    expect(dead?.error?.message, 'the dead letter says why').toMatch(/ended the transaction/);
  });

  it('effectivelyOnce: a handler that commits ctx.tx itself and goes on rejects; its later writes are rolled back', async () => {
    const handler = effectivelyOnce({ db, schema: 'ar3' }, async (_p: unknown, ctx) => {
      await ctx.tx.query('commit');
      await ctx.tx.query('begin');
      await ctx.tx.query("insert into ar3.effects values ('eo-commit-after')");
    });
    const outcome = await handler({}, { jobId: 'eo-commit' } as JobContext).then(() => 'resolved', described);
    const after = (await db.query("select 1 from ar3.effects where job_id = 'eo-commit-after'")).rowCount;
    expect({ outcome, after }, 'effectivelyOnce with a handler that committed ctx.tx and began anew').toEqual({
      outcome: 'PERMANENT_FAILURE retryable=false',
      after: 0,
    });
  });

  it('errors of the wrapper, the stats and the connection settings are typed and show no password: a wrong password, a server without SSL, a bad URL', async () => {
    const wrongPassword = 'Wr0ng-Passw0rd-audit3';
    const secrets = [wrongPassword, new URL(passwordUrl).password];
    const wrong = new URL(passwordUrl);
    wrong.password = wrongPassword;
    const bad = new pg.Pool({ connectionString: wrong.toString(), max: 1 });
    bad.on('error', () => {});
    try {
      const fromWrapper = await effectivelyOnce({ db: bad, schema: 'ar3' }, async () => {})({}, {
        jobId: 'eo-auth',
      } as JobContext).then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(described(fromWrapper), 'effectivelyOnce on a pool with a wrong password').toBe('AUTH_FAILED retryable=false');
      expectNoSecret(fromWrapper, 'effectivelyOnce on a pool with a wrong password', secrets);
      const fromStats = await outboxStats(bad, 'ar3').then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(described(fromStats), 'outboxStats on a pool with a wrong password').toBe('AUTH_FAILED retryable=false');
      expectNoSecret(fromStats, 'outboxStats on a pool with a wrong password', secrets);
    } finally {
      await bad.end();
    }
    const noSsl = postgresAdapter({ url: `${url}?sslmode=no-verify`, schema: 'ar3' });
    try {
      const error = await noSsl.ensureQueue('no-ssl').then(
        () => 'resolved',
        (e: unknown) => e,
      );
      expect(described(error), 'sslmode=no-verify against a server without SSL (a configuration error)').toBe(
        'INVALID_ARGUMENT retryable=false',
      );
    } finally {
      await noSsl.close();
    }
    const badUrl = thrown(() => postgresAdapter({ url: `postgres://app:${wrongPassword}@db.example:99999/app` }));
    expect(described(badUrl), 'a url with port 99999').toBe('INVALID_ARGUMENT retryable=false');
    expectNoSecret(badUrl, 'a url with port 99999', secrets);
    expect(String(badUrl), 'the hint of the format is readable (not mistaken for a password and masked)').toContain(
      'postgres://user@host:5432/database',
    );
  });
});
