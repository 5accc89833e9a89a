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
