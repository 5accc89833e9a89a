import { type Adapter, type BgError, isBgError, type OutgoingMessage } from '@bg/core';
import { partialSendError } from '@bg/core/adapter';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter } from '../src/index.js';
import { createOutbox, outboxStats, type Relay, type RelayOptions, startRelay } from '../src/outbox/index.js';
import { anyObjectJob, fresh, waitFor } from './support.js';

const url = inject('pgUrl') as string;

const blob = anyObjectJob('relay.blob');

describe.skipIf(!url)('outbox relay: refused rows, partial sends, pools, ordering, delays (private PostgreSQL)', () => {
  const db = new pg.Pool({ connectionString: url, max: 6 });
  db.on('error', () => {});
  const schemas = ['rl_p', 'rl_s', 'rl_1', 'rl_o', 'rl_d', 'rl_t'];
  let target: PostgresAdapter;
  const relays: Relay[] = [];
  const run = (options: RelayOptions): Relay => {
    const relay = startRelay(options);
    relays.push(relay);
    return relay;
  };
  const count = async (sql: string, values: unknown[]): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const stored = (queue: string): Promise<number> => count('select count(*) as n from rl_t.jobs where queue = $1', [queue]);

  /** Writes `jobs` (payload and queue) in one committed transaction. */
  async function enqueueAll(
    schema: string,
    jobs: [Record<string, unknown>, string, { orderingKey?: string; delayMs?: number }?][],
    capabilities = target.capabilities,
  ): Promise<string[]> {
    const outbox = createOutbox({ schema, capabilities });
    const tx = await db.connect();
    const ids: string[] = [];
    try {
      await tx.query('begin');
      for (const [payload, queue, extra] of jobs) ids.push((await outbox.enqueue(blob, payload, { tx, queue, ...extra })).id);
      await tx.query('commit');
    } finally {
      tx.release();
    }
    return ids;
  }

  beforeAll(async () => {
    for (const schema of schemas) await postgresAdapter({ url, schema }).migrate();
    target = postgresAdapter({ url, schema: 'rl_t' });
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await target.close();
    await db.end();
  });

  it('a row the target refuses for good is set aside in outbox_failed (stats, onError) and blocks no other row', async () => {
    const small = postgresAdapter({ url, schema: 'rl_t', maxPayloadBytes: 2_000 });
    const q = fresh('poison');
    const q2 = fresh('other');
    const [bigId] = await enqueueAll(
      'rl_p',
      [
        [{ blob: 'x'.repeat(5_000) }, q],
        ...Array.from({ length: 5 }, (_, i): [Record<string, unknown>, string] => [{ n: i }, q]),
        ...Array.from({ length: 3 }, (_, i): [Record<string, unknown>, string] => [{ n: i }, q2]),
      ],
      postgresAdapter({ url, schema: 'rl_t' }).capabilities,
    );
    const errors: BgError[] = [];
    const relay = run({ db, target: small, schema: 'rl_p', batchSize: 4, pollIntervalMs: 100, onError: (e) => errors.push(e) });
    try {
      await waitFor('the outbox to drain past the refused row', async () => (await outboxStats(db, 'rl_p')).backlog === 0);
      expect({ q: await stored(q), q2: await stored(q2) }, 'jobs stored in the target per queue').toEqual({ q: 5, q2: 3 });
      expect(await relay.stats(), 'relay.stats() after the refused row was set aside').toMatchObject({ backlog: 0, failed: 1 });
      expect(relay.setAside, 'relay.setAside').toBe(1);
      const failed = await db.query('select id, queue, error_code, error from rl_p.outbox_failed');
      expect(failed.rows, 'rows in outbox_failed').toMatchObject([{ id: bigId, queue: q, error_code: 'PAYLOAD_TOO_LARGE' }]);
      expect(
        errors.map((e) => ({ code: e.code, setAside: e.details.setAside, id: e.details.id })),
        'what onError heard',
      ).toEqual([{ code: 'PAYLOAD_TOO_LARGE', setAside: true, id: bigId }]);
    } finally {
      await relay.stop();
      await small.close();
    }
  });

  it('a partial send deletes the rows the target stored (details.sentIds): they are not sent again; the failed row stays', async () => {
    const q = fresh('partial');
    const send = async (queue: string, messages: readonly OutgoingMessage[]) => {
      const good = messages.filter((m) => !m.body.includes('"reject":true'));
      const bad = messages.filter((m) => m.body.includes('"reject":true'));
      if (good.length > 0) await target.send(queue, good);
      if (bad.length > 0)
        throw partialSendError(
          'partial',
          messages,
          bad.map((m) => ({ id: m.id, message: 'entry refused' })),
        );
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    };
    const partial: Adapter = { ...target, name: 'partial', send };
    await enqueueAll('rl_s', [
      [{ n: 0 }, q],
      [{ n: 1 }, q],
      [{ n: 2 }, q],
      [{ reject: true }, q],
    ]);
    const errors: BgError[] = [];
    const relay = run({ db, target: partial, schema: 'rl_s', pollIntervalMs: 100, onError: (e) => errors.push(e) });
    try {
      await waitFor('three failed rounds', async () => errors.length >= 3);
      await relay.stop();
      expect(await stored(q), `jobs in the target after ${errors.length} rounds of a partial send (3 good jobs)`).toBe(3);
      expect(await outboxStats(db, 'rl_s'), 'the outbox after them: only the refused row (retryable) waits').toMatchObject({
        backlog: 1,
        failed: 0,
      });
      expect(errors[0]?.retryable, 'the partial-send error reported').toBe(true);
    } finally {
      await relay.stop();
    }
  });

  it('a relay on a pool of one connection forwards: its LISTEN connection is its own', async () => {
    const q = fresh('pool1');
    await enqueueAll('rl_1', [[{ n: 1 }, q]]);
    const one = new pg.Pool({ connectionString: url, max: 1 });
    one.on('error', () => {});
    const errors: BgError[] = [];
    const relay = run({ db: one, target, schema: 'rl_1', pollIntervalMs: 200, onError: (e) => errors.push(e) });
    try {
      await waitFor('the row to be forwarded through a pool of one', async () => (await stored(q)) === 1, 8_000).catch(
        (e: unknown) => {
          throw new Error(`${String(e)}; forwarded ${relay.forwarded}, errors ${errors.map(String).join('; ')}`);
        },
      );
    } finally {
      await relay.stop();
      await one.end();
    }
  });

  it('rows sharing an ordering key are forwarded back to back, in order, not one per poll interval', async () => {
    const q = fresh('ordered');
    const ordered = { ...target.capabilities, ordering: true };
    const ids = await enqueueAll(
      'rl_o',
      Array.from({ length: 5 }, (_, i): [Record<string, unknown>, string, { orderingKey: string }] => [
        { n: i },
        q,
        { orderingKey: 'acct-1' },
      ]),
      ordered,
    );
    const t0 = Date.now();
    const relay = run({ db, target, schema: 'rl_o', pollIntervalMs: 5_000 });
    try {
      await waitFor('the five ordered rows', async () => (await stored(q)) === 5, 15_000);
      const took = Date.now() - t0;
      expect(took, 'ms to forward 5 rows of one ordering key (pollIntervalMs 5 000)').toBeLessThan(3_000);
      const order = (await db.query<{ id: string }>('select id from rl_t.jobs where queue = $1 order by seq', [q])).rows.map(
        (r) => r.id,
      );
      expect(order, 'the rows of the key in the target, in enqueue order').toEqual(ids);
    } finally {
      await relay.stop();
    }
  });

  it("a remaining delay beyond the target's maxDelayMs hops: the envelope carries notBefore, the message the target's longest delay", async () => {
    const q = fresh('delay');
    const short: Adapter = { ...target, name: 'short-delay', capabilities: { ...target.capabilities, maxDelayMs: 1_000 } };
    // The outbox written with PostgreSQL's manifest (10 years of native delay): no notBefore yet.
    const [id] = await enqueueAll('rl_d', [[{ n: 1 }, q, { delayMs: 60_000 }]]);
    const before = Date.now();
    const relay = run({ db, target: short, schema: 'rl_d', pollIntervalMs: 100 });
    try {
      await waitFor('the delayed row to be forwarded', async () => (await stored(q)) === 1);
      const { rows } = await db.query<{ body: string; visible_at: string; enqueued_at: string }>(
        'select body, visible_at, enqueued_at from rl_t.jobs where queue = $1 and id = $2',
        [q, id],
      );
      const row = rows[0];
      const envelope = JSON.parse(row?.body ?? '{}') as { notBefore?: string };
      expect(envelope.notBefore, 'notBefore of the forwarded envelope (delay 60 s, target max 1 s)').toBeDefined();
      const due = Date.parse(envelope.notBefore as string);
      expect(due - before, 'notBefore - the time of the relay start, ms (about 60 000)').toBeGreaterThan(50_000);
      expect(due - before, 'notBefore - the time of the relay start, ms (about 60 000)').toBeLessThan(61_000);
      expect(
        Number(row?.visible_at) - Number(row?.enqueued_at),
        "the message's delay in the target (≤ its 1 000 ms max)",
      ).toBeLessThanOrEqual(1_000);
    } finally {
      await relay.stop();
    }
  });

  it('outbox.enqueue on a schema never migrated rejects with a BgError (QUEUE_NOT_FOUND), not a raw pg error', async () => {
    const tx = await db.connect();
    try {
      await tx.query('begin');
      const error = await createOutbox({ schema: 'rl_never_migrated' })
        .enqueue(blob, { n: 1 }, { tx })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(isBgError(error, 'QUEUE_NOT_FOUND'), `outbox.enqueue on an unmigrated schema: ${String(error)}`).toBe(true);
    } finally {
      await tx.query('rollback');
      tx.release();
    }
  });

  it('startRelay checks its options: INVALID_ARGUMENT naming the option, before anything runs', async () => {
    const cases: [Partial<RelayOptions> & Record<string, unknown>, RegExp][] = [
      [{ batchSize: 0 }, /batchSize.*0/],
      [{ batchSize: -1 }, /batchSize/],
      [{ batchSize: 2.5 }, /batchSize.*2\.5/],
      [{ pollIntervalMs: 'x' as unknown as number }, /pollIntervalMs.*"x"/],
      [{ pollIntervalMs: -1 }, /pollIntervalMs/],
      [{ target: undefined as unknown as Adapter }, /target/],
      [{ db: undefined as unknown as pg.Pool }, /db/],
      [{ onError: 'log' as unknown as () => void }, /onError/],
    ];
    for (const [bad, message] of cases) {
      let error: unknown;
      try {
        run({ db, target, schema: 'rl_t', ...bad });
      } catch (e) {
        error = e;
      }
      const shown = JSON.stringify(bad, (_k, v: unknown) => (v === undefined ? 'undefined' : v));
      expect(isBgError(error, 'INVALID_ARGUMENT'), `startRelay(${shown}): expected INVALID_ARGUMENT, got ${String(error)}`).toBe(
        true,
      );
      expect((error as { retryable?: boolean }).retryable, `startRelay(${shown}).retryable`).toBe(false);
      expect(String(error), `startRelay(${shown}) message`).toMatch(message);
    }
  });
});
