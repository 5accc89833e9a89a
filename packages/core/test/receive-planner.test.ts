import { describe, expect, it } from 'vitest';
import { mustYield, planReceive, type ReceiveState, receiveFailurePause } from '../src/receive-planner.js';

const idle: ReceiveState = {
  concurrency: 8,
  leaseMs: 30_000,
  maxBatchSize: 1_000,
  handling: 0,
  waiting: 0,
  reserved: 0,
  held: 0,
  receiving: 0,
  lastFull: false,
  failures: 0,
  typicalMs: undefined,
};

describe('planReceive', () => {
  const cases: Array<{ branch: string; state: Partial<ReceiveState>; expected: { max: number; prefetch: boolean } }> = [
    { branch: 'idle → ask for every slot', state: {}, expected: { max: 8, prefetch: false } },
    {
      branch: 'a few slots busy → ask for the free ones',
      state: { handling: 3, held: 3 },
      expected: { max: 5, prefetch: false },
    },
    {
      branch: 'most slots busy, fewer than a quarter free → wait',
      state: { handling: 7, held: 7 },
      expected: { max: 0, prefetch: false },
    },
    {
      branch: 'a receive in flight, no prefetch → wait',
      state: { receiving: 1, reserved: 8 },
      expected: { max: 0, prefetch: false },
    },
    {
      branch: 'capped by the backend batch size',
      state: { concurrency: 64, maxBatchSize: 10 },
      expected: { max: 10, prefetch: false },
    },
    {
      branch: 'too many settling (acks in flight) → wait',
      state: { held: 9, handling: 0 },
      expected: { max: 0, prefetch: false },
    },
    {
      branch: 'backlog of 1 ms jobs → prefetch batches of 50 (the window), two in hand',
      state: { lastFull: true, typicalMs: 1, handling: 8, held: 8 },
      expected: { max: 50, prefetch: true },
    },
    {
      branch: 'backlog of 0.1 ms jobs → prefetch batches of PREFETCH_SHORT_BATCH (200)',
      state: { lastFull: true, typicalMs: 0.1, handling: 8, held: 8 },
      expected: { max: 200, prefetch: true },
    },
    {
      branch: 'backlog of 0.1 ms jobs, a batch of 200 in flight → a second receive for the room left of two batches',
      state: { lastFull: true, typicalMs: 0.1, handling: 8, held: 8, receiving: 1, reserved: 200 },
      expected: { max: 192, prefetch: true },
    },
    {
      branch: 'backlog of 10 ms jobs → batches of max(concurrency, 5)',
      state: { lastFull: true, typicalMs: 10, receiving: 1, reserved: 8 },
      expected: { max: 8, prefetch: true },
    },
    {
      branch: 'slow jobs (over 100 ms) → no prefetch',
      state: { lastFull: true, typicalMs: 150 },
      expected: { max: 8, prefetch: false },
    },
    {
      branch: 'jobs over a tenth of the lease → no prefetch',
      state: { lastFull: true, typicalMs: 50, leaseMs: 400 },
      expected: { max: 8, prefetch: false },
    },
    {
      branch: 'after a failed receive → no prefetch',
      state: { lastFull: true, typicalMs: 1, failures: 1 },
      expected: { max: 8, prefetch: false },
    },
    {
      branch: 'prefetching with two receives in flight → wait',
      state: { lastFull: true, typicalMs: 1, receiving: 2, reserved: 16 },
      expected: { max: 0, prefetch: true },
    },
  ];
  for (const c of cases) {
    it(c.branch, () => {
      const state = { ...idle, ...c.state };
      expect(planReceive(state), `planReceive(${JSON.stringify(state)})`).toEqual(c.expected);
    });
  }
});

describe('pacing', () => {
  it('yields when two receives are in flight, when prefetching, or after 20 ms without a turn', () => {
    expect([mustYield(2, false, 0), mustYield(1, true, 0), mustYield(1, false, 21), mustYield(1, false, 5)]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });

  it('failed receives back off from 100 ms doubling to 5 s, jittered by 0.5–1', () => {
    expect([1, 2, 3, 7, 20].map((n) => receiveFailurePause(n, 0.999_999_9))).toEqual(
      [100, 200, 400, 5_000, 5_000].map((v) => expect.closeTo(v, 2)),
    );
    expect(receiveFailurePause(1, 0), 'the lowest jitter halves the pause').toBe(50);
  });
});
