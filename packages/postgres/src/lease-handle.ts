import { invalidHandle } from '@bg/core/adapter';

/** A lease handle: `<row seq>:<lease token>`. */
const HANDLE = /^(\d{1,19}):(\d{1,16})$/;

/** The row and lease token a handle names. */
export interface LeaseRef {
  readonly seq: string;
  readonly token: string;
}

/** The handle of a delivery: `<row seq>:<lease token>`. */
export function formatHandle(seq: string, token: string): string {
  return `${seq}:${token}`;
}

/** The row seq and lease token of a lease handle, or `INVALID_ARGUMENT`. */
export function parseHandle(handle: string): LeaseRef {
  const match = typeof handle === 'string' ? HANDLE.exec(handle) : null;
  if (match === null) throw invalidHandle('PostgreSQL', handle);
  return { seq: match[1] as string, token: match[2] as string };
}
