import type { DeadLetterPosition, OutgoingMessage } from '@bg/core/adapter';
import { BgError } from '@bg/core/adapter';
import { textLoses } from './message-codec.js';

/**
 * Whether PostgreSQL's UTF-8 `text` keeps the job id `id` as it is: not when it holds a NUL
 * character (refused by the server) or a lone surrogate (turned into U+FFFD on the way, so the
 * id read back differs, and two such ids may become one). bg's own ids (UUIDs) always are. Pure.
 */
export function storableId(id: string): boolean {
  return !textLoses(id);
}

/**
 * Refuses a send whose job ids `text` cannot keep, before any I/O: `INVALID_ARGUMENT`, not
 * retryable (the server would refuse it at every try, or store another id).
 */
export function assertStorableIds(messages: readonly OutgoingMessage[]): void {
  for (let position = 0; position < messages.length; position++) {
    const m = messages[position] as OutgoingMessage;
    if (storableId(m.id)) continue;
    throw new BgError(
      'INVALID_ARGUMENT',
      `job id ${JSON.stringify(m.id.slice(0, 40))}${m.id.length > 40 ? '…' : ''} holds a NUL character or a lone surrogate, which PostgreSQL text cannot keep: give the job another id`,
      { retryable: false, details: { position } },
    );
  }
}

/**
 * Checks a dead-letter cursor's position against what this adapter stores: a whole-millisecond
 * time and an id `text` keeps. Any other position came from no page of this adapter (an edited
 * cursor, or another backend's): `INVALID_ARGUMENT`, not retryable.
 */
export function assertStoredPosition(position: DeadLetterPosition): void {
  if (Number.isSafeInteger(position.deadLetteredAt) && storableId(position.id)) return;
  throw new BgError(
    'INVALID_ARGUMENT',
    'bad dead-letter cursor: its position (a fraction of a millisecond, or an id PostgreSQL cannot store) comes from no page of this adapter: pass back the cursor of a previous page, unchanged',
    { retryable: false },
  );
}
