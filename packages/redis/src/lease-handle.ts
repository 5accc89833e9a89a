import { invalidHandle } from '@bg/core/adapter';

/**
 * A lease handle: `<entry id>:<delivery count>`, or the entry id alone for a first delivery
 * (count 1, most deliveries: the handle is then the entry id string the reply brought, with no
 * string made per job, and no parsing to ack it).
 */
export const HANDLE = /^\d{1,16}-\d{1,16}(?::\d{1,10})?$/;

/** Where a well-formed handle's entry id ends: at its `:`, or at its end for a first delivery. */
function entryEnd(handle: string): number {
  const at = handle.lastIndexOf(':');
  return at < 0 ? handle.length : at;
}

/** The entry id of a handle whose id ends at `end` ({@link entryEnd}): the handle itself for a first delivery. */
function entryOf(handle: string, end: number): string {
  return end === handle.length ? handle : handle.slice(0, end);
}

/** The delivery count of a handle whose id ends at `end` ({@link entryEnd}): `'1'` for a first delivery. */
function countOf(handle: string, end: number): string {
  return end === handle.length ? '1' : handle.slice(end + 1);
}

/** The entry id of a well-formed handle (see {@link HANDLE}): the handle itself for a first delivery. */
export function entryIdOf(handle: string): string {
  return entryOf(handle, entryEnd(handle));
}

/** The handle of delivery `count` of the entry `entryId` (see {@link HANDLE}). */
export function leaseHandle(entryId: string, count: number): string {
  return count === 1 ? entryId : `${entryId}:${count}`;
}

/** The entry id and delivery count of a lease handle, or `INVALID_ARGUMENT`. */
export function parseHandle(handle: string): { entry: string; count: string } {
  if (typeof handle !== 'string' || !HANDLE.test(handle)) throw invalidHandle('Redis', handle);
  const end = entryEnd(handle);
  return { entry: entryOf(handle, end), count: countOf(handle, end) };
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
 * Puts `handles` (well-formed, see {@link HANDLE}) in stream order of their entry ids, moving
 * `settlers` (two per handle, in the same order) along with them, so that the ack scripts find
 * them in the order XPENDING lists them. Handles already in order (the usual case: jobs finish
 * in the order they were received) cost one comparison each and are left as they are.
 */
export function sortHandles(handles: string[], settlers: unknown[]): void {
  let prev = handles[0] as string;
  let prevEnd = entryEnd(prev);
  let n = 1;
  for (; n < handles.length; n++) {
    const handle = handles[n] as string;
    const end = entryEnd(handle);
    if (before(handle, end, prev, prevEnd)) break;
    prev = handle;
    prevEnd = end;
  }
  if (n >= handles.length) return;
  const ends = handles.map(entryEnd);
  const order = handles.map((_, k) => k);
  order.sort((x, y) => {
    const a = handles[x] as string;
    const b = handles[y] as string;
    const aEnd = ends[x] as number;
    const bEnd = ends[y] as number;
    return before(a, aEnd, b, bEnd) ? -1 : before(b, bEnd, a, aEnd) ? 1 : x - y;
  });
  const oldHandles = handles.slice();
  const oldSettlers = settlers.slice();
  for (let k = 0; k < order.length; k++) {
    const from = order[k] as number;
    handles[k] = oldHandles[from] as string;
    settlers[2 * k] = oldSettlers[2 * from];
    settlers[2 * k + 1] = oldSettlers[2 * from + 1];
  }
}

/**
 * The acks arguments of the ack scripts for `handles` (well-formed, see {@link HANDLE}, in stream
 * order, see {@link sortHandles}): the lowest and the highest entry id (the first and the last),
 * then each handle's entry id and delivery count. Handles out of order only cost the script speed.
 */
export function ackArguments(handles: readonly string[]): string[] {
  const out: string[] = new Array(2 + 2 * handles.length);
  for (let n = 0; n < handles.length; n++) {
    const handle = handles[n] as string;
    const end = entryEnd(handle);
    out[2 + 2 * n] = entryOf(handle, end);
    out[3 + 2 * n] = countOf(handle, end);
  }
  out[0] = out[2] as string;
  out[1] = out[out.length - 2] as string;
  return out;
}
