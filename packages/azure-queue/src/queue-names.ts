import { createHash } from 'node:crypto';
import { assertQueueName } from '@bg/core';

/** Suffix of the dead-letter queue beside each live queue (the Azure Functions convention). */
export const DEAD_LETTER_SUFFIX = '-poison';

const AZURE_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;
const MAX_PLAIN = 63 - DEAD_LETTER_SUFFIX.length;

/**
 * The Azure queue name used for a bg queue name.
 *
 * bg names (`[A-Za-z0-9][A-Za-z0-9_-]{0,62}`) are wider than Azure's (3–63 lowercase
 * letters, digits and single dashes). A name that is already a valid Azure name of at most
 * 56 characters (so that `<name>-poison` fits) is used as is. Any other name is mapped to a
 * lowercase, dash-only slug of at most 45 characters plus `-` and 10 hex digits of the
 * SHA-256 of the original name, so distinct bg names get distinct Azure names.
 *
 * @example
 * ```ts
 * azureQueueName('emails') // 'emails'
 * azureQueueName('Emails_EU') // 'emails-eu-3f0c…' (slug + hash)
 * ```
 */
export function azureQueueName(queue: string): string {
  assertQueueName(queue);
  if (queue.length <= MAX_PLAIN && AZURE_NAME.test(queue)) return queue;
  const slug =
    queue
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 45)
      .replace(/-+$/, '') || 'q';
  const hash = createHash('sha256').update(queue).digest('hex').slice(0, 10);
  return `${slug}-${hash}`;
}

/** The Azure name of the dead-letter queue of a bg queue: `<azureQueueName(queue)>-poison`. */
export function deadLetterQueueName(queue: string): string {
  return `${azureQueueName(queue)}${DEAD_LETTER_SUFFIX}`;
}
