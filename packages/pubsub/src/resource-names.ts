import { assertQueueName, BgError } from '@bg/core/adapter';

/** The Pub/Sub resources behind one bg queue. */
export interface QueueResources {
  /** Topic the jobs are published to. */
  readonly topic: string;
  /** The one subscription shared by all workers. */
  readonly subscription: string;
  /** Topic dead letters are published to (by the adapter, and by Pub/Sub's own dead-letter policy). */
  readonly deadTopic: string;
  /** Subscription that stores the dead letters. */
  readonly deadSubscription: string;
}

/**
 * Maps a queue name to its fully qualified resource names: `<prefix><queue>` for the topic
 * and the worker subscription, `<prefix><queue>.dead` for the dead-letter topic and its
 * subscription (a dot cannot occur in a queue name, so no queue collides with another's
 * dead letters).
 */
export function queueResources(projectId: string, prefix: string, queue: string): QueueResources {
  assertQueueName(queue);
  const base = `${prefix}${queue}`;
  if (/^goog/i.test(base)) {
    throw new BgError('INVALID_ARGUMENT', `Pub/Sub resource names must not start with "goog" (${base}): use a prefix`);
  }
  return {
    topic: `projects/${projectId}/topics/${base}`,
    subscription: `projects/${projectId}/subscriptions/${base}`,
    deadTopic: `projects/${projectId}/topics/${base}.dead`,
    deadSubscription: `projects/${projectId}/subscriptions/${base}.dead`,
  };
}
