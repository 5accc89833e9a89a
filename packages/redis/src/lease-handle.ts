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

/** Whether entry id `a` (`<ms>-<seq>`) comes before `b` in a stream. */
function before(a: string, b: string): boolean {
  const msA = Number.parseInt(a, 10);
  const msB = Number.parseInt(b, 10);
  if (msA !== msB) return msA < msB;
  return Number(a.slice(a.indexOf('-') + 1)) < Number(b.slice(b.indexOf('-') + 1));
}

/**
 * The acks argument of the ack scripts: the lowest and the highest entry id among `handles`
 * (well-formed, see {@link HANDLE}), then the handles joined by spaces.
 */
export function ackArguments(handles: readonly string[]): [string, string, string] {
  let lo = '';
  let hi = '';
  for (const handle of handles) {
    const entry = handle.slice(0, handle.lastIndexOf(':'));
    if (lo === '' || before(entry, lo)) lo = entry;
    if (hi === '' || before(hi, entry)) hi = entry;
  }
  return [lo, hi, handles.join(' ')];
}
