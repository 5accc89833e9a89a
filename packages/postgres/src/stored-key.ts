import { textLoses } from './message-codec.js';

/**
 * Deduplication and ordering keys as a `text` column keeps them, one to one. A key PostgreSQL's
 * `text` cannot hold byte for byte (a NUL character, a lone surrogate: an emoji cut in half by
 * `slice`) is stored as its JSON string, and so is a key that reads as such a JSON string, so no
 * two keys are ever stored alike. Every other key, the usual one, is stored as it is.
 */

/** Whether `key` is stored as its JSON string: text cannot keep it, or it reads as one that is stored so. */
function escaped(key: string): boolean {
  if (textLoses(key)) return true;
  if (key.length < 2 || !key.startsWith('"') || !key.endsWith('"')) return false;
  let inner: unknown;
  try {
    inner = JSON.parse(key);
  } catch {
    return false;
  }
  return typeof inner === 'string' && escaped(inner);
}

/** The stored form of a key (the key itself, unless {@link escaped}). */
export function storedKey(key: string): string {
  return escaped(key) ? JSON.stringify(key) : key;
}

/** The key back from its stored form ({@link storedKey}'s inverse). */
export function loadedKey(text: string): string {
  if (!text.startsWith('"')) return text;
  let inner: unknown;
  try {
    inner = JSON.parse(text);
  } catch {
    return text;
  }
  return typeof inner === 'string' && escaped(inner) ? inner : text;
}
