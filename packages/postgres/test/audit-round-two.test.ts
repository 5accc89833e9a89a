import { waitUntil } from '@bg/backends';
import { type Adapter, BgError, isBgError, type JobContext, type OutgoingMessage } from '@bg/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectivelyOnce, POSTGRES_CAPABILITIES, type PostgresAdapter, postgresAdapter } from '../src/index.js';
import { createOutbox, startRelay } from '../src/outbox/index.js';
import { anyObjectJob } from './support.js';

const url = inject('pgUrl') as string;

const anyJob = anyObjectJob('audit.any');

/** The first `n` code units of `text`: cutting an emoji in half leaves a lone surrogate, as `slice` does. */
const cut = (text: string, n: number): string => text.slice(0, n);

/** The error `fn` throws (or `undefined`), to assert on. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** A target with ordering that records what it is sent. */
function recordingTarget(): Adapter & { readonly sent: OutgoingMessage[] } {
  const sent: OutgoingMessage[] = [];
  const unsupported = (): never => {
    throw new BgError('UNSUPPORTED', 'recording target');
  };
  return {
    sent,
    name: 'recording',
    contractVersion: 1,
    capabilities: { ...POSTGRES_CAPABILITIES, ordering: true },
    ensureQueue: async () => {},
    async send(_queue, messages) {
      sent.push(...messages);
      return messages.map((m) => ({ id: m.id, duplicate: false }));
    },
    receive: unsupported,
    extend: unsupported,
    ack: unsupported,
    release: unsupported,
    deadLetter: unsupported,
    listDeadLetters: unsupported,
    getDeadLetter: unsupported,
    replayDeadLetter: unsupported,
    purgeDeadLetters: unsupported,
    stats: unsupported,
    close: async () => {},
  };
}

