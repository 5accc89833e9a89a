import { BgError, hasLoneSurrogate, type OutgoingMessage } from '@bg/core/adapter';

/**
 * Refuses a send whose job ids, deduplication keys or bodies hold a lone surrogate, before any
 * I/O: `INVALID_ARGUMENT`, not retryable. Redis stores UTF-8, so each would come back as U+FFFD:
 * another id or body, and two distinct ids or keys one (a job dropped as a duplicate, a dead
 * letter overwriting another). bg's own envelopes never hold one (JSON escapes them).
 */
export function assertLosslessText(messages: readonly OutgoingMessage[]): void {
  for (let position = 0; position < messages.length; position++) {
    const m = messages[position] as OutgoingMessage;
    const field = hasLoneSurrogate(m.id)
      ? 'job id'
      : m.deduplicationKey !== undefined && hasLoneSurrogate(m.deduplicationKey)
        ? 'deduplication key'
        : hasLoneSurrogate(m.body)
          ? 'body'
          : undefined;
    if (field === undefined) continue;
    throw new BgError(
      'INVALID_ARGUMENT',
      `the ${field} of message ${position} holds a lone surrogate (half of a UTF-16 pair), which Redis cannot keep: it would come back as U+FFFD`,
      { retryable: false, details: { position } },
    );
  }
}
