/**
 * Findings of an outside audit on the memory adapter: options that were not checked, and a fake
 * clock that did not wake a waiting long poll (each test failed on the old code).
 */
import { createQueue, createWorker, defineJob, isBgError } from '@bg/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createMemoryStore, memoryAdapter } from '../src/index.js';

/** The code and message of what `fn` throws, or "accepted". */
function outcomeOf(fn: () => unknown): string {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (!isBgError(error)) return `not a BgError: ${String(error)}`;
    return `${error.code}${error.retryable ? ' (retryable!)' : ''}: ${error.message}`;
  }
}

const id = (n: number) => `0190a0b0-c0d0-7e00-8000-${String(n).padStart(12, '0')}`;

describe('memoryAdapter checks its options (NaN or -1 turned deduplication off while results said "honoured")', () => {
  it('deduplicationWindowMs must be a whole number of ms from 1 to 10 years', () => {
    const range = 'an integer from 1 to 315360000000';
    const cases: [unknown, string][] = [
      [Number.NaN, `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got NaN`],
      [-1, `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got -1`],
      [0, `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got 0`],
      ['60000', `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got "60000"`],
      [Number.POSITIVE_INFINITY, `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got Infinity`],
      [1.5, `INVALID_ARGUMENT: memoryAdapter option deduplicationWindowMs must be ${range}, got 1.5`],
      [1, 'accepted'],
      [315_360_000_000, 'accepted'],
      [undefined, 'accepted'],
    ];
    for (const [value, expected] of cases) {
      expect(
        outcomeOf(() => memoryAdapter({ deduplicationWindowMs: value as number })),
        `deduplicationWindowMs: ${String(value)}`,
      ).toBe(expected);
    }
  });

  it('a window of 1 ms still deduplicates within it and forgets after it', async () => {
    let now = 1_000_000;
    const adapter = memoryAdapter({ clock: { now: () => now }, deduplicationWindowMs: 1 });
    const first = await adapter.send('dedup-one', [{ id: id(1), body: '{}', deduplicationKey: 'k' }]);
    const again = await adapter.send('dedup-one', [{ id: id(2), body: '{}', deduplicationKey: 'k' }]);
    now += 1;
    const later = await adapter.send('dedup-one', [{ id: id(3), body: '{}', deduplicationKey: 'k' }]);
    expect([first, again, later], 'send results: first, at once again, 1 ms later').toEqual([
      [{ id: id(1), duplicate: false }],
      [{ id: id(1), duplicate: true }],
      [{ id: id(3), duplicate: false }],
    ]);
    await adapter.close();
  });

  it('the other options: the options object, clock, store, and names it does not know', () => {
    const store = createMemoryStore();
    const cases: [string, () => unknown, string][] = [
      [
        'memoryAdapter("fast")',
        () => memoryAdapter('fast' as never),
        'INVALID_ARGUMENT: memoryAdapter options must be an object, got "fast"',
      ],
      [
        'memoryAdapter(null)',
        () => memoryAdapter(null as never),
        'INVALID_ARGUMENT: memoryAdapter options must be an object, got null',
      ],
      [
        'clock: Date.now (a function, not a clock)',
        () => memoryAdapter({ clock: Date.now as never }),
        'INVALID_ARGUMENT: memoryAdapter option clock must be an object with a now() method returning ms, got a function',
      ],
      [
        'clock: {}',
        () => memoryAdapter({ clock: {} as never }),
        'INVALID_ARGUMENT: memoryAdapter option clock must be an object with a now() method returning ms, got an object',
      ],
      [
        'store: {}',
        () => memoryAdapter({ store: {} as never }),
        'INVALID_ARGUMENT: memoryAdapter option store must be a MemoryStore (createMemoryStore()), got an object',
      ],
      [
        'store and a clock of its own',
        () => memoryAdapter({ store, clock: { now: () => 5 } }),
        'INVALID_ARGUMENT: memoryAdapter option clock cannot be used with store (the store’s clock is used): pass it to createMemoryStore({ clock })',
      ],
      [
        'a misspelt name',
        () => memoryAdapter({ dedupWindowMs: 1_000 } as never),
        'INVALID_ARGUMENT: memoryAdapter has no option "dedupWindowMs" (store, clock, capabilities, deduplicationWindowMs)',
      ],
      ['store with its own clock repeated', () => memoryAdapter({ store, clock: store.clock }), 'accepted'],
      ['no options', () => memoryAdapter(), 'accepted'],
      ['undefined options', () => memoryAdapter(undefined), 'accepted'],
    ];
    for (const [call, make, expected] of cases) expect(outcomeOf(make), call).toBe(expected);
  });
});

describe('a fake clock wakes a waiting long poll (a delayed job ran only when the real poll timer ended)', () => {
  it('receive: advancing the clock past a due time ends a waiting long poll promptly', async () => {
    let now = 1_700_000_000_000;
    const adapter = memoryAdapter({ clock: { now: () => now } });
    await adapter.send('fake-poll', [{ id: id(1), body: '{}', delayMs: 60_000 }]);
    const started = Date.now();
    const polling = adapter.receive('fake-poll', { max: 1, leaseMs: 30_000, waitMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    now += 61_000;
    const got = await polling;
    const tookMs = Date.now() - started;
    expect(
      got.map((m) => m.id),
      'the receive that was waiting when the clock passed the due time',
    ).toEqual([id(1)]);
    expect(tookMs, 'real ms the 5 s long poll took once the fake clock passed the due time 50 ms in').toBeLessThan(1_000);
    await adapter.close();
  });

  it('a worker with the default pollMs runs a delayed job soon after the clock is advanced (the README’s fake clock)', async () => {
    let now = 1_700_000_000_000;
    const clock = { now: () => now };
    const adapter = memoryAdapter({ clock });
    const job = defineJob({ type: 'reminder', schema: z.object({}) });
    await createQueue({ adapter, queue: 'fake-worker', now: clock.now }).enqueue(job, {}, { delayMs: 60_000 });
    let ranAt: number | undefined;
    const worker = createWorker({ adapter, queue: 'fake-worker', now: clock.now });
    worker.handle(job, () => {
      ranAt = Date.now();
    });
    await worker.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(ranAt, 'the job is not due yet: no run before the clock moves').toBeUndefined();
    now += 61_000;
    const advancedAt = Date.now();
    while (ranAt === undefined && Date.now() - advancedAt < 3_000) await new Promise((r) => setTimeout(r, 10));
    await worker.stop({ graceMs: 0 });
    await adapter.close();
    expect(
      ranAt === undefined ? 'not within 3 s' : `${ranAt - advancedAt} ms`,
      'real time from advancing the fake clock to the handler run (the worker long-polls 5 s)',
    ).toMatch(/^\d{1,3} ms$/);
  });

  it('without a fake clock, an idle long poll lasts its waitMs and leaves no waiter behind', async () => {
    const adapter = memoryAdapter();
    await adapter.ensureQueue('real-poll');
    const state = adapter.store.queues.get('real-poll');
    const started = Date.now();
    const got = await adapter.receive('real-poll', { max: 1, leaseMs: 1_000, waitMs: 200 });
    expect(got, 'nothing to receive').toEqual([]);
    expect(Date.now() - started, 'the long poll lasted its waitMs').toBeGreaterThanOrEqual(190);
    expect(state?.waiters.size, 'waiters left behind').toBe(0);
    await adapter.close();
  });
});
