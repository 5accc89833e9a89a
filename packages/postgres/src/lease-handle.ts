import { invalidHandle } from '@bg/core/adapter';

/**
 * A lease handle: `<row seq>:<lease token>`, both canonical decimal numbers (no leading zero,
 * so one lease has exactly one spelling, and the handle compares as the numbers do).
 */
const HANDLE = /^(0|[1-9]\d{0,18}):(0|[1-9]\d{0,15})$/;

/** The largest PostgreSQL `bigint`: a seq above it names no row (and would fail the statement). */
const BIGINT_MAX = 9_223_372_036_854_775_807n;

/** The row and lease token a handle names. */
export interface LeaseRef {
  readonly seq: string;
  readonly token: string;
}

/** The handle of a delivery: `<row seq>:<lease token>`. */
export function formatHandle(seq: string, token: string): string {
  return `${seq}:${token}`;
}

/**
 * The row seq and lease token of a lease handle, or `INVALID_ARGUMENT` (the kit's
 * `invalidHandle`, never retryable) for anything this adapter cannot have made: another
 * shape, a leading zero, a seq beyond `bigint`.
 */
export function parseHandle(handle: string): LeaseRef {
  const match = typeof handle === 'string' ? HANDLE.exec(handle) : null;
  if (match === null) throw invalidHandle('PostgreSQL', handle);
  const seq = match[1] as string;
  if (seq.length === 19 && BigInt(seq) > BIGINT_MAX) throw invalidHandle('PostgreSQL', handle);
  return { seq, token: match[2] as string };
}
