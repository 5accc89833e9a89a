import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { isBgError } from '@bg/core';
import { Cluster, Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type RedisAdapter, redisAdapter } from '../src/index.js';

// Round six of the outside review of the Redis adapter.

const url = inject('redisUrl') as string;
const opened: RedisAdapter[] = [];
const admins: Redis[] = [];
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
  await Promise.all(admins.map((a) => a.quit()));
});
const rand = (): string => Math.random().toString(36).slice(2, 8);

/**
 * A relay in front of the private redis-server whose open connections can be black-holed (nothing
 * forwarded either way, nothing closed) while new connections are relayed: a connection that died
 * silently, then a healthy reconnection.
 */
async function relay(
  target: string,
): Promise<{ url: string; holeOpenConnections(): void; resetOpenConnections(): void; close(): Promise<void> }> {
  const to = new URL(target);
  const links = new Set<{ client: Socket; upstream: Socket; holed: boolean }>();
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: to.hostname, port: Number(to.port) });
    const link = { client, upstream, holed: false };
    links.add(link);
    client.on('data', (chunk) => {
      if (!link.holed) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!link.holed) client.write(chunk);
    });
    const end = (): void => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    holeOpenConnections: () => {
      for (const link of links) link.holed = true;
    },
    resetOpenConnections: () => {
      for (const link of links) {
        link.client.resetAndDestroy();
        link.upstream.destroy();
      }
    },
    close: async () => {
      for (const link of links) {
        link.client.destroy();
        link.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs `call` until it stops failing with a retryable error (the client reconnected), within `ms`. */
async function untilUp<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!(isBgError(error) && error.retryable) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

describe.skipIf(!url)('redis adapter, outside review round six', () => {
  it('a call that failed UNREACHABLE on a dead connection is not run later by ioredis on the next one (a receive leased a job to nobody for its whole lease; a send stored a job its caller was told failed)', async () => {
    const prefix = `r6-resend-${rand()}`;
    const proxy = await relay(url);
    const viaProxy = redisAdapter({ url: proxy.url, prefix, commandTimeoutMs: 400, onWarning: () => {} });
    const direct = redisAdapter({ url, prefix, onWarning: () => {} });
    opened.push(viaProxy, direct);
    const admin = new Redis(url);
    admins.push(admin);
    try {
      await direct.ensureQueue('jobs');
      await direct.send('jobs', [{ id: 'waiting', body: 'x' }]);
      // The proxied adapter knows the queue and its connection is up.
      expect(await viaProxy.stats('jobs'), 'stats through the relay before the fault').toMatchObject({ ready: 1 });

      proxy.holeOpenConnections();
      // Both calls go out on the silent connection and fail when commandTimeoutMs runs out.
      const outcome = (call: Promise<unknown>): Promise<string> =>
        call.then(
          () => 'resolved',
          (e: unknown) => (isBgError(e) ? `${e.code} retryable=${e.retryable}` : String(e)),
        );
      const [received, sent] = await Promise.all([
        outcome(viaProxy.receive('jobs', { max: 1, leaseMs: 60_000 })),
        outcome(viaProxy.send('jobs', [{ id: 'told-failed', body: 'y' }])),
      ]);
      expect(received, 'a receive on a black-holed connection').toBe('UNREACHABLE retryable=true');
      expect(sent, 'a send on a black-holed connection').toBe('UNREACHABLE retryable=true');

      // The adapter reconnects (ioredis replaces the silent connection); whatever ioredis resends
      // runs before this call's command on the new connection.
      await untilUp(() => viaProxy.stats('jobs'), 15_000);

      const stored = (await admin.xrange(`{${prefix}:jobs}:s`, '-', '+')).length;
      expect(stored, 'entries in the stream: the job sent before the fault, not the send its caller was told failed').toBe(1);
      const pending = (await admin.xpending(`{${prefix}:jobs}:s`, 'bg')) as [number, ...unknown[]];
      expect(pending[0], 'jobs leased after the receive that leased them had failed UNREACHABLE').toBe(0);
      const ids = (await direct.receive('jobs', { max: 10, leaseMs: 5_000 })).map((m) => m.id).sort();
      expect(ids, 'jobs another worker receives right after the connection came back').toEqual(['waiting']);
    } finally {
      await proxy.close();
    }
  });

  it('a call in flight when its connection is reset fails UNREACHABLE at once, not after commandTimeoutMs (no resend answers it any more), and its job is free', async () => {
    const prefix = `r6-reset-${rand()}`;
    const proxy = await relay(url);
    const viaProxy = redisAdapter({ url: proxy.url, prefix, commandTimeoutMs: 60_000, onWarning: () => {} });
    const direct = redisAdapter({ url, prefix, onWarning: () => {} });
    opened.push(viaProxy, direct);
    try {
      await direct.ensureQueue('jobs');
      await direct.send('jobs', [{ id: 'waiting', body: 'x' }]);
      expect(await viaProxy.stats('jobs'), 'stats through the relay before the fault').toMatchObject({ ready: 1 });
      proxy.holeOpenConnections();
      const started = Date.now();
      const receiving = viaProxy.receive('jobs', { max: 1, leaseMs: 60_000 }).then(
        (m) => `resolved with ${m.length} message(s)`,
        (e: unknown) => (isBgError(e) ? `${e.code} retryable=${e.retryable}` : String(e)),
      );
      // The receive's script is on the silent connection; then the connection is reset.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
      proxy.resetOpenConnections();
      const outcome = await receiving;
      const ms = Date.now() - started;
      expect(ms, `a receive whose connection was reset settled after ${ms} ms (${outcome})`).toBeLessThan(5_000);
      expect(outcome, 'a receive whose connection was reset').toBe('UNREACHABLE retryable=true');
      await untilUp(() => viaProxy.stats('jobs'), 15_000);
      const ids = (await direct.receive('jobs', { max: 10, leaseMs: 5_000 })).map((m) => m.id);
      expect(ids, 'the job another worker receives once the connection is back').toEqual(['waiting']);
    } finally {
      await proxy.close();
    }
  });

  it('options that are not an object of known names are INVALID_ARGUMENT, not a silent connection to 127.0.0.1:6379', () => {
    const password = 'pw-9f3b2c';
    const cases: [string, unknown][] = [
      ['a URL string instead of { url }', `redis://:${password}@10.1.2.3:6380/2`],
      ["ioredis's own options", { host: '10.1.2.3', port: 6380, password }],
      ['a misspelt url', { uri: `redis://:${password}@10.1.2.3:6380` }],
      ['a misspelt option beside url', { url, commandTimeout: 1_000 }],
      ['a client that is no ioredis client', { client: { host: '10.1.2.3' } }],
      ['null', null],
      [
        "a Cluster with ioredis's keyPrefix",
        { client: new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, keyPrefix: 'app:' }) },
      ],
    ];
    const problems: string[] = [];
    for (const [what, options] of cases) {
      let adapter: RedisAdapter | undefined;
      try {
        adapter = redisAdapter(options as never);
        problems.push(`${what}: accepted`);
      } catch (error) {
        if (!isBgError(error, 'INVALID_ARGUMENT') || error.retryable)
          problems.push(`${what}: ${isBgError(error) ? `${error.code} retryable=${error.retryable}` : String(error)}`);
        else if (`${error.message} ${String(error.stack)}`.includes(password))
          problems.push(`${what}: the error shows the password`);
      } finally {
        void adapter?.close();
      }
    }
    expect(problems, 'options the adapter should refuse before connecting').toEqual([]);
  });

  it("a client with ioredis's keyPrefix is refused up front: a delayed job sent through it was dropped when it came due", async () => {
    const client = new Redis(url, { keyPrefix: 'app:' });
    admins.push(client);
    const prefix = `r6-kp-${rand()}`;
    let adapter: RedisAdapter;
    try {
      adapter = redisAdapter({ client, prefix, onWarning: () => {} });
    } catch (error) {
      expect(
        isBgError(error, 'INVALID_ARGUMENT') && !error.retryable,
        `a keyPrefix client refused with ${isBgError(error) ? `${error.code} retryable=${error.retryable}` : String(error)}`,
      ).toBe(true);
      return;
    }
    opened.push(adapter);
    await adapter.ensureQueue('jobs');
    await adapter.send('jobs', [
      { id: 'later', body: 'x', delayMs: 50 },
      { id: 'now', body: 'y' },
    ]);
    const got: string[] = [];
    const deadline = Date.now() + 3_000;
    while (got.length < 2 && Date.now() < deadline) {
      for (const m of await adapter.receive('jobs', { max: 10, leaseMs: 5_000, waitMs: 250 })) {
        got.push(m.id);
        await adapter.ack('jobs', m.handle);
      }
    }
    const stats = await adapter.stats('jobs');
    expect(
      { got: got.sort(), stats },
      'a keyPrefix client was accepted: the jobs it received within 3 s (the delayed one was due after 50 ms), and what stats still counts',
    ).toEqual({ got: ['later', 'now'], stats: { ready: 0, inFlight: 0, delayed: 0, dead: 0 } });
  });
});
