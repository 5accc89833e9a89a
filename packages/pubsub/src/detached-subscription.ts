import { BgError } from '@bg/core/adapter';

/**
 * The `BACKEND_ERROR` (not retryable) of a subscription that is not attached to the topic of
 * its queue: Pub/Sub leaves a subscription whose topic was deleted attached to
 * `_deleted-topic_`, and a topic created again under the same name does not feed it. Creating
 * the topic and answering "the queue is there" would have every job sent from then on stored
 * in a topic no subscription reads (dropped), while the workers wait on the old subscription.
 *
 * @param subscription - short name of the subscription (`bg-emails`)
 * @param attachedTo - the topic it is attached to, as Pub/Sub reports it (`_deleted-topic_`)
 * @param topic - fully qualified name of the topic it must be attached to
 */
export function detachedSubscriptionError(subscription: string, attachedTo: string, topic: string): BgError {
  return new BgError(
    'BACKEND_ERROR',
    `Pub/Sub subscription ${subscription} is attached to ${attachedTo || 'no topic'}, not to ${topic} (its topic was deleted, or it was made for another topic): jobs sent to the queue would reach no subscription and be dropped. Receive or move what it still holds, then delete it (gcloud pubsub subscriptions delete ${subscription}) and run ensureQueue again`,
    { retryable: false, details: { subscription, attachedTo, topic } },
  );
}
