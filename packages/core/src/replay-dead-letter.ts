import type { Adapter, DeadLetter } from './adapter.js';
import { withoutDeadLetterMark } from './dead-letter-mark.js';
import { DEAD_LETTER_ATTRIBUTE, ORDERING_KEY_ATTRIBUTE } from './message-attributes.js';

/**
 * Puts one dead letter back into its live queue so that a worker runs it, with the same id, body
 * and attributes and a fresh delivery count (the adapter's `replayDeadLetter`).
 *
 * A dead letter that still bears the `bg-dead-letter` marker (a dead letter in transit that the
 * backend set aside by itself, e.g. an SQS redrive policy or Pub/Sub's maximum delivery
 * attempts, before any worker dead-lettered it) would be dead-lettered again by the first
 * worker, never run. It is sent back without the marker (a new live message with the same id,
 * body and other attributes), then removed from the dead letters: a crash in between leaves a
 * duplicate, never a loss.
 *
 * @param dead The dead letter, or its job id (then it is read first: one more call).
 * @returns False when no dead letter has that id (any more).
 */
export async function replayDeadLetter(adapter: Adapter, queue: string, dead: string | DeadLetter): Promise<boolean> {
  const record = typeof dead === 'string' ? await adapter.getDeadLetter(queue, dead) : dead;
  if (record === undefined) return false;
  if (!Object.hasOwn(record.attributes, DEAD_LETTER_ATTRIBUTE)) return adapter.replayDeadLetter(queue, record.id);
  // Given the record by the caller: it may have been replayed or purged since it was read.
  if (typeof dead !== 'string' && (await adapter.getDeadLetter(queue, record.id)) === undefined) return false;
  const attributes = withoutDeadLetterMark(record.attributes);
  const orderingKey = adapter.capabilities.ordering ? attributes[ORDERING_KEY_ATTRIBUTE] : undefined;
  await adapter.send(queue, [{ id: record.id, body: record.body, attributes, ...(orderingKey ? { orderingKey } : {}) }]);
  await adapter.purgeDeadLetters(queue, [record.id]);
  return true;
}
