import type { DeadLetter } from '../adapter.js';
import { BgError } from '../errors.js';

/** A place in the oldest-first order of dead letters: a record's dead-letter time and job id. */
export interface DeadLetterPosition {
  readonly deadLetteredAt: number;
  readonly id: string;
}

const PREFIX = 'dl1.';

/**
 * Oldest first: by `deadLetteredAt`, ties by job id (code-unit order). Job ids are unique
 * among the listed records, so the order is total and a cursor never skips or repeats one.
 */
export function compareDeadLetters(a: DeadLetterPosition, b: DeadLetterPosition): number {
  if (a.deadLetteredAt !== b.deadLetteredAt) return a.deadLetteredAt - b.deadLetteredAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The one dead-letter cursor format of every adapter: `dl1.` then the base64url of the JSON
 * `[deadLetteredAt, id]` of the last record of the page. It names a position, not an
 * index, so records added or removed between two pages never shift the next page.
 */
export function encodeDeadLetterCursor(position: DeadLetterPosition): string {
  return PREFIX + Buffer.from(JSON.stringify([position.deadLetteredAt, position.id]), 'utf8').toString('base64url');
}

/**
 * Parses a cursor made by {@link encodeDeadLetterCursor}. Anything else — another format, a
 * truncated or edited cursor, a time no clock gives (beyond the safe integers) — is
 * `INVALID_ARGUMENT` (not retryable).
 */
export function decodeDeadLetterCursor(cursor: string): DeadLetterPosition {
  let parsed: unknown;
  if (typeof cursor === 'string' && cursor.startsWith(PREFIX)) {
    const text = cursor.slice(PREFIX.length);
    if (/^[A-Za-z0-9_-]+$/.test(text)) {
      try {
        parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    typeof parsed[0] === 'number' &&
    Number.isFinite(parsed[0]) &&
    Math.abs(parsed[0]) <= Number.MAX_SAFE_INTEGER &&
    typeof parsed[1] === 'string'
  ) {
    return { deadLetteredAt: parsed[0], id: parsed[1] };
  }
  const shown = String(cursor).length > 60 ? `${String(cursor).slice(0, 60)}…` : String(cursor);
  throw new BgError(
    'INVALID_ARGUMENT',
    `bad dead-letter cursor ${JSON.stringify(shown)}: pass back the cursor of a previous page, unchanged`,
    { retryable: false },
  );
}

/** The position of a record (its sort key), e.g. to encode a cursor after it. */
export function positionOf(letter: DeadLetter): DeadLetterPosition {
  return { deadLetteredAt: letter.deadLetteredAt, id: letter.id };
}
