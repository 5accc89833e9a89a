import { invalidHandle } from '@bg/core/adapter';

const PREFIX = 'sqs1';

/** What an `@bg/sqs` lease handle carries. */
export interface DecodedHandle {
  /** The SQS receipt handle of this delivery. */
  readonly receipt: string;
  /** `ApproximateReceiveCount` at the receive that issued the handle. */
  readonly receiveCount: number;
  /** When the message was received (epoch ms): SQS caps visibility at 12 h from then. */
  readonly receivedAt: number;
}

/**
 * Encodes a lease handle: `sqs1:<receive count>:<received at, base 36>:<receipt handle>`.
 * The handle does not rotate on `extend` (SQS receipts do not change on
 * `ChangeMessageVisibility`).
 */
export function encodeHandle(handle: DecodedHandle): string {
  return `${PREFIX}:${handle.receiveCount}:${handle.receivedAt.toString(36)}:${handle.receipt}`;
}

/** Decodes a handle made by {@link encodeHandle}; `INVALID_ARGUMENT` for anything else. */
export function decodeHandle(handle: string): DecodedHandle {
  if (typeof handle === 'string' && handle.startsWith(`${PREFIX}:`)) {
    const second = handle.indexOf(':', PREFIX.length + 1);
    const third = second < 0 ? -1 : handle.indexOf(':', second + 1);
    if (third > 0) {
      const receiveCount = Number(handle.slice(PREFIX.length + 1, second));
      const receivedAt = Number.parseInt(handle.slice(second + 1, third), 36);
      const receipt = handle.slice(third + 1);
      if (Number.isInteger(receiveCount) && receiveCount >= 0 && Number.isFinite(receivedAt) && receipt.length > 0) {
        return { receipt, receiveCount, receivedAt };
      }
    }
  }
  throw invalidHandle('SQS', handle);
}
