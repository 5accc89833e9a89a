import type { DeadLetter, DeadLetterInfo } from '../adapter.js';

/** What {@link deadLetterRecord} takes from the delivery (a `ReceivedMessage` fits). */
export interface DeadLetterSourceMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly enqueuedAt?: number;
}

/**
 * The dead-letter record an adapter stores for `deadLetter(queue, message, info)`: the
 * message's id, body and attributes (copied), the reason, the error (copied, absent when
 * none), the attempts, when it was first enqueued (`info.enqueuedAt`, else the delivery's,
 * else absent) and when it was dead-lettered. Pure; the adapter only encodes and writes it.
 */
export function deadLetterRecord(message: DeadLetterSourceMessage, info: DeadLetterInfo): DeadLetter {
  const enqueuedAt = info.enqueuedAt ?? message.enqueuedAt;
  return {
    id: message.id,
    body: message.body,
    attributes: { ...message.attributes },
    reason: info.reason,
    ...(info.error ? { error: { ...info.error } } : {}),
    attempts: info.attempts,
    ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
    deadLetteredAt: info.deadLetteredAt,
  };
}
