import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_RETRY_POLICY, isBgError, resolveRetryPolicy } from '../src/index.js';

describe('backoff', () => {
  const exact = resolveRetryPolicy({ baseMs: 100, maxMs: 1_000, jitter: 'none' });

  it('grows exponentially up to maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(exact, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('supports linear and fixed', () => {
    expect([1, 2, 3].map((n) => backoffDelay({ ...exact, backoff: 'linear' }, n))).toEqual([100, 200, 300]);
    expect([1, 2, 3].map((n) => backoffDelay({ ...exact, backoff: 'fixed' }, n))).toEqual([100, 100, 100]);
  });

  it('full jitter stays between baseMs and the computed delay: never an immediate retry', () => {
    const jittered = { ...exact, jitter: 'full' as const };
    expect(backoffDelay(jittered, 4, () => 0)).toBe(100);
    expect(backoffDelay(jittered, 4, () => 0.999999)).toBe(800);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(jittered, 3);
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it('defaults are sane and invalid policies are typed errors', () => {
    expect(DEFAULT_RETRY_POLICY.maxAttempts).toBeGreaterThan(1);
    expect(backoffDelay(DEFAULT_RETRY_POLICY, 1)).toBeGreaterThan(0);
    for (const bad of [{ maxAttempts: 0 }, { baseMs: -1 }, { baseMs: 10, maxMs: 5 }, { backoff: 'random' as never }]) {
      try {
        resolveRetryPolicy(bad);
        expect.unreachable();
      } catch (error) {
        expect(isBgError(error, 'INVALID_JOB_DEFINITION')).toBe(true);
      }
    }
  });
});
