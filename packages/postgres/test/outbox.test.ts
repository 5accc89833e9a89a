import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createWorker, defineJob, type JobContext } from '@bg/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { effectivelyOnce, postgresAdapter } from '../src/index.js';
import { createOutbox, hasOutbox, outboxQueueStats, outboxStats, startRelay } from '../src/outbox/index.js';

const url = inject('pgUrl');

const signup = defineJob({
  type: 'user.signup',
  schema: {
    '~standard': {
      version: 1,
      vendor: 'test',
      types: undefined as unknown as { input: { userId: string }; output: { userId: string } },
      validate: (value: unknown) =>
        typeof (value as { userId?: unknown })?.userId === 'string'
          ? { value: value as { userId: string } }
          : { issues: [{ message: 'userId must be a string' }] },
    },
  },
});

async function waitFor(what: string, check: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(!url)('outbox and relay (private PostgreSQL)', () => {
  const db = new pg.Pool({ connectionString: url, max: 6 });
  db.on('error', () => {});
  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);

  /** Runs `fn` in a transaction on one client; commits, or rolls back when `rollback`. */
  async function inTransaction(fn: (tx: pg.PoolClient) => Promise<void>, rollback = false): Promise<void> {
    const tx = await db.connect();
    try {
      await tx.query('begin');
      await fn(tx);
      await tx.query(rollback ? 'rollback' : 'commit');
    } finally {
      tx.release();
    }
  }

  beforeAll(async () => {
    for (const schema of ['obx', 'obk', 'obo', 'obs', 'eff']) await postgresAdapter({ url, schema }).migrate();
    await db.query('create table if not exists signups (user_id text primary key)');
    await db.query('create table if not exists effects (job_id text, n integer)');
  });
  afterAll(async () => {
    await db.end();
  });

  it('a relay on a schema never migrated reports typed errors: onError and forwardOnce get QUEUE_NOT_FOUND, not a raw pg error', async () => {
    const target = postgresAdapter({ url, schema: 'obx' });
    const errors: unknown[] = [];
    const relay = startRelay({ db, target, schema: 'never_migrated', pollIntervalMs: 5_000, onError: (e) => errors.push(e) });
    try {
      await waitFor('the relay to report its first failed round', async () => errors.length > 0);
      const reported = errors[0] as { name?: string; code?: string; message?: string };
      expect({ name: reported.name, code: reported.code }, `onError's error: ${reported.message}`).toEqual({
        name: 'BgError',
        code: 'QUEUE_NOT_FOUND',
      });
      const direct = await relay.forwardOnce().catch((e: unknown) => e);
      expect((direct as { code?: string }).code, `forwardOnce's rejection: ${String(direct)}`).toBe('QUEUE_NOT_FOUND');
      const stats = await relay.stats().catch((e: unknown) => e);
      expect((stats as { code?: string }).code, `stats' rejection: ${String(stats)}`).toBe('QUEUE_NOT_FOUND');
    } finally {
      await relay.stop();
      await target.close();
    }
  });

  it('outboxQueueStats breaks backlog and lag down by target queue; hasOutbox finds the table', async () => {
    expect(await hasOutbox(db, 'obs'), 'hasOutbox on a migrated schema').toBe(true);
    expect(await hasOutbox(db, 'no_such_schema'), 'hasOutbox on a schema without bg tables').toBe(false);
    expect(await outboxQueueStats(db, 'obs'), 'outboxQueueStats of an empty outbox').toEqual([]);
    const outbox = createOutbox({ schema: 'obs' });
    await inTransaction(async (tx) => {
      await outbox.enqueue(signup, { userId: 'a1' }, { tx, queue: 'emails' });
      await outbox.enqueue(signup, { userId: 'a2' }, { tx, queue: 'emails' });
      await outbox.enqueue(signup, { userId: 'b1' }, { tx, queue: 'billing' });
    });
    await db.query("update obs.outbox set created_at = created_at - 60000 where queue = 'billing'");
    const perQueue = await outboxQueueStats(db, 'obs');
    expect(
      perQueue.map((q) => ({ queue: q.queue, backlog: q.backlog })),
      'outboxQueueStats: rows per target queue, sorted by name',
    ).toEqual([
      { queue: 'billing', backlog: 1 },
      { queue: 'emails', backlog: 2 },
    ]);
    expect(perQueue[0]?.lagMs, 'lag of the billing row written 60 s earlier').toBeGreaterThanOrEqual(60_000);
    expect(perQueue[1]?.lagMs, 'lag of the fresh emails rows').toBeLessThan(60_000);
    expect(await outboxStats(db, 'obs'), 'outboxStats: the total').toMatchObject({ backlog: 3 });
  });

  it('enqueue in a rolled-back transaction leaves nothing; a committed one is relayed with its data', async () => {
    const outbox = createOutbox({ schema: 'obx', queue: 'signups' });
    await inTransaction(async (tx) => {
      await tx.query('insert into signups (user_id) values ($1)', ['rolled-back']);
      await outbox.enqueue(signup, { userId: 'rolled-back' }, { tx });
    }, true);
    expect(await count('select count(*) as n from obx.outbox'), 'outbox rows after a rollback').toBe(0);
    let id = '';
    await inTransaction(async (tx) => {
      await tx.query('insert into signups (user_id) values ($1)', ['u1']);
      id = (await outbox.enqueue(signup, { userId: 'u1' }, { tx })).id;
    });
    expect(await outboxStats(db, 'obx'), 'outboxStats after one commit').toMatchObject({ backlog: 1 });
    const target = postgresAdapter({ url, schema: 'obx' });
    await target.ensureQueue('signups');
    const relay = startRelay({ db, target, schema: 'obx', pollIntervalMs: 5_000 });
    try {
      const received = await target.receive('signups', { max: 10, leaseMs: 5_000, waitMs: 10_000 });
      expect(
        received.map((m) => m.id),
        'receive on the target after the relay ran: the committed job',
      ).toEqual([id]);
      expect(JSON.parse(received[0]?.body ?? '{}'), 'the relayed envelope').toMatchObject({
        type: 'user.signup',
        payload: { userId: 'u1' },
      });
      await waitFor('the relayed row to be deleted', async () => (await outboxStats(db, 'obx')).backlog === 0);
      expect(relay.forwarded, 'relay.forwarded').toBe(1);
      await expect(
        outbox.enqueue(signup, { userId: 7 } as never, { tx: db }),
        'outbox.enqueue with an invalid payload',
      ).rejects.toMatchObject({ code: 'INVALID_PAYLOAD' });
    } finally {
      await relay.stop();
      await target.close();
    }
  });

  it('two relays in parallel keep per-key order (rows of a key are taken only after the earlier ones)', async () => {
    const outbox = createOutbox({
      schema: 'obo',
      queue: 'ordered',
      capabilities: { ...postgresAdapter({ url, schema: 'obo' }).capabilities, ordering: true },
    });
    const sent: string[] = [];
    for (let t = 0; t < 6; t++) {
      await inTransaction(async (tx) => {
        for (let i = 0; i < 10; i++) {
          const key = `k${i % 3}`;
          const r = await outbox.enqueue(signup, { userId: `${t}-${i}` }, { tx, orderingKey: key });
          sent.push(`${key}:${r.id}`);
        }
      });
    }
    const target = postgresAdapter({ url, schema: 'obo' });
    const relays = [1, 2].map(() => startRelay({ db, target, schema: 'obo', batchSize: 4, pollIntervalMs: 200 }));
    try {
      await waitFor('the outbox to drain', async () => (await outboxStats(db, 'obo')).backlog === 0);
      const stored = (await db.query<{ id: string }>("select id from obo.jobs where queue = 'ordered' order by seq")).rows.map(
        (r) => r.id,
      );
      for (const key of ['k0', 'k1', 'k2']) {
        const expected = sent.filter((s) => s.startsWith(`${key}:`)).map((s) => s.slice(key.length + 1));
        const got = stored.filter((id) => expected.includes(id));
        expect(got, `jobs of ordering key ${key} in the target's storage order (two relays, batches of 4)`).toEqual(expected);
      }
      expect(stored.length, 'jobs stored in the target').toBe(60);
    } finally {
      await Promise.all(relays.map((r) => r.stop()));
      await target.close();
    }
  });

  it('relay processes killed with SIGKILL at random instants lose no job', async () => {
    const outbox = createOutbox({ schema: 'obk', queue: 'killed' });
    const ids: string[] = [];
    for (let t = 0; t < 5; t++) {
      await inTransaction(async (tx) => {
        for (let i = 0; i < 40; i++) ids.push((await outbox.enqueue(signup, { userId: `${t}-${i}` }, { tx })).id);
      });
    }
    const script = fileURLToPath(new URL('./relay-process.mjs', import.meta.url));
    const spawnRelay = (): ChildProcess =>
      fork(script, [], { env: { ...process.env, BG_TEST_PG_URL: url, BG_TEST_SCHEMA: 'obk' }, stdio: 'ignore' });
    const children = new Set<ChildProcess>();
    let kills = 0;
    try {
      const deadline = Date.now() + 40_000;
      while ((await outboxStats(db, 'obk')).backlog > 0) {
        if (Date.now() > deadline) throw new Error(`outbox not drained after 40 s and ${kills} kills`);
        while (children.size < 2) {
          const child = spawnRelay();
          children.add(child);
          child.once('exit', () => children.delete(child));
        }
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
        if (kills < 6) {
          const [victim] = children;
          victim?.kill('SIGKILL');
          kills++;
        }
      }
      const stored = new Set(
        (await db.query<{ id: string }>("select id from obk.jobs where queue = 'killed'")).rows.map((r) => r.id),
      );
      const missing = ids.filter((id) => !stored.has(id));
      expect(missing, `jobs enqueued (${ids.length}) but not in the target after ${kills} relay kills`).toEqual([]);
      expect(kills, 'relay processes killed').toBeGreaterThan(0);
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  }, 60_000);

  it('effectivelyOnce: a redelivered job whose transaction committed is acked without running again', async () => {
    const adapter = postgresAdapter({ url, schema: 'eff' });
    const queue = `eff-${Date.now().toString(36)}`;
    await adapter.ensureQueue(queue);
    let runs = 0;
    const handler = effectivelyOnce<{ userId: string }>({ db, schema: 'eff' }, async (payload, ctx) => {
      runs++;
      await ctx.tx.query('insert into effects (job_id, n) values ($1, 1)', [ctx.jobId]);
      expect(payload.userId, 'payload seen by the handler').toBe('e1');
    });
    const { createQueue } = await import('@bg/core');
    const { id } = await createQueue({ adapter, queue }).enqueue(signup, { userId: 'e1' });
    // First delivery: the handler commits, then the "process dies" before the ack.
    const [first] = await adapter.receive(queue, { max: 1, leaseMs: 300, waitMs: 5_000 });
    expect(first?.id, 'first delivery').toBe(id);
    await handler({ userId: 'e1' }, { jobId: id } as JobContext);
    expect(runs, 'handler runs after the first delivery').toBe(1);
    // The lease expires; a worker gets the redelivery and must ack it without running the body.
    const worker = createWorker({ adapter, queue, concurrency: 1, leaseMs: 5_000, pollMs: 200 });
    worker.handle(signup, handler);
    await worker.start();
    try {
      await waitFor(
        'the redelivered job to be acked',
        async () =>
          (await adapter.stats(queue)).ready + (await adapter.stats(queue)).inFlight + (await adapter.stats(queue)).delayed === 0,
      );
    } finally {
      await worker.stop();
      await adapter.close();
    }
    expect(runs, 'handler body runs after a redelivery of a committed job').toBe(1);
    expect(await count('select count(*) as n from effects where job_id = $1', [id]), 'effect rows for the job').toBe(1);
  });

  it('effectivelyOnce: a connection lost between two queries fails the call and leaves the process running', async () => {
    // The pool stops listening for a client's 'error' while it is checked out: without a
    // listener of its own, the transaction's client ends the process with an unhandled 'error'.
    const script = fileURLToPath(new URL('./lost-connection-process.mjs', import.meta.url));
    const child = fork(script, [], {
      env: { ...process.env, BG_TEST_PG_URL: url, BG_TEST_SCHEMA: 'eff' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const messages: Record<string, unknown>[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (message: Record<string, unknown>) => {
      messages.push(message);
      if (typeof message.pid === 'number') {
        db.query('select pg_terminate_backend($1)', [message.pid]).catch((error: unknown) => {
          messages.push({ terminate: String(error) });
        });
      }
    });
    const code = await exited;
    expect(
      { code, stderr: stderr.slice(0, 500) },
      'exit of the process whose effectivelyOnce transaction lost its connection',
    ).toEqual({ code: 0, stderr: '' });
    expect(messages.at(-1), 'how the effectivelyOnce call ended, and a query on the pool after it').toMatchObject({
      outcome: 'rejected',
      after: 1,
    });
  });
});
