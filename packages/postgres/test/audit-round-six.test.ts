import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';
import { type Adapter, BgError } from '@bg/core';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type PostgresAdapter, postgresAdapter } from '../src/index.js';
import { createOutbox, type Relay, type RelayOptions, startRelay } from '../src/outbox/index.js';
import { anyObjectJob, fresh, waitFor } from './support.js';

const url = inject('pgUrl') as string;

const blob = anyObjectJob('r6.blob');

describe.skipIf(!url)('audit round six: the outbox relay and its target queues (private PostgreSQL)', () => {
  const db = new pg.Pool({ connectionString: url, max: 6 });
  db.on('error', () => {});
  let target: PostgresAdapter;
  let other: PostgresAdapter;
  const relays: Relay[] = [];
  const run = (options: RelayOptions): Relay => {
    const relay = startRelay(options);
    relays.push(relay);
    return relay;
  };
  const count = async (sql: string, values: unknown[]): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, values)).rows[0]?.n ?? 0);
  const stored = (queue: string): Promise<number> => count('select count(*) as n from r6_t.jobs where queue = $1', [queue]);
  const waiting = (queue: string, schema = 'r6_o'): Promise<number> =>
    count(`select count(*) as n from ${schema}.outbox where queue = $1`, [queue]);

  /** Writes one job per queue of `queues`, in order, in one committed transaction to the outbox of `schema`. */
  async function enqueueAll(queues: string[], schema = 'r6_o'): Promise<void> {
    const outbox = createOutbox({ schema });
    const tx = await db.connect();
    try {
      await tx.query('begin');
      for (const [n, queue] of queues.entries()) await outbox.enqueue(blob, { n }, { tx, queue });
      await tx.query('commit');
    } finally {
      tx.release();
    }
  }

  beforeAll(async () => {
    for (const schema of ['r6_o', 'r6_q', 'r6_t']) await postgresAdapter({ url, schema }).migrate();
    target = postgresAdapter({ url, schema: 'r6_t' });
    // Another process's adapter on the target's tables (bgctl queue delete, an operator).
    other = postgresAdapter({ url, schema: 'r6_t' });
  });
  afterAll(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all([target.close(), other.close()]);
    await db.end();
  });

  it('a target queue deleted while the relay runs is created again, as a fresh relay does: its later rows are not held in the outbox for ever', async () => {
    const queue = fresh('gone');
    const errors: BgError[] = [];
    run({ db, target, schema: 'r6_o', pollIntervalMs: 100, onError: (e) => errors.push(e) });
    await enqueueAll([queue]);
    await waitFor('the first job forwarded (the relay created the queue)', async () => (await stored(queue)) === 1);

    expect(await other.deleteQueue(queue), 'the queue was deleted by another process').toBe(true);
    await enqueueAll([queue]);
    try {
      await waitFor('the job enqueued after the deletion forwarded', async () => (await stored(queue)) === 1, 8_000);
    } catch (error) {
      const codes = [...new Set(errors.map((e) => e.code))].join(', ');
      throw new Error(
        `the relay never forwarded the row (still ${await waiting(queue)} in the outbox; onError heard ${errors.length} error(s): ${codes}): it remembered the queue as ensured and never ensured it again, while a relay started now would create it (${String(error)})`,
      );
    }
    // The relay deletes a row after the target stored its job: the row leaves a moment later.
    await waitFor('the forwarded row left the outbox', async () => (await waiting(queue)) === 0, 8_000);
    expect(await stored(queue), 'the job enqueued after the deletion is stored once').toBe(1);
  });

  it("a queue the target refuses for good (ensureQueue: a non-retryable INVALID_ARGUMENT, as Azure refuses '-poison' names) is set aside and holds up no other queue's rows", async () => {
    const refused = fresh('orders').concat('-poison');
    const healthy = fresh('mail');
    // The target refuses the name as the Azure adapter does (azureQueueName); every other call goes to PostgreSQL.
    const picky: Adapter = Object.create(target, {
      ensureQueue: {
        value: async (queue: string) => {
          if (queue.endsWith('-poison')) {
            throw new BgError('INVALID_ARGUMENT', `queue "${queue}" ends in "-poison": choose another name`, {
              retryable: false,
              details: { queue },
            });
          }
          return target.ensureQueue(queue);
        },
      },
    });
    const errors: BgError[] = [];
    // Two rows per round: the first round's two rows are both bound for the refused queue.
    run({ db, target: picky, schema: 'r6_q', batchSize: 2, pollIntervalMs: 100, onError: (e) => errors.push(e) });
    await enqueueAll([refused, refused, healthy], 'r6_q');
    try {
      await waitFor('the healthy queue’s job forwarded', async () => (await stored(healthy)) === 1, 8_000);
    } catch (error) {
      throw new Error(
        `the healthy queue's row never left the outbox: the relay took the two rows of the refused queue in every round, failed them (onError heard ${errors.length} error(s), codes ${[...new Set(errors.map((e) => e.code))].join(', ')}) and never reached the row behind them (${String(error)})`,
      );
    }
    const failed = await db.query<{ queue: string; error_code: string }>(
      'select queue, error_code from r6_q.outbox_failed where queue = $1',
      [refused],
    );
    expect(failed.rows, 'the refused queue’s rows are set aside in outbox_failed with the target’s code').toEqual([
      { queue: refused, error_code: 'INVALID_ARGUMENT' },
      { queue: refused, error_code: 'INVALID_ARGUMENT' },
    ]);
    expect(await waiting(refused, 'r6_q'), 'nothing of the refused queue waits in the outbox any more').toBe(0);
    expect(errors.filter((e) => e.details.setAside === true).length, 'onError heard each row set aside, once').toBe(2);
  });
});

