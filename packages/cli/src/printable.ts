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
