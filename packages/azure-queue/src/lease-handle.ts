import { invalidHandle, type LeaseHandle } from '@bg/core/adapter';

/** The parts of a lease handle: the Azure message id and its current pop receipt. */
export interface HandleParts {
  readonly messageId: string;
  readonly popReceipt: string;
}

/** Builds the opaque handle `<messageId>:<popReceipt>` (pop receipts rotate on every update). */
export function makeHandle(messageId: string, popReceipt: string): LeaseHandle {
  return `${messageId}:${popReceipt}`;
}

/** Splits a handle made by {@link makeHandle}; `INVALID_ARGUMENT` for anything else. */
export function parseHandle(handle: LeaseHandle): HandleParts {
  const colon = typeof handle === 'string' ? handle.indexOf(':') : -1;
  if (colon <= 0 || colon === handle.length - 1) {
    throw invalidHandle('Azure queue', handle);
  }
  return { messageId: handle.slice(0, colon), popReceipt: handle.slice(colon + 1) };
}