/**
 * A loopback TCP relay to PostgreSQL that can black-hole one relayed connection (a NAT or
 * firewall that forgot it: packets dropped both ways, no RST), named by the port its upstream
 * side uses, which PostgreSQL shows as the backend's `client_port`.
 */
async function choosyRelay(to: URL): Promise<{ url: string; silence(upstreamPort: number): boolean; close(): void }> {
  const pairs = new Map<number, { silent: boolean }>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ host: to.hostname, port: Number(to.port) });
    const state = { silent: false };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    upstream.on('connect', () => pairs.set(upstream.localPort as number, state));
    client.on('data', (chunk) => {
      if (!state.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!state.silent) client.write(chunk);
    });
    client.on('close', () => {
      if (!state.silent) upstream.destroy();
    });
    upstream.on('close', () => {
      if (!state.silent) client.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const via = new URL(to.href);
  via.host = `127.0.0.1:${port}`;
  return {
    url: via.href,
    silence(upstreamPort) {
      const pair = pairs.get(upstreamPort);
      if (pair === undefined) return false;
      pair.silent = true;
      return true;
    },
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe.skipIf(!url)('audit round six: a LISTEN connection the network forgot (private PostgreSQL)', () => {
  it('is noticed and made again, so a job sent afterwards into an idle queue starts at once, not at the next fallback poll', async () => {
    const schema = 'r6_listen';
    const admin = new pg.Pool({ connectionString: url, max: 2 });
    admin.on('error', () => {});
    const relay = await choosyRelay(new URL(url));
    // A long fallback poll: only a notification can wake the waiting receive promptly.
    const consumer = postgresAdapter({ url: relay.url, schema, pollIntervalMs: 60_000 });
    const producer = postgresAdapter({ url, schema });
    const listeners = async (): Promise<{ pid: number; port: number }[]> =>
      (
        await admin.query<{ pid: number; client_port: number }>(
          'select pid, client_port from pg_stat_activity where query = $1',
          [`listen "bg_${schema}"`],
        )
      ).rows.map((r) => ({ pid: r.pid, port: r.client_port }));
    try {
      const queue = fresh('nat');
      await consumer.ensureQueue(queue);
      await producer.ensureQueue(queue);
      // An idle worker: receives that wait, one after the other.
      const got: { id: string; at: number }[] = [];
      let stop = false;
      const worker = (async () => {
        while (!stop) {
          for (const m of await consumer.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 20_000 })) {
            got.push({ id: m.id, at: Date.now() });
          }
        }
      })().catch(() => {});
      await waitFor('the LISTEN connection', async () => (await listeners()).length === 1);
      const [first] = await listeners();
      expect(relay.silence(first?.port ?? -1), 'the LISTEN connection found in the relay').toBe(true);
      try {
        await waitFor('a new LISTEN connection', async () => (await listeners()).some((l) => l.pid !== first?.pid), 15_000);
      } catch (error) {
        throw new Error(
          `the adapter never noticed that its LISTEN connection was black-holed: it still counts on it, so notifications are lost and every idle receive waits for its deadline or the fallback poll (${String(error)})`,
        );
      }
      const sentAt = Date.now();
      await producer.send(queue, [{ id: 'after-nat', body: '{}' }]);
      await waitFor('the job sent after the new LISTEN connection', async () => got.some((g) => g.id === 'after-nat'), 10_000);
      const took = (got.find((g) => g.id === 'after-nat')?.at ?? Number.NaN) - sentAt;
      expect(took, 'ms from the send to the delivery into an idle queue (fallback poll 60 s, receive waits 20 s)').toBeLessThan(
        1_500,
      );
      stop = true;
      await consumer.close();
      await worker;
    } finally {
      await consumer.close();
      await producer.close();
      relay.close();
      await admin.end();
    }
  }, 40_000);
});

describe.skipIf(!url)('audit round six: a waiting receive and a due row another transaction holds (private PostgreSQL)', () => {
  it('looks again after short pauses, not every millisecond, while the lock is held; takes the row once it is free', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    let statements = 0;
    const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
    (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
      statements++;
      return query(...args);
    };
    const adapter = postgresAdapter({ pool, schema: 'r6_locked' });
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    const queue = fresh('locked');
    try {
      await adapter.ensureQueue(queue);
      const id = 'locked-1';
      await adapter.send(queue, [{ id, body: '{"n":1}' }]);
      // Another transaction holds the due row (an application's own `select … for update`).
      await locker.query('begin');
      const held = await locker.query('select 1 from r6_locked.jobs where queue = $1 for update', [queue]);
      expect(held.rowCount, 'the row to lock').toBe(1);
      statements = 0;
      const waitMs = 1_000;
      const got = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs });
      expect(got, 'the locked row cannot be received').toEqual([]);
      // Two statements per look: with a 25 ms pause about 80 in one second; every millisecond
      // (the bug) several hundred to thousands.
      expect(
        statements,
        `receive(waitMs ${waitMs}) on a queue whose due row is locked ran ${statements} statements`,
      ).toBeLessThan(150);
      await locker.query('rollback');
      const after = await adapter.receive(queue, { max: 1, leaseMs: 30_000, waitMs: 2_000 });
      expect(
        after.map((m) => m.id),
        'the row is received once the lock is gone',
      ).toEqual([id]);
    } finally {
      await locker.end();
      await adapter.close();
      await pool.end();
    }
  }, 30_000);
});
