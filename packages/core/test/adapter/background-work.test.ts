import { describe, expect, it } from 'vitest';
import { BackgroundWork, raceAbortHandBack } from '../../src/adapter/index.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('BackgroundWork', () => {
  it('settle() with nothing tracked is true at once', async () => {
    expect(await new BackgroundWork().settle(0)).toBe(true);
  });

  it('settle() waits for tasks tracked while it waits, and forgets settled ones (a rejection included)', async () => {
    const work = new BackgroundWork();
    const first = deferred();
    const second = deferred();
    work.track(first.promise);
    const settling = work.settle();
    let settled = false;
    void settling.then(() => {
      settled = true;
    });
    // The first task's outcome tracks a second one (a hand-back started by a late receive).
    first.reject(new Error('late receive failed'));
    work.track(second.promise);
    await first.promise.catch(() => undefined);
    await Promise.resolve();
    expect(settled, 'settle() resolved while a task tracked during the wait was pending').toBe(false);
    expect(work.size).toBe(1);
    second.resolve();
    expect(await settling).toBe(true);
    expect(work.size).toBe(0);
  });

  it('settle(limitMs) gives up on a task that never settles: false, and the task stays tracked', async () => {
    const work = new BackgroundWork();
    work.track(new Promise(() => undefined));
    expect(await work.settle(20)).toBe(false);
    expect(work.size).toBe(1);
  });

  it('raceAbortHandBack tracks a receive from the call: settle() right after the abort waits for its late hand-back', async () => {
    const work = new BackgroundWork();
    const controller = new AbortController();
    const receive = deferred();
    const handedBack: string[] = [];
    const racing = raceAbortHandBack(
      receive.promise.then(() => ['late-message']),
      controller.signal,
      async (late) => {
        handedBack.push(...late);
      },
      work,
    );
    // close(): abort, then settle at once, before the receive has seen the abort.
    controller.abort();
    const settling = work.settle();
    expect((await racing).done).toBe(false);
    receive.resolve();
    expect(await settling).toBe(true);
    expect(handedBack, 'settle() resolved before the late message was handed back').toEqual(['late-message']);
  });

  it('raceAbortHandBack: a receive that wins the race is forgotten once it settled, its value returned', async () => {
    const work = new BackgroundWork();
    const outcome = await raceAbortHandBack(Promise.resolve(['m']), new AbortController().signal, () => undefined, work);
    expect(outcome).toEqual({ done: true, value: ['m'] });
    expect(await work.settle(0)).toBe(true);
    expect(work.size).toBe(0);
  });
});