describe.skipIf(!url)('audit round two (private PostgreSQL)', () => {
  const db = new pg.Pool({ connectionString: url, max: 6 });
  db.on('error', () => {});
  let adapter: PostgresAdapter;

  beforeAll(async () => {
    adapter = postgresAdapter({ url, schema: 'ar2' });
    await adapter.migrate();
    await db.query('create table if not exists ar2.orders (id text primary key, paid boolean not null)');
  });
  afterAll(async () => {
    await adapter.close();
    await db.end();
  });

  it('effectivelyOnce: a commit PostgreSQL turns into a rollback (a failed statement the handler caught) rejects, so the job is not acked', async () => {
    await db.query("insert into ar2.orders values ('o1', false) on conflict (id) do update set paid = false");
    const handler = effectivelyOnce({ db, schema: 'ar2' }, async (_payload: unknown, ctx) => {
      await ctx.tx.query("update ar2.orders set paid = true where id = 'o1'");
      // A failed lookup the handler shrugs off: the transaction is aborted from here on.
      await ctx.tx.query('select * from ar2.no_such_table').catch(() => {});
    });
    const outcome = await handler({}, { jobId: 'eo-aborted' } as JobContext).then(
      () => 'resolved',
      (error: unknown) => (isBgError(error) ? `${error.code} retryable=${error.retryable}` : String(error)),
    );
    const paid = (await db.query<{ paid: boolean }>("select paid from ar2.orders where id = 'o1'")).rows[0]?.paid;
    expect(
      { outcome, paid },
      'effectivelyOnce(handler) must reject when its commit rolled back (else the worker acks a job whose writes were discarded)',
    ).toEqual({ outcome: 'BACKEND_ERROR retryable=true', paid: false });
  });

  it('effectivelyOnce and createOutbox check their options at the call: INVALID_ARGUMENT, not a TypeError per job', () => {
    const codeOf = (fn: () => unknown): string => {
      const error = thrown(fn);
      return isBgError(error) ? `${error.code} retryable=${error.retryable}` : `not a BgError: ${String(error)}`;
    };
    const calls: Record<string, () => unknown> = {
      'effectivelyOnce({})': () => effectivelyOnce({} as never, async () => {}),
      'effectivelyOnce({ db: url })': () => effectivelyOnce({ db: url as never }, async () => {}),
      'effectivelyOnce(undefined)': () => effectivelyOnce(undefined as never, async () => {}),
      "effectivelyOnce({ db }, 'x')": () => effectivelyOnce({ db }, 'x' as never),
      'createOutbox(null)': () => createOutbox(null as never),
      'createOutbox({ capabilities: 42 })': () => createOutbox({ capabilities: 42 as never }),
      "createOutbox({ queue: 'Bad Queue' })": () => createOutbox({ queue: 'Bad Queue' }),
    };
    const got = Object.fromEntries(Object.entries(calls).map(([what, fn]) => [what, codeOf(fn)]));
    expect(got, 'each bad option must be refused when the wrapper or outbox is made').toEqual(
      Object.fromEntries(Object.keys(calls).map((what) => [what, 'INVALID_ARGUMENT retryable=false'])),
    );
  });

  it('deduplication keys text cannot keep (a lone surrogate, NUL) stay distinct when sent; the outbox never takes them', async () => {
    const queue = `keys-${Date.now().toString(36)}`;
    await adapter.ensureQueue(queue);
    // Two different keys cut mid-emoji: each ends in a different lone high surrogate.
    const keyA = cut('mail:Zoë 😀', 10);
    const keyB = cut('mail:Zoë 🤖', 10);
    const direct = [];
    // Adapter level (the core's enqueue refuses NUL and lone surrogates in keys, but adapters are
    // called by others too: bgctl move, the relay): cut keys, a NUL key and its JSON spelling.
    for (const [id, key] of [
      ['cut-a', keyA],
      ['cut-b', keyB],
      ['cut-a2', keyA],
      ['nul-1', 'k\u0000'],
      ['nul-2', '"k\\u0000"'],
      ['nul-3', 'k\u0000'],
    ] as const) {
      direct.push(
        await adapter.send(queue, [{ id, body: '{}', deduplicationKey: key }]).then(
          ([r]) => (r?.duplicate ? 'duplicate' : 'stored'),
          (error: unknown) => (isBgError(error) ? error.code : String(error)),
        ),
      );
    }
    expect(direct, 'send(keyA), send(keyB), send(keyA), send(NUL key), send(its JSON spelling), send(NUL key)').toEqual([
      'stored',
      'stored',
      'duplicate',
      'stored',
      'stored',
      'duplicate',
    ]);
    // Through the outbox: such keys never get in (the core's enqueue refuses them), so no two
    // rows can carry one key in two spellings.
    const outbox = createOutbox({ schema: 'ar2', capabilities: adapter.capabilities });
    const tx = await db.connect();
    try {
      await tx.query('begin');
      const refused = await outbox.enqueue(anyJob, { to: 'a' }, { tx, queue: `${queue}-o`, idempotencyKey: `${keyA}o` }).then(
        () => 'stored',
        (error: unknown) => (isBgError(error) ? error.code : String(error)),
      );
      expect(refused, 'outbox.enqueue with a key cut mid-emoji').toBe('INVALID_ARGUMENT');
      await tx.query('rollback');
    } finally {
      tx.release();
    }
  });

  it('outbox: transactions writing one ordering key take turns, so the relay sends in commit order, even when the first commits last', async () => {
    const target = recordingTarget();
    const outbox = createOutbox({ schema: 'ar2', capabilities: target.capabilities });
    const queue = `ord-${Date.now().toString(36)}`;
    const [t1, t2] = [await db.connect(), await db.connect()];
    const relay = startRelay({ db, target, schema: 'ar2', pollIntervalMs: 50 });
    try {
      await t1.query('begin');
      await t2.query('begin');
      await outbox.enqueue(anyJob, { step: 1 }, { tx: t1, queue, orderingKey: 'order-7' });
      let secondDone = false;
      const second = outbox.enqueue(anyJob, { step: 2 }, { tx: t2, queue, orderingKey: 'order-7' }).then(() => {
        secondDone = true;
      });
      // Either the second enqueue waits for the first transaction's lock of the key (seen in
      // pg_locks), or it went through: then the second transaction commits first.
      const t2Pid = (t2 as unknown as { processID: number }).processID;
      await waitUntil('the second enqueue to finish or to wait for a lock', async () => {
        if (secondDone) return true;
        const r = await db.query<{ n: string }>(
          "select count(*) as n from pg_locks where locktype = 'advisory' and not granted and pid = $1",
          [t2Pid],
        );
        return Number(r.rows[0]?.n) > 0;
      });
      if (secondDone) {
        await t2.query('commit');
        await waitUntil('the relay to send the row committed first', () => target.sent.length >= 1);
        await t1.query('commit');
      } else {
        await t1.query('commit');
        await second;
        await t2.query('commit');
      }
      await waitUntil('the relay to send both rows', () => target.sent.length >= 2);
    } finally {
      t1.release();
      t2.release();
      await relay.stop();
    }
    const steps = target.sent.map((m) => (JSON.parse(m.body) as { payload: { step: number } }).payload.step);
    expect(
      steps,
      'steps of ordering key order-7 as the target got them: step 1 was enqueued first, step 2 by a concurrent transaction',
    ).toEqual([1, 2]);
  });
});
