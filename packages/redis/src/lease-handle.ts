import { BgError } from '@bg/core/adapter';

/** A lease handle: `<entry id>:<delivery count>`. */
export const HANDLE = /^\d{1,16}-\d{1,16}:\d{1,10}$/;

/** The entry id and delivery count of a lease handle, or `INVALID_ARGUMENT`. */
export function parseHandle(handle: string): { entry: string; count: string } {
  if (typeof handle !== 'string' || !HANDLE.test(handle))
    throw new BgError('INVALID_ARGUMENT', `not a Redis lease handle: ${String(handle)}`);
  const at = handle.lastIndexOf(':');
  return { entry: handle.slice(0, at), count: handle.slice(at + 1) };
}

/**
 * Whether the entry id ending at `aEnd` in `a` (`<ms>-<seq>`, decimal without leading zeros)
 * comes before the one ending at `bEnd` in `b` in a stream. Compares characters: no parsing,
 * no substrings (it runs for every ack).
 */
function before(a: string, aEnd: number, b: string, bEnd: number): boolean {
  const dashA = a.indexOf('-');
  const dashB = b.indexOf('-');
  if (dashA !== dashB) return dashA < dashB;
  for (let i = 0; i < dashA; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < y;
  }
  if (aEnd - dashA !== bEnd - dashB) return aEnd - dashA < bEnd - dashB;
  for (let i = dashA + 1; i < aEnd; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < y;
  }
  return false;
}

/**
 * The acks arguments of the ack scripts: the lowest and the highest entry id among `handles`
 * (well-formed, see {@link HANDLE}), then the handles joined by spaces.
 */
export function ackArguments(handles: readonly string[]): [string, string, string] {
  let lo = handles[0] as string;
  let loEnd = lo.lastIndexOf(':');
  let hi = lo;
  let hiEnd = loEnd;
  for (let n = 1; n < handles.length; n++) {
    const handle = handles[n] as string;
    const end = handle.lastIndexOf(':');
    if (before(handle, end, lo, loEnd)) {
      lo = handle;
      loEnd = end;
    } else if (before(hi, hiEnd, handle, end)) {
      hi = handle;
      hiEnd = end;
    }
  }
  return [lo.slice(0, loEnd), hi.slice(0, hiEnd), handles.join(' ')];
}
