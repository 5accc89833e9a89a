import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParkedPulls } from '../src/parked-pulls.js';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('ParkedPulls', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives a parked pull to the next taker, oldest first, and then forgets it', () => {
    const parked = new ParkedPulls<string>(1_000, async () => undefined);
    const first = { response: new Promise<string>(() => undefined), startedAt: 1 };
    const second = { response: new Promise<string>(() => undefined), startedAt: 2 };
    parked.park(first);
    parked.park(second);
    expect(parked.take(), 'take() returns the oldest parked pull').toBe(first);
    expect(parked.take(), 'then the next one').toBe(second);
    expect(parked.take(), 'and nothing once all were taken').toBeUndefined();
  });

  it('hands back what a parked pull brought when nobody takes it within holdMs, and only then', async () => {
    const handedBack: string[] = [];
    const parked = new ParkedPulls<string>(1_000, async (response) => {
      handedBack.push(response);
    });
    const pull = deferred<string>();
    parked.park({ response: pull.promise, startedAt: 0 });
    pull.resolve('m1');
    await vi.advanceTimersByTimeAsync(999);
    expect(handedBack, 'not before holdMs').toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(handedBack, 'handed back at holdMs').toEqual(['m1']);
    expect(parked.size, 'and no longer parked').toBe(0);
  });

  it('does not hand back a pull that was taken before holdMs ran out', async () => {
    const handedBack: string[] = [];
    const parked = new ParkedPulls<string>(1_000, async (response) => {
      handedBack.push(response);
    });
    const pull = deferred<string>();
    parked.park({ response: pull.promise, startedAt: 0 });
    pull.resolve('m1');
    await vi.advanceTimersByTimeAsync(500);
    expect(parked.take()?.response, 'the taker gets the pull').toBe(pull.promise);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(handedBack, 'a taken pull is the taker’s: never handed back').toEqual([]);
  });

  it('drain() hands back resolved pulls at once and drops failed and pending ones', async () => {
    const handedBack: string[] = [];
    const parked = new ParkedPulls<string>(60_000, async (response) => {
      handedBack.push(response);
    });
    const resolved = deferred<string>();
    parked.park({ response: resolved.promise, startedAt: 0 });
    parked.park({ response: Promise.reject(new Error('pull failed')), startedAt: 0 });
    parked.park({ response: new Promise<string>(() => undefined), startedAt: 0 });
    resolved.resolve('m1');
    await vi.advanceTimersByTimeAsync(0);
    await parked.drain();
    expect(handedBack, 'the resolved pull is handed back by drain, not after holdMs').toEqual(['m1']);
    expect(parked.size, 'nothing stays parked').toBe(0);
  });
});
