import { describe, expect, it } from 'vitest';
import { BATCH_CALLS_IN_FLIGHT, Batcher, type EntryResult } from '../src/batcher.js';

/**
 * The batcher's own plumbing (no backend: its `run` is the test's). Thousands of calls in one
 * turn used to go out at once; behind the SDK's 50 sockets they failed `UNREACHABLE` (20 000
 * extends in one turn on fauxqs, 2026-12-03).
 */
describe('Batcher', () => {
  it(`keeps at most ${BATCH_CALLS_IN_FLIGHT} batch calls in flight, and every entry gets its own outcome`, async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const batcher = new Batcher<number, number>(async (_key, entries): Promise<readonly EntryResult<number>[]> => {
      calls++;
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return entries.map((n) => (n % 7 === 0 ? { ok: false, error: new Error(`entry ${n}`) } : { ok: true, value: n * 2 }));
    });
    const outcomes = await Promise.allSettled(Array.from({ length: 5_000 }, (_, n) => batcher.add('queue-url', n)));
    const wrong = outcomes.filter((o, n) =>
      n % 7 === 0
        ? o.status !== 'rejected' || (o.reason as Error).message !== `entry ${n}`
        : o.status !== 'fulfilled' || o.value !== n * 2,
    ).length;
    expect(
      { calls, most, wrong },
      'add() of 5 000 entries in one turn: 500 calls of 10, never more in flight than the bound, each entry its own outcome',
    ).toEqual({ calls: 500, most: BATCH_CALLS_IN_FLIGHT, wrong: 0 });
  });

  it('drain() waits for the batches still waiting their turn', async () => {
    let done = 0;
    const batcher = new Batcher<number, number>(async (_key, entries) => {
      await new Promise((resolve) => setImmediate(resolve));
      done += entries.length;
      return entries.map((n) => ({ ok: true, value: n }));
    });
    const all = Array.from({ length: 1_000 }, (_, n) => batcher.add('queue-url', n));
    await batcher.drain();
    expect(done, 'entries sent when drain() resolved').toBe(1_000);
    await Promise.all(all);
  });
});
