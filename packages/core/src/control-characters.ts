/**
 * Whether `text` holds a C0 or C1 control character (or DEL): such text is refused where it
 * would be printed by bgctl, the dashboard or logs (job types, keys), never written raw to a
 * terminal.
 * @internal
 */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
