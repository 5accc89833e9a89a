import type { DeadLetter, DeadLetterReason } from './adapter.js';
import { decodeEnvelope } from './envelope.js';
import { redactText } from './redact.js';

/**
 * Which dead letters a tool shows or acts on (`bgctl dead`, the dashboard). Every field given
 * narrows the selection; an absent or empty field matches every dead letter.
 */
export interface DeadLetterFilter {
  /** Only these job ids. */
  readonly ids?: readonly string[];
  /** Only these reasons. */
  readonly reasons?: readonly DeadLetterReason[];
  /** Only these job types (see {@link deadLetterType}). */
  readonly types?: readonly string[];
  /** Only dead letters set aside at least this long ago, ms. */
  readonly olderThanMs?: number;
  /** Only dead letters set aside at most this long ago, ms. */
  readonly newerThanMs?: number;
  /** Only dead letters whose error name, code or message contains this text (any case). */
  readonly text?: string;
}

/**
 * The job type of a dead letter: its `bg-type` attribute, else the type in its envelope;
 * `undefined` when it has neither (a body that is not a bg envelope).
 */
export function deadLetterType(dead: Pick<DeadLetter, 'attributes' | 'body'>): string | undefined {
  const attr = dead.attributes['bg-type'];
  if (attr) return attr;
  try {
    return decodeEnvelope(dead.body).type;
  } catch {
    return undefined;
  }
}

/** True when `list` is given and not empty, so that it narrows the selection. */
function narrows(list: readonly unknown[] | undefined): list is readonly unknown[] {
  return list !== undefined && list.length > 0;
}

/** True when `dead` passes every condition of `filter` at time `now` (ms since the epoch). */
export function matchesDeadLetter(dead: DeadLetter, filter: DeadLetterFilter, now: number): boolean {
  if (narrows(filter.ids) && !filter.ids.includes(dead.id)) return false;
  if (narrows(filter.reasons) && !filter.reasons.includes(dead.reason)) return false;
  if (narrows(filter.types)) {
    const type = deadLetterType(dead);
    if (type === undefined || !filter.types.includes(type)) return false;
  }
  const age = now - dead.deadLetteredAt;
  if (filter.olderThanMs !== undefined && age < filter.olderThanMs) return false;
  if (filter.newerThanMs !== undefined && age > filter.newerThanMs) return false;
  if (filter.text !== undefined && filter.text !== '') {
    const error = dead.error;
    // The text as it is shown (redacted): matching the stored text would let a filter guess a
    // secret the page masks, one character at a time.
    const haystack = error ? redactText(`${error.name ?? ''} ${error.code ?? ''} ${error.message}`).toLowerCase() : '';
    if (!haystack.includes(filter.text.toLowerCase())) return false;
  }
  return true;
}

/** True when `filter` narrows the selection at all (by id, reason, type, age or error text). */
export function isDeadLetterFilterActive(filter: DeadLetterFilter): boolean {
  return (
    narrows(filter.ids) ||
    narrows(filter.reasons) ||
    narrows(filter.types) ||
    filter.olderThanMs !== undefined ||
    filter.newerThanMs !== undefined ||
    (filter.text !== undefined && filter.text !== '')
  );
}
