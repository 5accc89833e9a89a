import type { Capabilities, ReceivedMessage } from './adapter.js';
import { ORDERING_KEY_ATTRIBUTE } from './message-attributes.js';

/**
 * Why a worker hands a delivery back when it stops:
 * - `not-started`: its handler never ran (received ahead and waiting for a slot, received while
 *   the stop began, or its payload check outlasted the start of the stop);
 * - `unfinished`: its handler still ran when the grace period ended;
 * - `gave-up`: its handler threw after the stop aborted its signal.
 */
export type HandBackWhy = 'not-started' | 'unfinished' | 'gave-up';

/**
 * How a delivery goes back: `release` (visible again at once; the backend counts one more
 * delivery, an attempt) or `re-send` (sent again as a new message with the same id, body and
 * attributes, then the old one removed: a fresh delivery count, no attempt spent).
 */
export type HandBackVia = 'release' | 're-send';

/**
 * Decides how a delivery handed back at stop goes back. A delivery whose handler never ran, on
 * its first delivery, is re-sent: a release would raise its delivery count and spend an attempt
 * on a job that never ran (with `maxAttempts: 1` a deploy would dead-letter it). Every other one
 * is released:
 * - a handler that ran (`unfinished`, `gave-up`): that run was an attempt;
 * - a delivery count above 1: its earlier deliveries were attempts (or parks, which a later
 *   worker re-sends for a fresh count anyway), and a re-send would forget them, giving the job a
 *   fresh `maxAttempts` budget at every stop; one attempt too many is the safe side;
 * - a job with an ordering key on a backend that orders: a new message would go to the end of
 *   its ordering group, behind jobs sent after it; a release keeps its place.
 * Pure.
 */
export function planHandBack(capabilities: Capabilities, message: ReceivedMessage, why: HandBackWhy): HandBackVia {
  if (why !== 'not-started' || message.deliveryCount !== 1) return 'release';
  const orderingKey = message.attributes[ORDERING_KEY_ATTRIBUTE];
  if (capabilities.ordering && orderingKey !== undefined && orderingKey !== '') return 'release';
  return 're-send';
}
