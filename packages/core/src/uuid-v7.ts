import { randomFillSync } from 'node:crypto';

const pool = new Uint8Array(16 * 256);
let poolOffset = pool.length;
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A UUID version 7 (RFC 9562): 48-bit millisecond timestamp, then random bits, so ids
 * sort by creation time.
 */
export function uuidv7(now: number = Date.now()): string {
  if (poolOffset + 16 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  const ms = Math.max(0, Math.floor(now));
  const hi = Math.floor(ms / 0x1_0000_0000);
  const lo = ms >>> 0;
  const h = (n: number | undefined): string => HEX[(n ?? 0) & 0xff] as string;
  return (
    h(hi >>> 8) +
    h(hi) +
    h(lo >>> 24) +
    h(lo >>> 16) +
    '-' +
    h(lo >>> 8) +
    h(lo) +
    '-' +
    h(0x70 | ((b[6] ?? 0) & 0x0f)) +
    h(b[7]) +
    '-' +
    h(0x80 | ((b[8] ?? 0) & 0x3f)) +
    h(b[9]) +
    '-' +
    h(b[10]) +
    h(b[11]) +
    h(b[12]) +
    h(b[13]) +
    h(b[14]) +
    h(b[15])
  );
}

/** Matches any RFC 9562 UUID string (lower or upper case). */
export const UUID_PATTERN: RegExp = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Whether the character code is a hexadecimal digit (either case). */
function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * {@link UUID_PATTERN}'s test without the regular expression engine (the envelope check runs it
 * for every job sent and received).
 */
export function isUuid(text: string): boolean {
  if (text.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = text.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // -
    } else if (!isHex(c)) return false;
  }
  const version = text.charCodeAt(14);
  const variant = text.charCodeAt(19) | 0x20; // lower case
  return version >= 49 && version <= 56 && (variant === 56 || variant === 57 || variant === 97 || variant === 98); // 1-8; 8 9 a b
}
