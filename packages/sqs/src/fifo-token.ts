import { createHash } from 'node:crypto';
import { hasLoneSurrogate } from '@bg/core/adapter';

/** A key SQS takes as it is: 1–128 printable ASCII characters (no space). */
const PRINTABLE = /^[!-~]{1,128}$/;
/** What {@link fifoToken} makes of a well-formed key SQS cannot take: its SHA-256 in hex. */
const PLAIN_HASH = /^[0-9a-f]{64}$/;
/** Marks the tokens of keys that would otherwise read as another key's token. */
const MARKER = 'bg~';

/**
 * The FIFO message group id or deduplication id of a key (SQS allows 1–128 printable ASCII
 * characters), one-to-one so that two different keys never share a group or drop each other
 * as duplicates:
 * - a printable ASCII key of at most 128 characters is used as it is;
 * - another well-formed key becomes the hex SHA-256 of its UTF-8 bytes (64 characters);
 * - a key that would read as one of those (64 lowercase hex digits, or starting with `bg~`)
 *   and a key with a lone surrogate (UTF-8 cannot hold it) become `bg~` + the hex SHA-256 of
 *   its UTF-16 code units.
 */
export function fifoToken(key: string): string {
  // A lone surrogate (half of a character): UTF-8 turns it into U+FFFD, merging two keys.
  if (hasLoneSurrogate(key) || PLAIN_HASH.test(key) || key.startsWith(MARKER)) {
    return `${MARKER}${createHash('sha256').update(Buffer.from(key, 'utf16le')).digest('hex')}`;
  }
  return PRINTABLE.test(key) ? key : createHash('sha256').update(key, 'utf8').digest('hex');
}
