import { describe, expect, it } from 'vitest';
import { decodeWtf8, encodeWtf8 } from '../src/adapter/index.js';

describe('encodeWtf8 / decodeWtf8 (bodies with lone surrogates, for byte-storing backends)', () => {
  it('round-trips lone surrogates anywhere, and is plain UTF-8 for well-formed text', () => {
    const texts = ['plain', 'Zoë 😀', 'a\ud800b', '\udc00', 'x\ud83d', '\ud83d\ud83d\ude00', 'é\udfff😀\ud800', ''];
    for (const text of texts) {
      const bytes = encodeWtf8(text);
      expect(decodeWtf8(bytes), `decodeWtf8(encodeWtf8(${JSON.stringify(text)}))`).toBe(text);
      expect(bytes.length, `bytes of ${JSON.stringify(text)}: as many as UTF-8 counts`).toBe(Buffer.byteLength(text, 'utf8'));
      if (!/[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) {
        expect(bytes.equals(Buffer.from(text, 'utf8')), `well-formed ${JSON.stringify(text)} is plain UTF-8`).toBe(true);
      }
    }
  });
});
