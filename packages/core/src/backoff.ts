import { BgError } from './errors.js';
import { describeValue } from './option-checks.js';

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

/** The names a retry policy has: any other is a typo, refused rather than ignored. */
const RETRY_OPTIONS: readonly (keyof RetryPolicy)[] = ['maxAttempts', 'backoff', 'baseMs', 'maxMs', 'jitter'];
const BACKOFFS: readonly string[] = ['exponential', 'linear', 'fixed'];
const JITTERS: readonly string[] = ['full', 'none'];

/**
 * Fills a partial policy with defaults and validates it: `INVALID_JOB_DEFINITION` (never
 * retryable) when `partial` is not a plain object (a string would be spread into its
 * characters), names an option a policy does not have (`maxAttempt` would be ignored
 * silently), or gives a value of the wrong type or range. An option given as `undefined` takes
 * its default. `where` (`job "email.welcome"`) starts the message.
 */
export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined, where?: string): RetryPolicy {
  const fail = (why: string): never => {
    throw new BgError('INVALID_JOB_DEFINITION', where === undefined ? why : `${where}: ${why}`);
  };
  if (partial === undefined) return { ...DEFAULT_RETRY_POLICY };
  const proto = typeof partial === 'object' && partial !== null ? Object.getPrototypeOf(partial) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    const what = partial instanceof Map ? 'a Map' : describeValue(partial);
    fail(`retry must be a plain object { ${RETRY_OPTIONS.join(', ')} }, got ${what}`);
  }
  const given: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(partial)) {
    if (!(RETRY_OPTIONS as readonly string[]).includes(name)) {
      fail(`retry has no option ${JSON.stringify(name)} (${RETRY_OPTIONS.join(', ')})`);
    }
    if (value !== undefined) given[name] = value;
  }
  const policy = { ...DEFAULT_RETRY_POLICY, ...given } as { readonly [K in keyof RetryPolicy]: unknown };
  const { maxAttempts, backoff, baseMs, maxMs, jitter } = policy;
  if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1) {
    fail(`retry: maxAttempts must be an integer ≥ 1, got ${describeValue(maxAttempts)}`);
  }
  if (typeof baseMs !== 'number' || !Number.isFinite(baseMs) || baseMs < 0) {
    fail(`retry: baseMs must be a finite number of milliseconds ≥ 0, got ${describeValue(baseMs)}`);
  }
  if (typeof maxMs !== 'number' || !(maxMs >= (baseMs as number))) {
    fail(`retry: maxMs must be a number of milliseconds ≥ baseMs (${String(baseMs)}), got ${describeValue(maxMs)}`);
  }
  if (typeof backoff !== 'string' || !BACKOFFS.includes(backoff)) {
    fail(`retry: backoff must be one of ${BACKOFFS.map((b) => `"${b}"`).join(', ')}, got ${describeValue(backoff)}`);
  }
  if (typeof jitter !== 'string' || !JITTERS.includes(jitter)) {
    fail(`retry: jitter must be ${JITTERS.map((j) => `"${j}"`).join(' or ')}, got ${describeValue(jitter)}`);
  }
  return policy as RetryPolicy;
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
