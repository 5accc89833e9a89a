import { describe, expect, it } from 'vitest';
import type { Capabilities } from '../src/adapter.js';
import { needsFreshCount, parkBudget, planEarlyDelivery } from '../src/delay-hop.js';

const base: Capabilities = {
  maxPayloadBytes: 1_000,
  maxDelayMs: 0,
  maxLeaseMs: 600_000,
  minLeaseMs: 10_000,
  maxReleaseDelayMs: 600_000,
  maxBatchSize: 10,
  extendBeyondMax: 'clamp',
  nativeDeliveryCount: true,
  nativeDeadLetter: true,
  maxDeliveries: 100,
  ordering: false,
  deduplication: false,
  durable: true,
};

describe('planEarlyDelivery', () => {
  it('hops by re-sending, natively delayed, where the backend has delays', () => {
    const sqs = { ...base, maxDelayMs: 900_000 };
    expect(planEarlyDelivery(sqs, 3_600_000, 1)).toEqual({ action: 'resend', delayMs: 900_000 });
    expect(planEarlyDelivery(sqs, 5_000, 7)).toEqual({ action: 'resend', delayMs: 5_000 });
  });

  it('parks with release (at most maxReleaseDelayMs) while the delivery count is below half the cap', () => {
    expect(planEarlyDelivery(base, 3_600_000, 1)).toEqual({ action: 'park', delayMs: 600_000 });
    expect(planEarlyDelivery(base, 1_000, 49)).toEqual({ action: 'park', delayMs: 1_000 });
  });

  it('re-sends at once (fresh delivery count) when the parks reach half the cap', () => {
    expect(planEarlyDelivery(base, 3_600_000, 50)).toEqual({ action: 'resend', delayMs: 0 });
    expect(planEarlyDelivery(base, 3_600_000, 99)).toEqual({ action: 'resend', delayMs: 0 });
  });

  it('keeps any delay under the cap: a week of 600 s parks never reaches 100 deliveries of one message', () => {
    let remaining = 7 * 24 * 3_600_000;
    let count = 1;
    let highest = 0;
    while (remaining > 0) {
      highest = Math.max(highest, count);
      const step = planEarlyDelivery(base, remaining, count);
      if (step.action === 'park') {
        remaining -= step.delayMs;
        count++;
      } else {
        count = 1;
      }
    }
    expect(highest, 'highest delivery count of one message while parked').toBeLessThan(base.maxDeliveries as number);
  });

  it('parks without limit when the backend has no cap of its own', () => {
    const { maxDeliveries: _, ...uncapped } = base;
    expect(planEarlyDelivery(uncapped, 3_600_000, 5_000)).toEqual({ action: 'park', delayMs: 600_000 });
  });

  it('budgets at least one park', () => {
    expect(parkBudget(1)).toBe(1);
    expect(parkBudget(5)).toBe(3);
    expect(parkBudget(100)).toBe(50);
  });
});

describe('needsFreshCount', () => {
  it('re-sends a due delayed job once (not yet hopped), and only without native delays', () => {
    expect(needsFreshCount(base, true, false), 'delayed, not hopped, no native delays').toBe(true);
    expect(needsFreshCount(base, true, true), 'delayed, hopped already').toBe(false);
    expect(needsFreshCount(base, false, false), 'not delayed').toBe(false);
    expect(needsFreshCount({ ...base, maxDelayMs: 900_000 }, true, false), 'delayed, native delays').toBe(false);
  });

  it('re-sends a job deferred as an unknown version (bg-deferred) on every backend', () => {
    expect(needsFreshCount(base, false, false, true), 'deferred, no native delays').toBe(true);
    expect(needsFreshCount({ ...base, maxDelayMs: 900_000 }, false, false, true), 'deferred, native delays').toBe(true);
  });
});
