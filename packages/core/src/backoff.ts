import { BgError } from './errors.js';

/** How a job is retried after a retryable failure. */
export interface RetryPolicy {
  /** Deliveries before the job is dead-lettered with `max-attempts` (≥ 1). */
  readonly maxAttempts: number;
  /** Growth of the delay between attempts. */
  readonly backoff: 'exponential' | 'linear' | 'fixed';
  /** Delay after the first failed attempt, ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, ms. */
  readonly maxMs: number;
  /**
   * `full`: a uniformly random delay between `baseMs` and the computed delay (spreads
   * retries, never immediate). `none`: exactly the computed delay.
   */
  readonly jitter: 'full' | 'none';
}

/** Defaults: 10 attempts, exponential from 1 s up to 10 min, full jitter. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 10,
  backoff: 'exponential',
  baseMs: 1_000,
  maxMs: 10 * 60_000,
  jitter: 'full',
});

/** Fills a partial policy with defaults and validates it (`INVALID_ARGUMENT`). */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined, where = 'retry'): RetryPolicy {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...partial };
  const fail = (why: string): never => {
    throw new BgError('INVALID_JOB_DEFINITION', `${where}: ${why}`);
  };
  if (!Number.isInteger(policy.maxAttempts) || policy.maxAttempts < 1) fail('maxAttempts must be an integer ≥ 1');
  if (!(policy.baseMs >= 0) || !Number.isFinite(policy.baseMs)) fail('baseMs must be a finite number ≥ 0');
  if (!(policy.maxMs >= policy.baseMs)) fail('maxMs must be ≥ baseMs');
  if (!['exponential', 'linear', 'fixed'].includes(policy.backoff)) fail(`unknown backoff "${policy.backoff}"`);
  if (!['full', 'none'].includes(policy.jitter)) fail(`unknown jitter "${policy.jitter}"`);
  return policy;
}

/**
 * Delay before retrying after failed attempt number `attempt` (1-based).
 * `random` is injectable for tests.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const n = Math.max(1, attempt);
  let delay: number;
  switch (policy.backoff) {
    case 'fixed':
      delay = policy.baseMs;
      break;
    case 'linear':
      delay = policy.baseMs * n;
      break;
    default:
      delay = policy.baseMs * 2 ** Math.min(n - 1, 52);
  }
  delay = Math.min(delay, policy.maxMs);
  if (policy.jitter === 'full' && delay > policy.baseMs) {
    delay = policy.baseMs + random() * (delay - policy.baseMs);
  }
  return Math.round(delay);
}
