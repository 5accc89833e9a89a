/**
 * WTF-8: UTF-8 that also carries lone surrogates (half of a character outside the BMP, e.g. an
 * emoji cut by `slice`), each as the three bytes UTF-8 would give its code point. Plain UTF-8
 * turns every lone surrogate into U+FFFD, so a body holding one came back altered. For
 * well-formed text the bytes are the UTF-8 bytes, and their count is `Buffer.byteLength`'s.
 * For adapters whose backend stores bytes (base64 bodies): a body comes back exactly as sent.
 */
import { hasLoneSurrogate } from '../text-checks.js';

/** Every lone surrogate (a high one not followed by a low one, or a low one not after a high one). */
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** The bytes of `text`: its UTF-8, with each lone surrogate as the 3 bytes of its code point. */
export function encodeWtf8(text: string): Buffer {
  if (!hasLoneSurrogate(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let from = 0;
  for (const match of text.matchAll(LONE_SURROGATES)) {
    const at = match.index;
    const c = text.charCodeAt(at);
    parts.push(
      Buffer.from(text.slice(from, at), 'utf8'),
      Buffer.from([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]),
    );
    from = at + 1;
  }
  parts.push(Buffer.from(text.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/**
 * The text of bytes made by {@link encodeWtf8} (or plain UTF-8). A surrogate's 3 bytes (`ED A0–BF
 * 80–BF`) never occur in UTF-8, and `ED` is never a continuation byte, so they split the rest at
 * character boundaries.
 */
export function decodeWtf8(bytes: Buffer): string {
  let out = '';
  let from = 0;
  for (let i = bytes.indexOf(0xed); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xed, i + 1)) {
    const b1 = bytes[i + 1] as number;
    const b2 = bytes[i + 2] as number;
    if (b1 < 0xa0 || b1 > 0xbf || b2 < 0x80 || b2 > 0xbf) continue;
    out += bytes.toString('utf8', from, i) + String.fromCharCode(0xd000 | ((b1 & 0x3f) << 6) | (b2 & 0x3f));
    from = i + 3;
    i += 2;
  }
  return from === 0 ? bytes.toString('utf8') : out + bytes.toString('utf8', from);
}
