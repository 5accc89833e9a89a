/**
 * The attributes bg writes beside a job's body. Their names start with `bg-`, reserved for bg;
 * every adapter stores them (SQS as message attributes, Azure inside its wrapper …), and they
 * travel with the job through re-sends, dead letters and replays.
 * @module
 */

/** The job type (every job): lets tools and adapters read it without decoding the envelope. */
export const TYPE_ATTRIBUTE = 'bg-type';

/**
 * The job's `orderingKey`, when it was enqueued with one: a re-send (delay hop, fresh count,
 * deferral) passes it back to `send` so that the new message stays in the job's ordering group.
 */
export const ORDERING_KEY_ATTRIBUTE = 'bg-ordering-key';

/**
 * Marks a message re-sent for a fresh delivery count: every delivery of it is an attempt. Set
 * on a delayed job once it is due on a backend without native delays (its deliveries before
 * were parks), and on a job whose unknown-version deferrals are over.
 */
export const HOPPED_ATTRIBUTE = 'bg-hopped';

/**
 * Marks a message re-sent by an unknown-version deferral; its value is when the job was first
 * deferred (epoch ms). Its later deferrals are releases, not attempts: a worker that knows the
 * version re-sends it for a fresh count ({@link HOPPED_ATTRIBUTE}) before running it, and the
 * deferral window runs from that time.
 */
export const DEFERRED_ATTRIBUTE = 'bg-deferred';

/**
 * Marks a dead letter in transit through a live queue (`bgctl move --dead` onto a backend that
 * cannot import dead letters): its value is the dead-letter record as JSON (see
 * `encodeDeadLetterMark`). A worker never runs a delivery bearing it: it dead-letters it at once
 * with that record (`malformed-envelope` when the value cannot be read), and the dead letter it
 * writes does not keep the marker, so a replay makes the job runnable again. The producer never
 * sets it (its messages carry only `bg-type` and `bg-ordering-key`).
 */
export const DEAD_LETTER_ATTRIBUTE = 'bg-dead-letter';

/** When the job was first deferred, from its {@link DEFERRED_ATTRIBUTE} (undefined when unmarked or unreadable). */
export function deferredSince(attributes: Readonly<Record<string, string>>): number | undefined {
  const mark = attributes[DEFERRED_ATTRIBUTE];
  if (mark === undefined) return undefined;
  const at = Number(mark);
  return Number.isFinite(at) ? at : undefined;
}

/** `attributes` with `name` set to `value` and `drop` removed (a copy: received attributes are never changed). */
export function withMark(
  attributes: Readonly<Record<string, string>>,
  name: string,
  value: string,
  drop: string,
): Readonly<Record<string, string>> {
  const marked: Record<string, string> = { ...attributes, [name]: value };
  delete marked[drop];
  return marked;
}
