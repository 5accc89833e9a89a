import { randomInt as cryptoRandomInt } from 'node:crypto';

/** A random integer in [min, max] (both included). */
export function randomInt(min: number, max: number): number {
  return max <= min ? min : cryptoRandomInt(min, max + 1);
}

/** Code-point ranges random bodies are drawn from: controls, ASCII, Latin, CJK, specials and astral (no lone surrogates). */
const RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x00, 0x1f],
  [0x20, 0x7e],
  [0x7f, 0xff],
  [0x4e00, 0x4e80],
  [0x2028, 0x2029],
  [0xfeff, 0xfeff],
  [0xfff0, 0xfffd],
  [0x1f600, 0x1f64f],
  [0x10000, 0x10010],
];

/** A random string of `length` code points over awkward ranges; shown in failures so a run can be reproduced. */
export function randomText(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const [lo, hi] = RANGES[randomInt(0, RANGES.length - 1)] as readonly [number, number];
    out += String.fromCodePoint(randomInt(lo, hi));
  }
  return out;
}

/** A string of exactly `bytes` UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters. */
export function textOfBytes(bytes: number): string {
  const pieces = ['a', 'é', '€', '😀', '\r\n', '$&', '\u0000'];
  let out = '';
  let left = bytes;
  while (left > 0) {
    const piece = pieces[randomInt(0, pieces.length - 1)] as string;
    const size = Buffer.byteLength(piece, 'utf8');
    if (size > left) {
      out += 'z'.repeat(left);
      break;
    }
    out += piece;
    left -= size;
  }
  return out;
}
