import type { Capabilities } from './adapter.js';

/**
 * What the worker does with a delivery that came before its envelope's `notBefore`:
 * - `resend`: send the envelope again as a new message (fresh native delivery count),
 *   natively delayed by `delayMs` where the backend has delays, then ack the old one;
 * - `park`: `release` the delivery for `delayMs` (the backend counts one more delivery).
 */
export type DelayStep =
  | { readonly action: 'resend'; readonly delayMs: number }
  | { readonly action: 'park'; readonly delayMs: number };

/**
 * How many deliveries of one message a parked job may spend: half the backend's own cap
 * (at least 1), leaving the other half for deliveries nobody settles (crashed workers).
 */
export function parkBudget(maxDeliveries: number): number {
  return Math.max(1, Math.ceil(maxDeliveries / 2));
}

/**
 * Decides how an early delivery waits out the `remainingMs` left of its delay. With a native
 * delay it hops by re-sending (at most `maxDelayMs` a hop). Without one (Pub/Sub, SQS FIFO) it
 * parks with `release` (at most `maxReleaseDelayMs` a park) while `deliveryCount` is below
 * {@link parkBudget} of `maxDeliveries`; at the budget it re-sends at once, so parks never
 * drive a message into the backend's own dead-letter policy, however long the delay.
 */
export function planEarlyDelivery(capabilities: Capabilities, remainingMs: number, deliveryCount: number): DelayStep {
  if (capabilities.maxDelayMs > 0) return { action: 'resend', delayMs: Math.min(remainingMs, capabilities.maxDelayMs) };
  const cap = capabilities.maxDeliveries;
  if (cap !== undefined && deliveryCount >= parkBudget(cap)) return { action: 'resend', delayMs: 0 };
  return { action: 'park', delayMs: Math.min(remainingMs, capabilities.maxReleaseDelayMs) };
}

/**
 * True when a delivery that is due (its `notBefore` passed, or it had none) must first be re-sent
 * as a new message, marked `bg-hopped`, so that the deliveries before it are not counted as
 * attempts. That is when it is not marked already (`hopped`) and either
 * - its job was deferred as an unknown version (`deferred`: the message carries `bg-deferred`),
 *   whose deferrals were releases that raised the delivery count; or
 * - it is `delayed` (its envelope has a `notBefore`) on a backend without native delays, where
 *   early deliveries are parked with releases.
 *
 * The second case does not look at the delivery count: a delayed job first delivered once due
 * (no parks) and one parked before are told apart by nothing stored with the message, and a
 * retry's release raises the count exactly as a park does. So such a job always runs from the
 * re-sent message (one extra send when it was never parked), and its retries, on that message,
 * never trigger another re-send: it runs `maxAttempts` times, never one more.
 */
export function needsFreshCount(capabilities: Capabilities, delayed: boolean, hopped: boolean, deferred = false): boolean {
  if (hopped) return false;
  return deferred || (delayed && capabilities.maxDelayMs <= 0);
}
