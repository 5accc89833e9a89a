// The CI pool (tooling/scripts/pool.mjs): the heaviest ready job first, slots never
// overcommitted, jobs added while it runs, failures named, and it ends only once closed.
import { describe, expect, it } from 'vitest';
import { createPool } from '../../scripts/pool.mjs';

/** A job the test ends by hand: `end(ok)` settles its run. */
function manualJob(title: string, weight: number, log: string[], slots?: number) {
  let end: (ok: boolean) => void = () => {};
  const job = {
    title,
    weight,
    ...(slots === undefined ? {} : { slots }),
    run: () =>
      new Promise<boolean>((resolve) => {
        log.push(`start ${title}`);
        end = resolve;
      }),
  };
  return { job, end: (ok = true) => end(ok) };
}

/** Lets the pool's microtasks and promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('createPool', () => {
  it('starts the heaviest of the jobs added together first, at most `concurrency` at a time', async () => {
    const log: string[] = [];
    const pool = createPool(2);
    const light = manualJob('light', 5, log);
    const heavy = manualJob('heavy', 200, log);
    const middle = manualJob('middle', 50, log);
    for (const j of [light, heavy, middle]) pool.add(j.job);
    await settle();
    expect(log, 'the two heaviest start first, the third waits for a free slot').toEqual(['start heavy', 'start middle']);
    middle.end();
    await settle();
    expect(log, 'the light job starts when a slot frees').toEqual(['start heavy', 'start middle', 'start light']);
    pool.close();
    heavy.end();
    light.end(false);
    expect(await pool.done, 'done names the failed job').toEqual(['light']);
  });

  it('counts slots: two half-slot jobs share one slot; a job starts whenever part of a slot is free', async () => {
    const log: string[] = [];
    const pool = createPool(2);
    const big = manualJob('big', 100, log);
    const halfA = manualJob('halfA', 90, log, 0.5);
    const halfB = manualJob('halfB', 80, log, 0.5);
    const whole = manualJob('whole', 70, log);
    for (const j of [big, halfA, halfB, whole]) pool.add(j.job);
    await settle();
    expect(log, 'big + halfA + halfB fill 2 slots; whole waits').toEqual(['start big', 'start halfA', 'start halfB']);
    halfA.end();
    await settle();
    expect(log.at(-1), 'with 1.5 of 2 slots used, the whole job starts').toBe('start whole');
    const last = manualJob('last', 1, log, 0.5);
    pool.add(last.job);
    await settle();
    expect(log, 'with 2.5 slots used nothing more starts, not even a half-slot job').toHaveLength(4);
    halfB.end();
    await settle();
    expect(log, 'with 2 of 2 slots used nothing more starts').toHaveLength(4);
    big.end();
    await settle();
    expect(log.at(-1), 'with 1 of 2 slots used the last job starts').toBe('start last');
    pool.close();
    whole.end();
    last.end();
    expect(await pool.done).toEqual([]);
  });

  it('runs a job heavier than the pool alone, takes jobs added while it runs, and ends only after close()', async () => {
    const log: string[] = [];
    const pool = createPool(1);
    const huge = manualJob('huge', 10, log, 3);
    pool.add(huge.job);
    await settle();
    expect(log, 'a job wider than the pool still runs (alone)').toEqual(['start huge']);
    let ended = false;
    void pool.done.then(() => {
      ended = true;
    });
    huge.end();
    await settle();
    expect(ended, 'not done before close(), even with nothing running').toBe(false);
    const late = manualJob('late', 1, log);
    pool.add(late.job);
    await settle();
    expect(log.at(-1), 'a job added later starts').toBe('start late');
    pool.close();
    await settle();
    expect(ended, 'not done while a job runs').toBe(false);
    late.end();
    expect(await pool.done).toEqual([]);
  });

  it('counts a job whose run rejects as failed', async () => {
    const pool = createPool(1);
    pool.add({ title: 'throws', weight: 1, run: () => Promise.reject(new Error('boom')) });
    pool.close();
    expect(await pool.done).toEqual(['throws']);
  });
});
