/** Control characters a terminal acts on (C0 but tab and newline, DEL, C1): ESC starts a sequence. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` safe to print on a terminal: control characters (an escape sequence in a job type, an
 * error or a body could clear the screen, retitle the window or hide a link) are shown as
 * `\u001b`-style escapes instead of being sent to the terminal. Newlines and tabs are kept.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `text` as a message may echo it: {@link printable}, and at most `max` characters. */
export function echo(text: string, max = 100): string {
  const shown = text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
  return printable(shown);
}

/**
 * A name (a job type, an id) as a message quotes it: in double quotes with every control
 * character escaped, newlines and tabs too, so it stays on its line; at most `max` characters.
 */
export function quoted(text: string, max = 100): string {
  const shown = text.length <= max ? text : text.slice(0, max);
  return `${printable(JSON.stringify(shown))}${text.length <= max ? '' : `… (${text.length} characters)`}`;
}

/** Any control character at all (C0 including tab and newline, DEL, C1). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const ANY_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** True when `text` has a control character (tab and newline included): not for a name. */
export function hasControlCharacter(text: string): boolean {
  return ANY_CONTROL.test(text);
}
