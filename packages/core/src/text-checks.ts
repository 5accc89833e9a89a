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

/**
 * Whether `text` holds a lone surrogate (half of a character outside the BMP, e.g. an emoji cut
 * by `slice`): UTF-8 and database text turn each into U+FFFD, so two such texts can become one.
 * @internal
 */
export function hasLoneSurrogate(text: string): boolean {
  // Native where the runtime has it (Node 20+): a scan in C++, cheap enough for every body sent.
  const native = (text as { isWellFormed?: () => boolean }).isWellFormed;
  if (native !== undefined) return !native.call(text);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++; // a high surrogate and its low one
  }
  return false;
}
