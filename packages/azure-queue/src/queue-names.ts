import { assertQueueName, BgError } from '@bg/core/adapter';

/** Suffix of the dead-letter queue beside each live queue (the Azure Functions convention). */
export const DEAD_LETTER_SUFFIX = '-poison';

/**
 * The Azure queue name used for a bg queue name: the same name. bg's portable names
 * (`QUEUE_NAME_PATTERN`: 3–48 lowercase letters, digits and single hyphens) are valid Azure
 * queue names, and `<name>-poison` stays within Azure's 63 characters. A name ending in
 * `-poison` is refused (`INVALID_ARGUMENT`, not retryable): it is another queue's dead letters.
 */
export function azureQueueName(queue: string): string {
  assertQueueName(queue);
  if (queue.endsWith(DEAD_LETTER_SUFFIX)) {
    throw new BgError(
      'INVALID_ARGUMENT',
      `queue "${queue}" ends in "${DEAD_LETTER_SUFFIX}": on Azure it would be the dead-letter queue of "${queue.slice(0, -DEAD_LETTER_SUFFIX.length)}"; choose another name`,
      { retryable: false, details: { queue } },
    );
  }
  return queue;
}

/**
 * The Azure name of the dead-letter queue of a bg queue: `<queue>-poison` (a bg queue named
 * `<other>-poison` is refused: it would be `<other>`'s dead-letter store).
 */
export function deadLetterQueueName(queue: string): string {
  return `${azureQueueName(queue)}${DEAD_LETTER_SUFFIX}`;
}
