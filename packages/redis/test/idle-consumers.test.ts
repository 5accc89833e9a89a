import { waitUntil } from '@bg/backends';
import { isBgError } from '@bg/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { queueKeys, redisAdapter } from '../src/index.js';

const url = inject('redisUrl');
const quiet = () => {};
const PREFIX = 'idlec';
const QUEUE = 'idle-consumers';
const THRESHOLD_MS = 200;

interface ConsumerInfo {
  readonly name: string;
  readonly pending: number;
  readonly idle: number;
}

/** The group's consumers as `XINFO CONSUMERS` reports them. */
async function consumers(admin: Redis): Promise<ConsumerInfo[]> {
  const rows = (await admin.xinfo('CONSUMERS', queueKeys(PREFIX, QUEUE).stream, 'bg')) as unknown[][];
  return rows.map((row) => {
    const info = new Map<string, unknown>();
    for (let i = 0; i < row.length; i += 2) info.set(String(row[i]), row[i + 1]);
    return { name: String(info.get('name')), pending: Number(info.get('pending')), idle: Number(info.get('idle')) };
  });
}

describe.skipIf(!url)('@bg/redis consumers left behind', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(url as string);
  });
  afterAll(async () => {
    await admin?.quit();
  });

  it('rejects an idleConsumerMs that is not a positive whole number', () => {
    for (const idleConsumerMs of [0, -1, 1.5, Number.NaN]) {
      let error: unknown;
      try {
        redisAdapter({ url, idleConsumerMs, onWarning: quiet });
      } catch (e) {
        error = e;
      }
      expect(isBgError(error, 'INVALID_ARGUMENT'), `redisAdapter({ idleConsumerMs: ${idleConsumerMs} })`).toBe(true);
    }
  });

  it('a pass removes a consumer idle past idleConsumerMs with nothing pending, and keeps one that holds a lease', async () => {
    // Three "processes": `holder` keeps a lease, `gone` acked everything and stops reading,
    // `sweeper` runs the passes (with the short threshold); `patient` has the default (1 h).
    const holder = redisAdapter({ url, prefix: PREFIX, onWarning: quiet });
    const gone = redisAdapter({ url, prefix: PREFIX, onWarning: quiet });
    const patient = redisAdapter({ url, prefix: PREFIX, onWarning: quiet });
    const sweeper = redisAdapter({ url, prefix: PREFIX, idleConsumerMs: THRESHOLD_MS, onWarning: quiet });
    try {
      await holder.ensureQueue(QUEUE);
      await holder.send(QUEUE, [
        { id: 'held', body: 'h' },
        { id: 'done', body: 'd' },
      ]);
      const [held] = await holder.receive(QUEUE, { max: 1, leaseMs: 60_000 });
      const [done] = await gone.receive(QUEUE, { max: 1, leaseMs: 60_000 });
      if (!held || !done) throw new Error('the two jobs were not received');
      await gone.ack(QUEUE, done.handle);

      const before = await consumers(admin);
      expect(before.map((c) => c.pending).sort(), `consumers after the receives: ${JSON.stringify(before)}`).toEqual([0, 1]);
      const holderName = before.find((c) => c.pending === 1)?.name;
      const goneName = before.find((c) => c.pending === 0)?.name;
      await waitUntil(`both consumers idle for ${THRESHOLD_MS} ms`, async () =>
        (await consumers(admin)).every((c) => (c.name === goneName || c.name === holderName ? c.idle >= THRESHOLD_MS : true)),
      );

      // The default threshold (1 h) keeps a consumer idle for 200 ms. Its first receive on the
      // queue runs the full path, and a pass: the last one ran over 200 ms ago.
      await patient.receive(QUEUE, { max: 10, leaseMs: 60_000 });
      const kept = (await consumers(admin)).map((c) => c.name);
      expect(kept, 'the default idleConsumerMs (1 h) removed a consumer idle for 200 ms').toContain(goneName);

      await waitUntil(`a pass with idleConsumerMs ${THRESHOLD_MS} removes ${goneName}`, async () => {
        await sweeper.receive(QUEUE, { max: 10, leaseMs: 60_000 });
        return !(await consumers(admin)).some((c) => c.name === goneName);
      });
      const after = await consumers(admin);
      expect(
        after.find((c) => c.name === holderName),
        `the consumer holding a lease must stay (consumers: ${JSON.stringify(after)})`,
      ).toMatchObject({ pending: 1 });
      // Its lease still works: the ack finds the job it holds.
      await holder.ack(QUEUE, held.handle);
      expect(await holder.stats(QUEUE)).toEqual({ ready: 0, inFlight: 0, delayed: 0, dead: 0 });
    } finally {
      await holder.deleteQueue?.(QUEUE);
      for (const adapter of [holder, gone, patient, sweeper]) await adapter.close();
    }
  });
});
