import { failureOf, receiveUntil } from '@bg/backends';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { isBgError, type ReceivedMessage } from '@bg/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queueKeys, type RedisAdapter, redisAdapter } from '../src/index.js';

const enabled = inject('redisUrl');
const quiet = () => {};

/** Receives until `n` messages came (each call waiting up to 1 s); fails naming the queue after `timeoutMs`. */
async function receiveN(
  adapter: RedisAdapter,
  queue: string,
  n: number,
  leaseMs: number,
  timeoutMs = 5_000,
): Promise<ReceivedMessage[]> {
  const got = await receiveUntil(adapter, queue, n, { leaseMs, timeoutMs });
  if (got.length < n) throw new Error(`expected ${n} messages from ${queue} within ${timeoutMs} ms, got ${got.length}`);
  return got;
}

// A private server: the tests count the server's script calls, which other files' clients must not add to.
describe.skipIf(!enabled)('@bg/redis: acks inside a lease this process holds skip the ownership script', () => {
  let server: RedisServer | undefined;
  let url = '';
  let admin: Redis;
  let n = 0;
  const adapters: RedisAdapter[] = [];
  const make = (extra: Parameters<typeof redisAdapter>[0] = {}): RedisAdapter => {
    const adapter = redisAdapter({ url, prefix: `oa${process.pid}x${++n}`, onWarning: quiet, ...extra });
    adapters.push(adapter);
    return adapter;
  };
  /** Calls of the ack script and of XACK on the server so far. */
  const calls = async (): Promise<{ script: number; xack: number }> => {
    const info = await admin.info('commandstats');
    const count = (cmd: string) => Number(new RegExp(`cmdstat_${cmd}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
    return { script: count('evalsha') + count('eval'), xack: count('xack') };
  };

  beforeAll(async () => {
    server = await startRedis();
    url = (server as RedisServer).url;
    admin = new Redis(url);
  });
  afterAll(async () => {
    for (const a of adapters) await a.close();
    await admin?.quit();
    await server?.stop();
  });

  it('an ack well inside the lease is a plain XACK + XDEL: no script call, the entry is gone', async () => {
    const adapter = make();
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [
      { id: 'a', body: 'x' },
      { id: 'b', body: 'y' },
    ]);
    const got = await receiveN(adapter, 'jobs', 2, 30_000);
    const before = await calls();
    await Promise.all(got.map((m) => adapter.ack('jobs', m.handle)));
    const after = await calls();
    expect(
      { scripts: after.script - before.script, xacks: after.xack - before.xack },
      'ack() of two deliveries 30 s inside their lease: one XACK, no ack script',
    ).toEqual({ scripts: 0, xacks: 1 });
    expect(await admin.xlen(queueKeys(`oa${process.pid}x${n}`, 'jobs').stream), 'the acked entries are deleted').toBe(0);
    // A second ack of the same handle is harmless (it goes through the checked path).
    await adapter.ack('jobs', (got[0] as ReceivedMessage).handle);
  });

  it('within ownershipMarginMs of the lease end the ack is checked in Redis; a stale one is LEASE_LOST', async () => {
    // A margin as long as the lease: every ack of it is checked.
    const adapter = make({ ownershipMarginMs: 60_000 });
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [{ id: 'a', body: 'x' }]);
    const [m] = await receiveN(adapter, 'jobs', 1, 30_000);
    const before = await calls();
    await adapter.ack('jobs', (m as ReceivedMessage).handle);
    const after = await calls();
    expect(after.script - before.script, 'ack() inside the margin runs the ack script').toBe(1);
  });

  it('an extension to a shorter lease counts at once: once it ran out and another consumer holds the job, the ack is LEASE_LOST and the other delivery stays', async () => {
    const first = make();
    const prefix = `oa${process.pid}x${n}`;
    const other = redisAdapter({ url, prefix, onWarning: quiet });
    adapters.push(other);
    await first.ensureQueue('jobs');
    await first.send('jobs', [{ id: 'a', body: 'x' }]);
    const [m] = await receiveN(first, 'jobs', 1, 60_000);
    const held = m as ReceivedMessage;
    await first.extend('jobs', held.handle, 1_000);
    const [again] = await receiveN(other, 'jobs', 1, 30_000, 10_000);
    expect(again?.deliveryCount, 'the other consumer got the job once the 1 s extension ran out').toBe(2);
    const error = await failureOf(() => first.ack('jobs', held.handle));
    expect(
      isBgError(error, 'LEASE_LOST'),
      `ack(handle whose lease was extended to 1 s and ran out; another consumer holds the job): ${String(error)}`,
    ).toBe(true);
    expect(await admin.xlen(queueKeys(prefix, 'jobs').stream), 'the stale ack must not remove the other delivery').toBe(1);
    await other.ack('jobs', (again as ReceivedMessage).handle);
    expect(await admin.xlen(queueKeys(prefix, 'jobs').stream)).toBe(0);
  });

  it("extend and release with the handle by another adapter instance never end the holder's lease sooner: its unchecked ack cannot remove a later delivery", async () => {
    const holder = make();
    const prefix = `oa${process.pid}x${n}`;
    const other = redisAdapter({ url, prefix, onWarning: quiet });
    const third = redisAdapter({ url, prefix, onWarning: quiet });
    adapters.push(other, third);
    await holder.ensureQueue('jobs');
    await holder.send('jobs', [
      { id: 'ext', body: 'x' },
      { id: 'rel', body: 'y' },
    ]);
    const lease = 800;
    const receivedFrom = Date.now();
    const got = await receiveN(holder, 'jobs', 2, lease);
    const handle = (id: string) => (got.find((m) => m.id === id) as ReceivedMessage).handle;
    await other.extend('jobs', handle('ext'), 50);
    await other.release('jobs', handle('rel'), 0);
    const again = await receiveN(third, 'jobs', 2, 30_000);
    const after = Date.now() - receivedFrom;
    for (const m of got) {
      const error = await failureOf(() => holder.ack('jobs', m.handle));
      expect(
        isBgError(error, 'LEASE_LOST'),
        `holder.ack(${m.id}, handle of delivery 1) after another instance extended/released it and a third received delivery ${again.find((x) => x.id === m.id)?.deliveryCount}: must be LEASE_LOST, got ${error === undefined ? 'success' : String(error)}`,
      ).toBe(true);
    }
    expect(await admin.xlen(queueKeys(prefix, 'jobs').stream), "the holder's stale acks must leave the third's deliveries").toBe(
      2,
    );
    expect(
      after,
      `receive by a third instance after another instance extended one handle to 50 ms and released the other (delay 0): the holder's ${lease} ms lease must run out first, got both ${after} ms after the holder's receive`,
    ).toBeGreaterThanOrEqual(lease);
  });

  it('an ack after release is LEASE_LOST (the released handle is no longer held)', async () => {
    const adapter = make();
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [{ id: 'a', body: 'x' }]);
    const [m] = await receiveN(adapter, 'jobs', 1, 30_000);
    await adapter.release('jobs', (m as ReceivedMessage).handle, 60_000);
    const error = await failureOf(() => adapter.ack('jobs', (m as ReceivedMessage).handle));
    expect(isBgError(error, 'LEASE_LOST'), `ack(released handle): ${String(error)}`).toBe(true);
    expect(await adapter.stats('jobs'), 'the released job stays stored, delayed').toMatchObject({ delayed: 1 });
  });

  it('a queue deleted by another process under a held lease: the ack is QUEUE_NOT_FOUND, not a success', async () => {
    const adapter = make();
    const prefix = `oa${process.pid}x${n}`;
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [{ id: 'a', body: 'x' }]);
    const [m] = await receiveN(adapter, 'jobs', 1, 30_000);
    const elsewhere = redisAdapter({ url, prefix, onWarning: quiet });
    adapters.push(elsewhere);
    expect(await elsewhere.deleteQueue('jobs')).toBe(true);
    const error = await failureOf(() => adapter.ack('jobs', (m as ReceivedMessage).handle));
    expect(isBgError(error, 'QUEUE_NOT_FOUND'), `ack on a queue deleted meanwhile: ${String(error)}`).toBe(true);
  });

  it('the owned acks of one turn share one promise (not one per ack); a checked ack keeps its own', async () => {
    const adapter = make();
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [
      { id: 'a', body: 'x' },
      { id: 'b', body: 'y' },
      { id: 'c', body: 'z' },
    ]);
    const [a, b, c] = await receiveN(adapter, 'jobs', 3, 30_000);
    await adapter.ack('jobs', (c as ReceivedMessage).handle);
    const first = adapter.ack('jobs', (a as ReceivedMessage).handle);
    const second = adapter.ack('jobs', (b as ReceivedMessage).handle);
    // c was acked already: a second ack of it is checked in Redis (harmless), under a promise of its own.
    const again = adapter.ack('jobs', (c as ReceivedMessage).handle);
    expect(first, 'ack() of two leases this process holds, in one turn: the same promise').toBe(second);
    expect(again, 'ack() of a handle acked already (the checked path): a promise of its own').not.toBe(first);
    await Promise.all([first, second, again]);
    expect(await admin.xlen(queueKeys(`oa${process.pid}x${n}`, 'jobs').stream), 'every acked entry is deleted').toBe(0);
  });

  it('owned acks whose lease comes within the margin before the turn ends (a stalled event loop) go the checked path together and resolve', async () => {
    // Owned for the first second of the 5 s lease (margin 4 s), then checked in Redis.
    const adapter = make({ ownershipMarginMs: 4_000 });
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [
      { id: 'a', body: 'x' },
      { id: 'b', body: 'y' },
    ]);
    const got = await receiveN(adapter, 'jobs', 2, 5_000);
    const receivedAt = performance.now();
    const before = await calls();
    const acks = got.map((m) => adapter.ack('jobs', m.handle));
    expect(acks[0], 'both acks were owned when made (one shared promise)').toBe(acks[1]);
    // The rest of this turn outlasts the owned part of the lease: the flush finds them past it.
    while (performance.now() < receivedAt + 1_100) {
      // a stalled event loop
    }
    await Promise.all(acks);
    const after = await calls();
    expect(after.script - before.script, 'acks past the owned part of the lease at the flush: one ack script').toBe(1);
    expect(await admin.xlen(queueKeys(`oa${process.pid}x${n}`, 'jobs').stream), 'both entries are deleted').toBe(0);
  });

  it.each([-1, Number.NaN, '250'])('ownershipMarginMs %s is INVALID_ARGUMENT naming the option', (bad) => {
    let error: unknown;
    try {
      redisAdapter({ url: 'redis://127.0.0.1:1', ownershipMarginMs: bad as number });
    } catch (caught) {
      error = caught;
    }
    expect(isBgError(error, 'INVALID_ARGUMENT'), `redisAdapter({ ownershipMarginMs: ${String(bad)} }): ${String(error)}`).toBe(
      true,
    );
    expect(String((error as Error).message)).toContain('ownershipMarginMs');
  });
});
