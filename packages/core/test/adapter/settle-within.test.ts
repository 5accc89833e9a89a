import { describe, expect, it } from 'vitest';
import { settleWithin } from '../../src/adapter/index.js';

describe('settleWithin (kit)', () => {
  it('is true for a promise that resolves or rejects in time, and for none', async () => {
    expect(await settleWithin(Promise.resolve('x'), 1_000), 'settleWithin(resolved, 1000)').toBe(true);
    expect(await settleWithin(Promise.reject(new Error('gone')), 1_000), 'settleWithin(rejected, 1000)').toBe(true);
    expect(await settleWithin(undefined, 1_000), 'settleWithin(undefined, 1000)').toBe(true);
  });

  it('is false once the time runs out on a promise that never settles, and leaves no rejection unhandled', async () => {
    const start = Date.now();
    expect(await settleWithin(new Promise(() => {}), 50), 'settleWithin(never, 50)').toBe(false);
    expect(Date.now() - start, 'settleWithin(never, 50) returned after').toBeGreaterThanOrEqual(45);
    let rejectLater: (e: Error) => void = () => {};
    const late = new Promise((_, reject) => {
      rejectLater = reject;
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      expect(await settleWithin(late, 10), 'settleWithin(rejects after 10 ms, 10)').toBe(false);
      rejectLater(new Error('late'));
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled, 'rejections left unhandled by settleWithin').toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
