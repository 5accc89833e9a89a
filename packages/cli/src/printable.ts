import { redactText } from '@bg/core';

/**
 * What a terminal acts on or reorders: control characters (C0 but tab and newline, DEL, C1 — ESC
 * starts a sequence, U+009B is an 8-bit CSI), the bidirectional formatting characters (U+202E
 * shows `exe.png` as `gnp.exe`: "Trojan Source"), the line and paragraph separators, and lone
 * surrogates (a terminal shows U+FFFD instead: the escape says what the data really holds).
 */
const UNSAFE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** {@link UNSAFE}, and newlines and tabs too: for a value that must stay on its line. */
const UNSAFE_IN_LINE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `text` safe to print on a terminal: control characters (an escape sequence in a job type, an
 * error or a body could clear the screen, retitle the window or hide a link), bidirectional
 * overrides and lone surrogates are shown as `\u001b`-style escapes instead of being sent to the
 * terminal. Newlines and tabs are kept.
 */
export function printable(text: string): string {
  return text.replace(UNSAFE, unicodeEscape);
}

/**
 * {@link printable}, with newlines and tabs escaped too: a table cell or a one-line field (an id,
 * a job type) that job data must not split into lines of its own (a type holding `\n` printed a
 * made-up row under the real one).
 */
export function printableLine(text: string): string {
  return text.replace(UNSAFE_IN_LINE, unicodeEscape);
}

/**
 * JSON text with the characters JSON.stringify leaves raw but a terminal acts on (DEL, C1, bidi
 * formatting, line separators) written as `\uXXXX` escapes: the same JSON value, safe to print.
 * They can only occur inside strings, where the escape means the same character.
 */
export function printableJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, unicodeEscape);
}

/**
 * `text` as a message may echo it: {@link printable}, and at most `max` characters. Redacted
 * ({@link redactText}) before it is cut: a password cut short no longer reads as one, and its
 * first characters would be printed (the output's own scrubbing masks whole secrets).
 */
export function echo(text: string, max = 100): string {
  const safe = redactText(text);
  const shown = safe.length <= max ? safe : `${safe.slice(0, max)}… (${text.length} characters)`;
  return printable(shown);
}

/**
 * A name (a job type, an id) as a message quotes it: in double quotes with every control
 * character escaped, newlines and tabs too, so it stays on its line; at most `max` characters,
 * redacted before it is cut (as {@link echo}).
 */
export function quoted(text: string, max = 100): string {
  const safe = redactText(text);
  const shown = safe.length <= max ? safe : safe.slice(0, max);
  return `${printable(JSON.stringify(shown))}${safe.length <= max ? '' : `… (${text.length} characters)`}`;
}

/** Any control character at all (C0 including tab and newline, DEL, C1). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** True when `text` has a control character (tab and newline included): not for a name. */
export function hasControlCharacter(text: string): boolean {
  return ANY_CONTROL.test(text);
}
