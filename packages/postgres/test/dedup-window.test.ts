import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isBgError, type SendResult } from '@bg/core';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, parsePostgresUrl, postgresAdapter, SCHEMA_VERSION, schemaSql } from '../src/index.js';

const url = inject('pgUrl') as string;

const fresh = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 10_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** The v3 schema script (what `schemaSql` created before the dedup table), for `schema`. */
const schemaV3 = (schema: string): string =>
  readFileSync(new URL('./fixtures/schema-v3.sql', import.meta.url), 'utf8').replaceAll('__SCHEMA__', schema);

describe.skipIf(!url)(
  'deduplication window: keys are remembered from the first send, stored job or not (private PostgreSQL)',
  () => {
    const admin = new pg.Pool({ connectionString: url, max: 3 });
    admin.on('error', () => {});
    const opened: PostgresAdapter[] = [];
    const open = (options: Parameters<typeof postgresAdapter>[0]): PostgresAdapter => {
      const adapter = postgresAdapter(options);
      opened.push(adapter);
      return adapter;
    };
    const count = async (sql: string, values: unknown[]): Promise<number> =>
      Number((await admin.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);

    afterAll(async () => {
      await Promise.all(opened.map((a) => a.close()));
      await admin.end();
    });

    it('a key sent again after its job was received and acked (or dead-lettered) is a duplicate naming that job; after the window it is stored anew', async () => {
      const a = open({ url, schema: 'afx' });
      const queue = fresh('window');
      await a.ensureQueue(queue);
      const [first] = await a.send(queue, [{ id: 'first', body: '{}', deduplicationKey: 'k' }]);
      expect(first, 'the first send of key k').toEqual({ id: 'first', duplicate: false });
      const [got] = await a.receive(queue, { max: 1, leaseMs: 30_000 });
      expect(got?.id, 'the job received').toBe('first');
      await a.ack(queue, got?.handle as string);
      expect(await a.stats(queue), 'after the ack nothing is stored').toMatchObject({ ready: 0, inFlight: 0, delayed: 0 });
      const [again] = await a.send(queue, [{ id: 'retry', body: '{}', deduplicationKey: 'k' }]);
      expect(again, 'key k sent again after its job was acked, within the window').toEqual({ id: 'first', duplicate: true });
      expect(await a.stats(queue), 'the duplicate stored nothing').toMatchObject({ ready: 0 });

      // Dead-lettered: the key still holds.
      await a.send(queue, [{ id: 'doomed', body: '{}', deduplicationKey: 'dl' }]);
      const [doomed] = await a.receive(queue, { max: 1, leaseMs: 30_000 });
      expect(doomed?.id, 'the job to dead-letter').toBe('doomed');
      await a.deadLetter(queue, doomed as NonNullable<typeof doomed>, {
        reason: 'manual',
        attempts: 1,
        deadLetteredAt: Date.now(),
      });
      await a.ack(queue, doomed?.handle as string);
      const [afterDead] = await a.send(queue, [{ id: 'doomed-again', body: '{}', deduplicationKey: 'dl' }]);
      expect(afterDead, 'a key whose job was dead-lettered, within the window').toEqual({ id: 'doomed', duplicate: true });

      // A short window: after it the key is free again, whether the first job is still stored or not.
      const short = open({ url, schema: 'afx', deduplicationWindowMs: 1_000 });
      const shortQueue = fresh('short');
      await short.ensureQueue(shortQueue);
      const [s1] = await short.send(shortQueue, [{ id: 's1', body: '{}', deduplicationKey: 'sk' }]);
      expect(s1, 'first send with a 1 s window').toEqual({ id: 's1', duplicate: false });
      await sleep(1_200);
      const [s2] = await short.send(shortQueue, [{ id: 's2', body: '{}', deduplicationKey: 'sk' }]);
      expect(s2, 'the same key 1.2 s later (window 1 s; s1 still stored)').toEqual({ id: 's2', duplicate: false });
      const [s3] = await short.send(shortQueue, [{ id: 's3', body: '{}', deduplicationKey: 'sk' }]);
      expect(s3, 'and again at once: a duplicate of the new holder').toEqual({ id: 's2', duplicate: true });
      const both = await short.receive(shortQueue, { max: 10, leaseMs: 30_000 });
      expect(
        both.map((m) => m.id),
        'jobs stored under key sk',
      ).toEqual(['s1', 's2']);
    });

    it('two entries with one key in a batch: the second is a duplicate of the first; a batch is stored in send order', async () => {
      const a = open({ url, schema: 'afx' });
      const queue = fresh('batch');
      await a.ensureQueue(queue);
      await a.send(queue, [{ id: 'held', body: '{}', deduplicationKey: 'held-key' }]);
      const results = await a.send(queue, [
        { id: 'z1', body: '{}', deduplicationKey: 'z' },
        { id: 'plain', body: '{}' },
        { id: 'z2', body: '{}', deduplicationKey: 'z' },
        { id: 'h1', body: '{}', deduplicationKey: 'held-key' },
        { id: 'a1', body: '{}', deduplicationKey: 'a' },
        { id: 'h2', body: '{}', deduplicationKey: 'held-key' },
        { id: 'z1', body: '{}', deduplicationKey: 'z' },
      ]);
      expect(results, 'results of the batch').toEqual([
        { id: 'z1', duplicate: false },
        { id: 'plain', duplicate: false },
        { id: 'z1', duplicate: true },
        { id: 'held', duplicate: true },
        { id: 'a1', duplicate: false },
        { id: 'held', duplicate: true },
        { id: 'z1', duplicate: true },
      ]);
      const got = await a.receive(queue, { max: 10, leaseMs: 30_000 });
      expect(
        got.map((m) => m.id),
        'stored jobs, in send order',
      ).toEqual(['held', 'z1', 'plain', 'a1']);
    });

    it('a failed send reserves nothing: PAYLOAD_TOO_LARGE, or a statement rolled back after it claimed its keys', async () => {
      const schema = 'afx_fail';
      const a = open({ url, schema, maxPayloadBytes: 1024 });
      const queue = fresh('fail');
      await a.ensureQueue(queue);
      const big = await a
        .send(queue, [{ id: 'big', body: 'x'.repeat(2048), deduplicationKey: 'big-key' }])
        .catch((e: unknown) => e);
      expect(isBgError(big, 'PAYLOAD_TOO_LARGE'), `an oversized send: ${String(big)}`).toBe(true);
      expect(
        await a.send(queue, [{ id: 'small', body: '{}', deduplicationKey: 'big-key' }]),
        'the key after a refused send',
      ).toEqual([{ id: 'small', duplicate: false }]);
      // A job row the database refuses (a trigger) fails the whole statement after the keys were claimed.
      await admin.query(`create or replace function ${schema}.refuse_poison() returns trigger language plpgsql as $$
      begin if new.id = 'poison' then raise exception 'poison refused'; end if; return new; end $$`);
      await admin.query(`drop trigger if exists refuse_poison on ${schema}.jobs`);
      await admin.query(
        `create trigger refuse_poison before insert on ${schema}.jobs for each row execute function ${schema}.refuse_poison()`,
      );
      const failed = await a
        .send(queue, [
          { id: 'ok', body: '{}', deduplicationKey: 'ka' },
          { id: 'poison', body: '{}', deduplicationKey: 'kp' },
        ])
        .catch((e: unknown) => e);
      expect(isBgError(failed), `a send whose statement failed: ${String(failed)}`).toBe(true);
      await admin.query(`drop trigger refuse_poison on ${schema}.jobs`);
      const again = await a.send(queue, [
        { id: 'ok2', body: '{}', deduplicationKey: 'ka' },
        { id: 'kp2', body: '{}', deduplicationKey: 'kp' },
      ]);
      expect(again, 'the keys of the failed send, sent again').toEqual([
        { id: 'ok2', duplicate: false },
        { id: 'kp2', duplicate: false },
      ]);
      // The keys now hold past the jobs' completion.
      const got = await a.receive(queue, { max: 10, leaseMs: 30_000 });
      await Promise.all(got.map((m) => a.ack(queue, m.handle)));
      expect(await a.send(queue, [{ id: 'ok3', body: '{}', deduplicationKey: 'ka' }]), 'key ka after its job was acked').toEqual([
        { id: 'ok2', duplicate: true },
      ]);
    });

    it('concurrent sends of one key from several connections store exactly one job, even while a consumer acks it at once', async () => {
      const senders = Array.from({ length: 6 }, () => open({ url, schema: 'afx', poolSize: 2 }));
      const consumer = open({ url, schema: 'afx' });
      const queue = fresh('hot');
      await consumer.ensureQueue(queue);
      await Promise.all(senders.map((s) => s.ensureQueue(queue)));
      const received: string[] = [];
      let sending = true;
      const consuming = (async () => {
        while (sending) {
          const got = await consumer.receive(queue, { max: 10, leaseMs: 30_000, waitMs: 100 });
          for (const m of got) {
            received.push(m.id);
            await consumer.ack(queue, m.handle);
          }
        }
      })();
      const results: SendResult[] = [];
      try {
        await Promise.all(
          senders.map(async (s, i) => {
            for (let round = 0; round < 15; round++) {
              const [r] = await s.send(queue, [{ id: `s${i}-r${round}`, body: '{}', deduplicationKey: 'hot-key' }]);
              if (r) results.push(r);
              await sleep(10);
            }
          }),
        );
        await sleep(300);
      } finally {
        sending = false;
        await consuming;
      }
      const stored = results.filter((r) => !r.duplicate);
      expect(stored.length, `sends stored out of ${results.length} with one key`).toBe(1);
      expect(new Set(results.map((r) => r.id)), 'every result names the one stored job').toEqual(new Set([stored[0]?.id]));
      expect(received, 'jobs delivered').toEqual([stored[0]?.id]);

      // A key whose window ended, sent at once from every connection: exactly one takes it over.
      const short = Array.from({ length: 6 }, () => open({ url, schema: 'afx', poolSize: 1, deduplicationWindowMs: 2_500 }));
      const shortQueue = fresh('takeover');
      await Promise.all(short.map((s) => s.ensureQueue(shortQueue)));
      for (let phase = 0; phase < 3; phase++) {
        const sent = await Promise.all(
          short.map(
            async (s, i) => (await s.send(shortQueue, [{ id: `p${phase}-s${i}`, body: '{}', deduplicationKey: 'k' }]))[0],
          ),
        );
        const kept = sent.filter((r) => r?.duplicate === false);
        expect(kept.length, `phase ${phase}: sends stored out of 6 concurrent ones (${JSON.stringify(sent)})`).toBe(1);
        expect(new Set(sent.map((r) => r?.id)).size, `phase ${phase}: ids named`).toBe(1);
        await sleep(2_600);
      }
      expect((await consumer.receive(shortQueue, { max: 10, leaseMs: 30_000 })).length, 'jobs stored over three windows').toBe(3);
    });

    it('a v3 schema is upgraded in place (migrate auto) and keeps deduplicating the keys of jobs stored before', async () => {
      const schema = 'afx_mig';
      const queue = 'legacy';
      await admin.query(`drop schema if exists ${schema} cascade`);
      const setup = await admin.connect();
      try {
        await setup.query('begin');
        await setup.query(schemaV3(schema));
        await setup.query('commit');
      } finally {
        setup.release();
      }
      await admin.query(`insert into ${schema}.queues (name) values ($1)`, [queue]);
      // Rows as the v3 adapter stored them: the key in jobs.dedup_key; one job delayed by an hour.
      const now = Date.now();
      await admin.query(
        `insert into ${schema}.jobs (queue, id, body, visible_at, enqueued_at, dedup_key)
       values ($1, 'old-job', '{}', $2, $2, 'old-key'), ($1, 'old-delayed', '{}', $3, $2, 'old-delayed-key')`,
        [queue, now - 1_000, now + 3_600_000],
      );
      const a = open({ url, schema });
      await a.ensureQueue(queue);
      const version = await count(`select max(version) as n from ${schema}.schema_version`, []);
      expect(version, 'schema version after migrate: auto').toBe(SCHEMA_VERSION);
      expect(SCHEMA_VERSION, 'the schema version').toBe(4);
      expect(
        await a.send(queue, [{ id: 'new', body: '{}', deduplicationKey: 'old-key' }]),
        'a key of a job stored under v3',
      ).toEqual([{ id: 'old-job', duplicate: true }]);
      const [old] = await a.receive(queue, { max: 1, leaseMs: 30_000 });
      expect(old?.id, 'the v3 job').toBe('old-job');
      await a.ack(queue, old?.handle as string);
      expect(
        await a.send(queue, [{ id: 'new2', body: '{}', deduplicationKey: 'old-key' }]),
        'the key of the v3 job after it was acked',
      ).toEqual([{ id: 'old-job', duplicate: true }]);
      expect(
        await a.send(queue, [{ id: 'new3', body: '{}', deduplicationKey: 'old-delayed-key' }]),
        'the key of the delayed v3 job',
      ).toEqual([{ id: 'old-delayed', duplicate: true }]);
      const delayedUntil = await count(
        `select expires_at as n from ${schema}.dedup where queue = $1 and key = 'old-delayed-key'`,
        [queue],
      );
      expect(delayedUntil, 'the delayed job keeps its key until 5 min after it is due').toBeGreaterThanOrEqual(
        now + 3_600_000 + 300_000,
      );
      // New keys are not written to jobs.dedup_key, so the old unique index never refuses a job.
      await a.send(queue, [{ id: 'fresh', body: '{}', deduplicationKey: 'fresh-key' }]);
      expect(
        await count(`select count(*) as n from ${schema}.jobs where dedup_key is not null and id = 'fresh'`, []),
        'jobs.dedup_key',
      ).toBe(0);
      // Running the script again changes nothing.
      await admin.query(schemaSql(schema));
      expect(
        await count(`select count(*) as n from ${schema}.dedup where queue = $1`, [queue]),
        'keys after a second migrate()',
      ).toBe(3);
    });

    it("a process that waited for another one's migration runs nothing: it takes no table lock that could deadlock with keyed sends", async () => {
      const schema = 'afx_race';
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.query(schemaV3(schema));
      // An older schema than any version of this code: every process must migrate it.
      await admin.query(`delete from ${schema}.schema_version`);
      const migrating = await admin.connect();
      const sending = await admin.connect();
      // The adapter tries the lock (and tries again) rather than wait for it on the server.
      const waitingForLock = () =>
        count(
          `select count(*) as n from pg_stat_activity where position('pg_try_advisory_xact_lock' in query) > 0
           and state = 'idle in transaction' and pid <> pg_backend_pid()`,
          [],
        );
      const waitingForJobs = () =>
        count(`select count(*) as n from pg_locks where not granted and relation = $1::regclass`, [`${schema}.jobs`]);
      let late: PostgresAdapter | undefined;
      try {
        // Another process is upgrading the schema (lock taken, tables changed, not committed yet).
        await migrating.query('begin');
        await migrating.query(schemaSql(schema));
        // This adapter reads version 3, then waits for the migration lock.
        late = open({ url, schema });
        const ensured = late.ensureQueue('race').then(
          () => 'ok',
          (e: unknown) => String(e),
        );
        await waitFor('the adapter waiting for the migration lock', async () => (await waitingForLock()) >= 1);
        // A sender is queued behind the upgrade for the jobs table, and holds it once the upgrade commits.
        await sending.query('begin');
        const locked = sending.query(`lock table ${schema}.jobs in row exclusive mode`);
        await waitFor('the sender waiting for the jobs table', async () => (await waitingForJobs()) === 1);
        await migrating.query('commit');
        await locked;
        const outcome = await Promise.race([ensured, sleep(3_000).then(() => 'still waiting after 3 s')]);
        expect(outcome, 'ensureQueue of an adapter that waited for another migration, while a sender holds jobs').toBe('ok');
      } finally {
        await sending.query('rollback').catch(() => {});
        await migrating.query('rollback').catch(() => {});
        sending.release();
        migrating.release();
      }
    });

    it("deleteQueue forgets the queue's keys; expired keys are swept in bounded batches by later keyed sends", async () => {
      const a = open({ url, schema: 'afx' });
      const queue = fresh('forget');
      const other = fresh('keep');
      await a.ensureQueue(queue);
      await a.ensureQueue(other);
      await a.send(queue, [{ id: 'd1', body: '{}', deduplicationKey: 'dk' }]);
      await a.send(other, [{ id: 'o1', body: '{}', deduplicationKey: 'dk' }]);
      expect(await a.deleteQueue(queue), 'deleteQueue').toBe(true);
      expect(await count('select count(*) as n from afx.dedup where queue = $1', [queue]), 'keys of the deleted queue').toBe(0);
      expect(await count('select count(*) as n from afx.dedup where queue = $1', [other]), 'keys of another queue').toBe(1);
      await a.ensureQueue(queue);
      expect(await a.send(queue, [{ id: 'd2', body: '{}', deduplicationKey: 'dk' }]), 'the key on the queue made again').toEqual([
        { id: 'd2', duplicate: false },
      ]);

      // Sweeps: 2 500 expired keys; each keyed send (1 000 at most per sweep) removes a bounded batch.
      const schema = 'afx_sweep';
      const sweeper = open({ url, schema, deduplicationWindowMs: 60_000 });
      const sq = fresh('sweep');
      await sweeper.ensureQueue(sq);
      await admin.query(
        `insert into ${schema}.dedup (queue, key, id, expires_at)
       select $1, 'old-' || g, 'id-' || g, $2 from generate_series(1, 2500) g`,
        [sq, Date.now() - 1_000],
      );
      const expired = () => count(`select count(*) as n from ${schema}.dedup where expires_at <= $1`, [Date.now()]);
      const all = () => count(`select count(*) as n from ${schema}.dedup`, []);
      await sweeper.send(sq, [{ id: 'live-1', body: '{}', deduplicationKey: 'live-1' }]);
      await waitFor('the first sweep', async () => (await expired()) === 1_500);
      await sleep(200);
      expect(await expired(), 'expired keys left after one sweep (bounded at 1 000)').toBe(1_500);
      await sweeper.send(sq, [{ id: 'live-2', body: '{}', deduplicationKey: 'live-2' }]);
      await waitFor('the second sweep', async () => (await expired()) === 500);
      await sweeper.send(sq, [{ id: 'live-3', body: '{}', deduplicationKey: 'live-3' }]);
      await waitFor('the third sweep', async () => (await expired()) === 0);
      expect(await all(), 'live keys are kept').toBe(3);
      expect(await sweeper.send(sq, [{ id: 'x', body: '{}', deduplicationKey: 'old-7' }]), 'a swept (expired) key').toEqual([
        { id: 'x', duplicate: false },
      ]);
    });

    it('deduplicationWindowMs is checked like the other options and read from the URL', () => {
      for (const bad of [0, -1, 1.5, '5m', Number.NaN, 11 * 365 * 24 * 3_600_000]) {
        let error: unknown;
        try {
          open({ url, schema: 'afx', deduplicationWindowMs: bad as number });
        } catch (e) {
          error = e;
        }
        expect(isBgError(error, 'INVALID_ARGUMENT'), `deduplicationWindowMs ${String(bad)}: got ${String(error)}`).toBe(true);
        expect(String(error), `deduplicationWindowMs ${String(bad)}: message`).toMatch(/deduplicationWindowMs/);
      }
      expect(parsePostgresUrl(new URL('postgres://app@db:5432/app?deduplicationWindowMs=60000')), 'the URL parameter').toEqual({
        connectionString: 'postgres://app@db:5432/app',
        deduplicationWindowMs: 60_000,
      });
      let error: unknown;
      try {
        parsePostgresUrl(new URL('postgres://app@db:5432/app?deduplicationWindowMs=0'));
      } catch (e) {
        error = e;
      }
      expect(isBgError(error, 'INVALID_ARGUMENT'), `?deduplicationWindowMs=0: got ${String(error)}`).toBe(true);
    });
  },
);
