import { connect, isBgError } from '@bg/core';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { fromUrl, queueKeys, redisAdapter } from '../src/index.js';

const url = inject('redisUrl');

describe.skipIf(!url)('@bg/redis specifics', () => {
  it('keeps every key of a queue under one hash tag (Redis Cluster)', () => {
    const keys = Object.values(queueKeys('bg', 'emails'));
    for (const key of keys) expect(key.startsWith('{bg:emails}:')).toBe(true);
  });

  it('warns when persistence is off and when eviction could drop jobs', async () => {
    const admin = new Redis(url as string);
    const warnings: string[] = [];
    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const adapter = redisAdapter({ url, onWarning: (m) => warnings.push(m) });
      await adapter.ensureQueue('warn-check');
      await expect.poll(() => warnings.length).toBe(2);
      await adapter.close();
    } finally {
      await admin.config('SET', 'maxmemory-policy', 'noeviction');
      await admin.quit();
    }
    expect(warnings.some((w) => w.includes('maxmemory-policy is "allkeys-lru"'))).toBe(true);
    expect(warnings.some((w) => w.includes('persistence is off'))).toBe(true);
  });

  it('connect(redis://…?prefix=) loads this package and uses the prefix', async () => {
    const adapter = await connect(`${url}/0?prefix=viaurl`);
    expect(adapter.name).toBe('redis');
    await adapter.ensureQueue('url-check');
    const admin = new Redis(url as string);
    expect(await admin.exists('{viaurl:url-check}:s')).toBe(1);
    await admin.quit();
    await adapter.close();
    expect(fromUrl(new URL(`${url}?prefix=p2`)).keys('q').stream).toBe('{p2:q}:s');
  });

  it('a released handle no longer owns its delivery', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    await adapter.ensureQueue('released');
    await adapter.send('released', [{ id: 'r1', body: 'x' }]);
    const [m] = await adapter.receive('released', { max: 1, leaseMs: 60_000 });
    if (!m) throw new Error('nothing received');
    await adapter.release('released', m.handle, 60_000);
    for (const op of [() => adapter.ack('released', m.handle), () => adapter.extend('released', m.handle, 1_000)]) {
      const error = await op().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isBgError(error, 'LEASE_LOST')).toBe(true);
    }
    expect(await adapter.stats('released')).toEqual({ ready: 0, inFlight: 0, delayed: 1, dead: 0 });
    await adapter.close();
  });

  it('a receive still out at close() returns nothing and hands its entry back: another adapter gets it at once', async () => {
    const a = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const b = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    try {
      await b.ensureQueue('in-flight-close');
      // a's connection and scripts are ready, so its receive goes straight to the server.
      expect(await a.receive('in-flight-close', { max: 1, leaseMs: 60_000, waitMs: 0 })).toEqual([]);
      await b.send('in-flight-close', [{ id: 'in-flight', body: 'x' }]);
      const receiving = a.receive('in-flight-close', { max: 1, leaseMs: 60_000, waitMs: 0 });
      const closing = a.close();
      expect(await receiving, 'a receive still out at close() returns nothing (nobody could settle it)').toEqual([]);
      await closing;
      const got = await b.receive('in-flight-close', { max: 1, leaseMs: 60_000, waitMs: 2_000 });
      expect(
        got.map((m) => m.id),
        'the entry a receive took after close() began was not visible again within 2 s (lease 60 s)',
      ).toEqual(['in-flight']);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('close() leaves no open handles', async () => {
    const adapter = redisAdapter({ url, onWarning: () => {} });
    await adapter.ensureQueue('handles');
    await adapter.close();
    await expect.poll(() => adapter.client.status).toBe('end');
  });

  it('a client of the caller is checked like its own, and left as it came at close()', async () => {
    const client = new Redis(url as string);
    try {
      const listenersBefore = client.listenerCount('error');
      const warnings: string[] = [];
      const adapter = redisAdapter({ client, onWarning: (m) => warnings.push(m) });
      await adapter.ensureQueue('own-client');
      // The private test server keeps nothing on disk: the persistence warning must come.
      await expect
        .poll(() => warnings.some((w) => w.includes('persistence is off')), {
          message: `redisAdapter({ client }) ran no startup check (warnings: ${JSON.stringify(warnings)})`,
        })
        .toBe(true);
      await adapter.deleteQueue?.('own-client');
      await adapter.close();
      expect(client.status, 'close() must not close a client it did not open').toBe('ready');
      expect(client.listenerCount('error'), "close() must remove the adapter's error listener from the caller's client").toBe(
        listenersBefore,
      );
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.disconnect();
    }
  });

  it('honours each delivery its own lease length; extending keeps the delivery count', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    await adapter.ensureQueue('lease-lengths');
    await adapter.send('lease-lengths', [
      { id: 'short', body: 's' },
      { id: 'long', body: 'l' },
    ]);
    const [short] = await adapter.receive('lease-lengths', { max: 1, leaseMs: 200 });
    const [long] = await adapter.receive('lease-lengths', { max: 1, leaseMs: 60_000 });
    expect([short?.id, long?.id]).toEqual(['short', 'long']);
    if (!short || !long) throw new Error('nothing received');
    await adapter.extend('lease-lengths', long.handle, 60_000);
    expect((await adapter.stats('lease-lengths')).inFlight).toBe(2);
    const deadline = Date.now() + 5_000;
    let again: Awaited<ReturnType<typeof adapter.receive>> = [];
    while (again.length === 0 && Date.now() < deadline) {
      again = await adapter.receive('lease-lengths', { max: 10, leaseMs: 60_000, waitMs: 500 });
    }
    expect(again.map((m) => [m.id, m.deliveryCount])).toEqual([['short', 2]]);
    expect(await adapter.receive('lease-lengths', { max: 10, leaseMs: 60_000 })).toEqual([]);
    await adapter.ack('lease-lengths', long.handle);
    expect(await adapter.stats('lease-lengths')).toEqual({ ready: 0, inFlight: 1, delayed: 0, dead: 0 });
    await adapter.close();
  });

  it('stats count an expired lease as ready before anyone reclaims it', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    await adapter.ensureQueue('expired-stats');
    await adapter.send('expired-stats', [{ id: 'e1', body: 'x' }]);
    await adapter.receive('expired-stats', { max: 1, leaseMs: 50 });
    await expect.poll(() => adapter.stats('expired-stats')).toEqual({ ready: 1, inFlight: 0, delayed: 0, dead: 0 });
    await adapter.close();
  });

  it('finds an expired lease deep in a large pending list, even with receives of one', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const queue = 'deep-expiry';
    await adapter.ensureQueue(queue);
    const ids = Array.from({ length: 2_001 }, (_, i) => `m${i}`);
    for (let i = 0; i < ids.length; i += 1_000) {
      await adapter.send(
        queue,
        ids.slice(i, i + 1_000).map((id) => ({ id, body: id })),
      );
    }
    const first = await adapter.receive(queue, { max: 1_000, leaseMs: 60_000 });
    const [short] = await adapter.receive(queue, { max: 1, leaseMs: 100 });
    const last = await adapter.receive(queue, { max: 1_000, leaseMs: 60_000 });
    expect(first.length + last.length).toBe(2_000);
    expect(short?.id).toBe('m1000');
    const started = Date.now();
    let again: Awaited<ReturnType<typeof adapter.receive>> = [];
    while (again.length === 0 && Date.now() - started < 10_000) {
      again = await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 1_000 });
    }
    expect(again.map((m) => [m.id, m.deliveryCount])).toEqual([['m1000', 2]]);
    expect(Date.now() - started).toBeLessThan(3_000);
    await adapter.close();
  });

  it('a handle of an earlier delivery to the same consumer is LEASE_LOST, alone or amid good ones', async () => {
    // The entry's lease runs out and the same process (same consumer name) receives it again:
    // only its delivery count tells the two handles apart.
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const queue = 'same-consumer-stale';
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'x', body: 'x' }]);
    const [old] = await adapter.receive(queue, { max: 1, leaseMs: 300 });
    if (!old) throw new Error('nothing received');
    let again: Awaited<ReturnType<typeof adapter.receive>>[number] | undefined;
    const started = Date.now();
    while (again === undefined && Date.now() - started < 5_000) {
      [again] = await adapter.receive(queue, { max: 1, leaseMs: 300, waitMs: 500 });
    }
    if (!again) throw new Error('not received again');
    expect([again.id, old.deliveryCount, again.deliveryCount], 'the redelivered job and both delivery counts').toEqual([
      'x',
      1,
      2,
    ]);
    // Two new entries under the same consumer, within the new lease.
    await adapter.send(
      queue,
      ['a', 'b'].map((id) => ({ id, body: id })),
    );
    const others = await adapter.receive(queue, { max: 2, leaseMs: 300 });
    expect(
      others.map((m) => m.id),
      'the two new entries received under the same consumer',
    ).toEqual(['a', 'b']);
    const lost = (p: Promise<void>) =>
      p.then(
        () => 'acked',
        (e: unknown) => (isBgError(e, 'LEASE_LOST') ? 'LEASE_LOST' : String(e)),
      );
    // Alone: the pending list between the bounds is exactly this entry, with another count.
    expect(await lost(adapter.ack(queue, old.handle)), 'ack of the count-1 handle alone after the count-2 delivery').toBe(
      'LEASE_LOST',
    );
    // Amid good handles of the same turn, in stream order.
    const results = await Promise.all([
      lost(adapter.ack(queue, old.handle)),
      ...others.map((m) => lost(adapter.ack(queue, m.handle))),
    ]);
    expect(results, 'acks of one turn: the stale handle, then two good ones').toEqual(['LEASE_LOST', 'acked', 'acked']);
    expect(await lost(adapter.ack(queue, again.handle)), 'ack of the current (count-2) handle').toBe('acked');
    await adapter.close();
  });

  it('acks and receives of one event-loop turn go as one call, each settled on its own', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const queue = 'tick-merge';
    await adapter.ensureQueue(queue);
    await adapter.send(
      queue,
      ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, body: id })),
    );
    const [a, b] = await adapter.receive(queue, { max: 2, leaseMs: 60_000 });
    if (!a || !b) throw new Error('nothing received');
    await adapter.ack(queue, b.handle);
    const calls = await scriptCalls(adapter.client as Redis, async () => {
      // Same turn: a good ack, a second ack of an acked handle, a stale handle, a malformed
      // one, and two receives (merged, each gets its own share).
      const results = await Promise.allSettled([
        adapter.ack(queue, a.handle),
        adapter.ack(queue, b.handle),
        adapter.ack(queue, `${a.handle.split(':')[0]}:7`),
        adapter.ack(queue, 'not-a-handle'),
        adapter.receive(queue, { max: 2, leaseMs: 60_000 }),
        adapter.receive(queue, { max: 2, leaseMs: 60_000 }),
      ]);
      const [good, again, stale, malformed, first, second] = results;
      expect(good.status).toBe('fulfilled');
      expect(again.status).toBe('fulfilled');
      expect(stale.status === 'rejected' && isBgError(stale.reason, 'LEASE_LOST')).toBe(true);
      expect(malformed.status === 'rejected' && isBgError(malformed.reason, 'INVALID_ARGUMENT')).toBe(true);
      const got = [first, second].map((r) => (r.status === 'fulfilled' ? r.value.map((m) => m.id) : ['failed']));
      expect(got).toEqual([['c', 'd'], ['e']]);
    });
    // The acks rode along in one receive call (the malformed handle never reached Redis).
    expect(calls).toBe(1);
    expect(await adapter.stats(queue)).toEqual({ ready: 0, inFlight: 3, delayed: 0, dead: 0 });
    await adapter.close();
  });

  it('between full calls a busy reader takes new entries with a plain XREADGROUP, and still sees its own release at once', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const queue = 'fast-path';
    await adapter.ensureQueue(queue);
    await adapter.send(
      queue,
      ['a', 'b', 'c', 'd'].map((id) => ({ id, body: id })),
    );
    const [a] = await adapter.receive(queue, { max: 1, leaseMs: 60_000 });
    if (!a) throw new Error('nothing received');
    let got: string[] = [];
    const calls = await scriptCalls(adapter.client as Redis, async () => {
      got = (await adapter.receive(queue, { max: 1, leaseMs: 60_000 })).map((m) => m.id);
    });
    expect({ got, calls }).toEqual({ got: ['b'], calls: 0 });
    await adapter.release(queue, a.handle, 0);
    const again = await adapter.receive(queue, { max: 1, leaseMs: 60_000 });
    expect(again.map((m) => [m.id, m.deliveryCount])).toEqual([['a', 2]]);
    await adapter.close();
  });

  it('reclaims an expired lease held under the earlier encoding (a consumer name without a lease length)', async () => {
    const adapter = redisAdapter({ url, prefix: 'unit', onWarning: () => {} });
    const queue = 'legacy-lease';
    await adapter.ensureQueue(queue);
    await adapter.send(queue, [{ id: 'old', body: 'o' }]);
    const admin = new Redis(url as string);
    const { stream } = queueKeys('unit', queue);
    // A worker of an earlier version: read under a plain name, lease of 100 ms encoded as idle time.
    const read = (await admin.xreadgroup('GROUP', 'bg', 'old-host:1:abcd', 'COUNT', 1, 'STREAMS', stream, '>')) as [
      string,
      [string, string[]][],
    ][];
    const entry = read[0]?.[1][0]?.[0] as string;
    const horizon = 10 * 365 * 24 * 3_600_000;
    await admin.xclaim(stream, 'bg', 'old-host:1:abcd', 0, entry, 'IDLE', horizon - 100, 'JUSTID');
    expect((await adapter.stats(queue)).inFlight).toBe(1);
    const deadline = Date.now() + 5_000;
    let again: Awaited<ReturnType<typeof adapter.receive>> = [];
    while (again.length === 0 && Date.now() < deadline) {
      again = await adapter.receive(queue, { max: 1, leaseMs: 60_000, waitMs: 500 });
    }
    expect(again.map((m) => [m.id, m.deliveryCount])).toEqual([['old', 2]]);
    await adapter.ack(queue, again[0]?.handle as string);
    expect(await adapter.stats(queue)).toEqual({ ready: 0, inFlight: 0, delayed: 0, dead: 0 });
    await admin.quit();
    await adapter.close();
  });
});

/** How many Lua script calls `client` sent while `fn` ran. */
async function scriptCalls(client: Redis, fn: () => Promise<void>): Promise<number> {
  const original = client.sendCommand.bind(client);
  let calls = 0;
  client.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    if (command.name === 'evalsha' || command.name === 'eval') calls++;
    return (original as (...args: unknown[]) => unknown)(command, ...rest);
  }) as typeof client.sendCommand;
  try {
    await fn();
    return calls;
  } finally {
    client.sendCommand = original;
  }
}
