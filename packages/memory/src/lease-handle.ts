import { invalidHandle } from '@bg/core/adapter';

/** What a memory lease handle carries. */
export interface DecodedHandle {
  /** The stored message's sequence number. */
  readonly seq: number;
  /** The lease token of the delivery (changes on every receive and extend). */
  readonly token: string;
}

/** A lease handle: `<seq>.<token>`. It rotates on `extend` (a new token). */
export function encodeHandle(seq: number, token: string): string {
  return `${seq}.${token}`;
}

/** Decodes a handle made by {@link encodeHandle}; `INVALID_ARGUMENT` for anything else. */
export function decodeHandle(handle: string): DecodedHandle {
  const dot = typeof handle === 'string' ? handle.indexOf('.') : -1;
  const seq = dot > 0 ? Number(handle.slice(0, dot)) : Number.NaN;
  if (!Number.isInteger(seq)) throw invalidHandle('memory', handle);
  return { seq, token: handle.slice(dot + 1) };
}
