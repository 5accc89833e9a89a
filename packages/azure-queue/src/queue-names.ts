import { assertQueueName } from '@bg/core/adapter';

/** Suffix of the dead-letter queue beside each live queue (the Azure Functions convention). */
export const DEAD_LETTER_SUFFIX = '-poison';

/**
 * The Azure queue name used for a bg queue name: the same name. bg's portable names
 * (`QUEUE_NAME_PATTERN`: 3–48 lowercase letters, digits and single hyphens) are valid Azure
 * queue names, and `<name>-poison` stays within Azure's 63 characters.
 */
export function azureQueueName(queue: string): string {
  assertQueueName(queue);
  return queue;
}

/**
 * The Azure name of the dead-letter queue of a bg queue: `<queue>-poison`. Do not use a bg
 * queue named `<other>-poison` as a live queue: it is `<other>`'s dead-letter store.
 */
export function deadLetterQueueName(queue: string): string {
  return `${azureQueueName(queue)}${DEAD_LETTER_SUFFIX}`;
}
