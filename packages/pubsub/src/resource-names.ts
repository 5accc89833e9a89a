import { assertQueueName, BgError } from '@bg/core/adapter';

/**
 * What a prefix may be (the `prefix` option and URL parameter): 1–40 characters of
 * `A-Z a-z 0-9 . _ ~ + -`, starting with a letter (Pub/Sub resource names must).
 */
export const PREFIX_PATTERN = /^[A-Za-z][A-Za-z0-9._~+-]{0,39}$/;

/** A Google Cloud project id (also a domain-scoped one, `example.com:project`): the `projectId` option and the URL's host. */
export const PROJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.:-]{0,62}$/;

/**
 * Label every topic and subscription `ensureQueue` creates carries: the queue name without
 * the prefix. `listQueues` and `deleteQueue` skip a resource whose label names another queue
 * (it was created under a longer prefix: `bg-staging-emails` is queue `emails` of `bg-staging-`,
 * not `staging-emails` of `bg-`).
 */
export const QUEUE_LABEL = 'bg-queue';

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
