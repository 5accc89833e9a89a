import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedis } from '@bg/backends/redis';
import { isBgError } from '@bg/core';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type RedisAdapter, redisAdapter } from '../src/index.js';

// Round four of the outside review of the Redis adapter: an ack made just before close(), dead
// letters paged under a server locale, and text Redis cannot keep.

const url = inject('redisUrl') as string;
const opened: RedisAdapter[] = [];
afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
});
const open = (u: string = url): RedisAdapter => {
  const adapter = redisAdapter({ url: u, prefix: `r4-${Math.random().toString(36).slice(2, 8)}`, onWarning: () => {} });
  opened.push(adapter);
  return adapter;
};

describe.skipIf(!url)('redis adapter, outside review round four', () => {
  it('an ack called just before close() is sent ahead of QUIT: it resolves and the job is gone (it was CLOSED, and the job ran again)', async () => {
    for (const ownershipMarginMs of [undefined, 1e9]) {
      const what = ownershipMarginMs === undefined ? 'the quick path' : 'the checked path';
      const prefix = `r4-close-${Math.random().toString(36).slice(2, 8)}`;
      const a = redisAdapter({ url, prefix, onWarning: () => {}, ...(ownershipMarginMs ? { ownershipMarginMs } : {}) });
      await a.ensureQueue('close-ack');
      await a.send('close-ack', [{ id: 'job', body: 'x' }]);
      const [m] = await a.receive('close-ack', { max: 1, leaseMs: 300 });
      if (!m) throw new Error('the job was not received');
      const acking = a.ack('close-ack', m.handle).then(
        () => 'resolved',
        (e: unknown) => `rejected ${isBgError(e) ? e.code : String(e)}`,
      );
      await a.close();
      expect(await acking, `ack(handle) then close() at once, ${what}`).toBe('resolved');
      const b = redisAdapter({ url, prefix, onWarning: () => {} });
      try {
        expect(await b.stats('close-ack'), `${what}: the acked job after its lease would have ended`).toMatchObject({
          ready: 0,
          inFlight: 0,
        });
      } finally {
        await b.deleteQueue('close-ack');
        await b.close();
      }
    }
  });

  it('a keyed send that lands while deleteQueue runs leaves no key for a queue created later with the name (its new job was dropped as a duplicate)', async () => {
    const prefix = `r4-del-${Math.random().toString(36).slice(2, 8)}`;
    const deleter = redisAdapter({ url, prefix, onWarning: () => {} });
    const producer = redisAdapter({ url, prefix, onWarning: () => {} });
    opened.push(deleter, producer);
    await deleter.ensureQueue('orders');
    await producer.send('orders', [{ id: 'warm', body: 'x' }]);
    // The producer's keyed send runs right after deleteQueue's scans, before its DEL.
    const client = deleter.client as unknown as { del: (...keys: string[]) => Promise<number> };
    const del = client.del.bind(client);
    let injected = false;
    client.del = async (...keys: string[]) => {
      if (!injected) {
        injected = true;
        await producer.send('orders', [{ id: 'keyed-old', body: 'old', deduplicationKey: 'order-42' }]);
      }
      return del(...keys);
    };
    try {
      expect(await deleter.deleteQueue('orders'), 'deleteQueue').toBe(true);
    } finally {
      client.del = del;
    }
    const again = redisAdapter({ url, prefix, onWarning: () => {} });
    opened.push(again);
    await again.ensureQueue('orders');
    expect(
      await again.send('orders', [{ id: 'keyed-new', body: 'new', deduplicationKey: 'order-42' }]),
      'a new job with the key, in the queue created again',
    ).toEqual([{ id: 'keyed-new', duplicate: false }]);
    await again.deleteQueue('orders');
  });

  it('a send with a lone surrogate in a job id, deduplication key or body is INVALID_ARGUMENT, nothing stored (it came back as U+FFFD)', async () => {
    const a = open();
    await a.ensureQueue('lone');
    for (const [what, message] of [
      ['job id', { id: 'x\ud800', body: 'b' }],
      ['deduplication key', { id: 'k1', body: 'b', deduplicationKey: 'key\udc00' }],
      ['body', { id: 'b1', body: '{"text":"\ud83d"}' }],
    ] as const) {
      let thrown: unknown;
      try {
        await a.send('lone', [{ id: 'fine', body: 'f' }, message]);
      } catch (error) {
        thrown = error;
      }
      expect(
        isBgError(thrown) && { code: thrown.code, retryable: thrown.retryable, names: thrown.message.includes(what) },
        `send with a lone surrogate in the ${what}: ${String(thrown)}`,
      ).toEqual({ code: 'INVALID_ARGUMENT', retryable: false, names: true });
    }
    expect(await a.stats('lone'), 'nothing of the refused batches was stored').toMatchObject({ ready: 0 });
  });
});

/** A locale whose collation differs from byte order (a before B), built with localedef; undefined where it cannot be. */
function buildLocale(): { dir: string; name: string } | undefined {
  if (!existsSync('/usr/share/i18n/locales/en_US')) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bg-locale-'));
  const made = spawnSync('localedef', ['-i', 'en_US', '-f', 'UTF-8', join(dir, 'en_US.UTF-8')], { encoding: 'utf8' });
  if (made.status !== 0 || !existsSync(join(dir, 'en_US.UTF-8'))) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return { dir, name: 'en_US.UTF-8' };
}

const locale = url ? buildLocale() : undefined;

describe.skipIf(!locale)('dead-letter pages on a redis-server running under en_US.UTF-8 (built with localedef)', () => {
  let server: RedisServer | undefined;
  afterAll(async () => {
    await server?.stop();
    if (locale) rmSync(locale.dir, { recursive: true, force: true });
  });

  it('list every dead letter once when ids tie in one millisecond (Lua compared them by the locale, the index by bytes)', async () => {
    const saved = { LOCPATH: process.env.LOCPATH, LC_ALL: process.env.LC_ALL };
    process.env.LOCPATH = locale?.dir;
    process.env.LC_ALL = locale?.name;
    try {
      server = await startRedis();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
    if (!server) throw new Error('redis-server did not start');
    const a = open(server.url);
    await a.ensureQueue('dead-paging');
    const ids = ['B', 'a', 'C', 'b', 'A', 'c'];
    await a.send(
      'dead-paging',
      ids.map((id) => ({ id, body: `job ${id}` })),
    );
    const got = await a.receive('dead-paging', { max: 10, leaseMs: 10_000 });
    const at = Date.now();
    for (const m of got) {
      await a.deadLetter('dead-paging', m, { reason: 'manual', attempts: 1, deadLetteredAt: at });
      await a.ack('dead-paging', m.handle);
    }
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await a.listDeadLetters('dead-paging', { limit: 2, ...(cursor ? { cursor } : {}) });
      pages.push(page.items.map((d) => d.id));
      cursor = page.cursor;
    } while (cursor);
    expect(pages.flat(), `pages of 2 (${JSON.stringify(pages)}): every id once, in byte order`).toEqual([
      'A',
      'B',
      'C',
      'a',
      'b',
      'c',
    ]);
  });
});
