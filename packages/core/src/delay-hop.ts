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
 * True when a delivery that is due (its `notBefore` passed) must first be re-sent as a new
 * message so that its parks are not counted as attempts: on backends without native delays,
 * when parks raised its delivery count and it was not re-sent for that reason already.
 */
export function needsFreshCount(capabilities: Capabilities, deliveryCount: number, alreadyReset: boolean): boolean {
  return capabilities.maxDelayMs <= 0 && deliveryCount > 1 && !alreadyReset;
}
