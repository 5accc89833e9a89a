import {
  BgError,
  DEAD_LETTER_REASONS,
  type DeadLetter,
  type DeadLetterReason,
  type ErrorInfo,
  type OutgoingMessage,
  type ReceivedMessage,
} from '@bg/core/adapter';
import type { protos } from '@google-cloud/pubsub';
import { MAX_ATTRIBUTE_KEY_BYTES, MAX_ATTRIBUTE_VALUE_BYTES, MAX_ATTRIBUTES, MAX_DELIVERY_ATTEMPTS } from './capabilities.js';

type PubsubMessage = protos.google.pubsub.v1.IPubsubMessage;

/** Attribute carrying the bg job id (Pub/Sub assigns its own message ids). */
export const ID_ATTRIBUTE = 'bg-id';
/** Prefix of the attributes a dead-letter record adds. */
export const DEAD_LETTER_PREFIX = 'bg-dl-';
const DL = {
  reason: 'bg-dl-reason',
  attempts: 'bg-dl-attempts',
  at: 'bg-dl-at',
  enqueuedAt: 'bg-dl-enqueued-at',
  errorMessage: 'bg-dl-error-message',
  errorName: 'bg-dl-error-name',
  errorCode: 'bg-dl-error-code',
  errorStack: 'bg-dl-error-stack',
} as const;
/** Attributes Pub/Sub's own dead-letter forwarding adds (reserved: never sent, dropped on read). */
export const NATIVE_DL_PREFIX = 'CloudPubSubDeadLetterSource';
/** Attributes the adapter may add to a message: the id plus every dead-letter attribute. */
const RESERVED_ATTRIBUTE_COUNT = 1 + Object.keys(DL).length;
/** Most attributes a caller may give one message (Pub/Sub's 100 minus the adapter's own). */
export const MAX_USER_ATTRIBUTES = MAX_ATTRIBUTES - RESERVED_ATTRIBUTE_COUNT;

/** UTF-8 byte length. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** `String.prototype.isWellFormed` (ES2024, in every Node this package supports; the build's lib is ES2023). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function assertWellFormed(text: string, what: string): void {
  // Native, and several times faster than a lone-surrogate pattern on every body sent.
  if (!isWellFormed(text)) {
    throw new BgError('INVALID_ARGUMENT', `${what} contains a lone UTF-16 surrogate: Pub/Sub stores UTF-8 and would alter it`);
  }
}

/** Bytes of a message's attributes as Pub/Sub counts them (keys plus values). */
export function attributeBytes(attributes: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(attributes)) n += utf8Length(k) + utf8Length(v);
  return n;
}

/**
 * Checks a message's own attributes against real Pub/Sub rules and the adapter's reserved
 * names (`INVALID_ARGUMENT`): at most {@link MAX_USER_ATTRIBUTES}, keys of 1–256 bytes not
 * starting with `goog`, values up to 1 024 bytes, no `bg-id` / `bg-dl-*` /
 * `CloudPubSubDeadLetterSource*` (Pub/Sub's own dead-letter forwarding writes those, and reads
 * drop them). Returns their bytes
 * as Pub/Sub counts them (keys plus values).
 */
export function assertAttributes(id: string, attributes: Readonly<Record<string, string>>): number {
  const entries = Object.entries(attributes);
  let bytes = 0;
  if (entries.length > MAX_USER_ATTRIBUTES) {
    throw new BgError('INVALID_ARGUMENT', `message ${id}: ${entries.length} attributes exceed ${MAX_USER_ATTRIBUTES}`, {
      details: { id, limit: MAX_USER_ATTRIBUTES },
    });
  }
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw new BgError('INVALID_ARGUMENT', `message ${id}: attribute ${key} must be a string`);
    const keyBytes = utf8Length(key);
    if (key.length === 0 || keyBytes > MAX_ATTRIBUTE_KEY_BYTES) {
      throw new BgError('INVALID_ARGUMENT', `message ${id}: attribute keys must be 1–${MAX_ATTRIBUTE_KEY_BYTES} bytes`);
    }
    if (/^goog/i.test(key)) {
      throw new BgError('INVALID_ARGUMENT', `message ${id}: attribute ${key}: keys starting with "goog" are reserved by Pub/Sub`);
    }
    if (key === ID_ATTRIBUTE || key.startsWith(DEAD_LETTER_PREFIX) || key.startsWith(NATIVE_DL_PREFIX)) {
      throw new BgError('INVALID_ARGUMENT', `message ${id}: attribute ${key} is reserved by the bg Pub/Sub adapter`);
    }
    const valueBytes = utf8Length(value);
    if (valueBytes > MAX_ATTRIBUTE_VALUE_BYTES) {
      throw new BgError('INVALID_ARGUMENT', `message ${id}: attribute ${key} exceeds ${MAX_ATTRIBUTE_VALUE_BYTES} bytes`, {
        details: { id, key, limit: MAX_ATTRIBUTE_VALUE_BYTES },
      });
    }
    assertWellFormed(key, `message ${id}: attribute key`);
    assertWellFormed(value, `message ${id}: attribute ${key}`);
    bytes += keyBytes + valueBytes;
  }
  return bytes;
}

/** A message ready to publish, with its size as Pub/Sub counts it. */
export interface EncodedMessage {
  readonly id: string;
  readonly message: PubsubMessage;
  readonly bytes: number;
}

/** Encodes one outgoing message: data = UTF-8 body, attributes + `bg-id`. Validates first. */
export function encodeOutgoing(message: OutgoingMessage): EncodedMessage {
  const attributes = message.attributes ?? {};
  // The checks measure the caller's attributes: only the id's bytes are added here.
  const callerBytes = assertAttributes(message.id, attributes);
  assertWellFormed(message.body, `message ${message.id}: body`);
  assertWellFormed(message.id, 'message id');
  const data = Buffer.from(message.body, 'utf8');
  const all: Record<string, string> = Object.assign({}, attributes);
  all[ID_ATTRIBUTE] = message.id;
  return {
    id: message.id,
    message: { data, attributes: all },
    bytes: data.length + callerBytes + ID_ATTRIBUTE.length + utf8Length(message.id),
  };
}

/** Epoch ms of a protobuf timestamp. */
export function timestampMs(ts: protos.google.protobuf.ITimestamp | null | undefined): number | undefined {
  if (!ts || ts.seconds === undefined || ts.seconds === null) return undefined;
  return Number(ts.seconds) * 1_000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

function dataText(message: PubsubMessage): string {
  const data = message.data;
  if (data === null || data === undefined) return '';
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** The id, body and caller's attributes of a stored message (reserved attributes stripped). */
export function decodeStored(message: PubsubMessage): { id: string; body: string; attributes: Record<string, string> } {
  const raw = message.attributes ?? {};
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k === ID_ATTRIBUTE || k.startsWith(DEAD_LETTER_PREFIX) || k.startsWith(NATIVE_DL_PREFIX)) continue;
    attributes[k] = v;
  }
  return { id: raw[ID_ATTRIBUTE] ?? message.messageId ?? '', body: dataText(message), attributes };
}

/** Maps a pulled message to a {@link ReceivedMessage}. */
export function decodeReceived(received: protos.google.pubsub.v1.IReceivedMessage, leaseExpiresAt: number): ReceivedMessage {
  const message = received.message ?? {};
  const { id, body, attributes } = decodeStored(message);
  const enqueuedAt = timestampMs(message.publishTime);
  return {
    id,
    body,
    attributes,
    // deliveryAttempt is only set when the subscription has a dead-letter policy (ensureQueue sets one).
    deliveryCount: received.deliveryAttempt && received.deliveryAttempt > 0 ? received.deliveryAttempt : 1,
    handle: received.ackId ?? '',
    leaseExpiresAt,
    ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
  };
}

/** Cuts a string to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  const marker = '…';
  const budget = maxBytes - utf8Length(marker);
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = utf8Length(ch);
    if (used + n > budget) break;
    out += ch;
    used += n;
  }
  return out + marker;
}

function errorAttributes(error: ErrorInfo | undefined): Record<string, string> {
  if (!error) return {};
  const out: Record<string, string> = {
    [DL.errorMessage]: truncateUtf8(String(error.message ?? ''), MAX_ATTRIBUTE_VALUE_BYTES),
  };
  if (error.name !== undefined) out[DL.errorName] = truncateUtf8(error.name, MAX_ATTRIBUTE_VALUE_BYTES);
  if (error.code !== undefined) out[DL.errorCode] = truncateUtf8(error.code, MAX_ATTRIBUTE_VALUE_BYTES);
  if (error.stack !== undefined) out[DL.errorStack] = truncateUtf8(error.stack, MAX_ATTRIBUTE_VALUE_BYTES);
  return out;
}

/**
 * Encodes a dead-letter record (the kit's `deadLetterRecord`): the original bytes as data, the original attributes and
 * id, plus `bg-dl-*` attributes for reason, attempts, timestamps and the error (each error
 * field cut to Pub/Sub's 1 024-byte attribute limit).
 */
export function encodeDeadLetter(record: DeadLetter): PubsubMessage {
  return {
    data: Buffer.from(record.body, 'utf8'),
    attributes: {
      ...record.attributes,
      [ID_ATTRIBUTE]: record.id,
      [DL.reason]: record.reason,
      [DL.attempts]: String(record.attempts),
      [DL.at]: String(record.deadLetteredAt),
      ...(record.enqueuedAt !== undefined ? { [DL.enqueuedAt]: String(record.enqueuedAt) } : {}),
      ...errorAttributes(record.error),
    },
  };
}

function toNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Decodes a message of the dead-letter subscription: a record the adapter wrote, or a
 * message Pub/Sub's dead-letter policy forwarded after {@link MAX_DELIVERY_ATTEMPTS}
 * attempts (reason `max-attempts`, without an error of ours).
 */
export function decodeDeadLetter(message: PubsubMessage): DeadLetter {
  const raw = message.attributes ?? {};
  const { id, body, attributes } = decodeStored(message);
  const publishedAt = timestampMs(message.publishTime) ?? Date.now();
  const reasonText = raw[DL.reason];
  if (reasonText === undefined) {
    const attempts = toNumber(raw[`${NATIVE_DL_PREFIX}DeliveryCount`]) ?? MAX_DELIVERY_ATTEMPTS;
    return {
      id,
      body,
      attributes,
      reason: 'max-attempts',
      error: {
        message: `forwarded by the Pub/Sub dead-letter policy after ${attempts} delivery attempts (no worker settled it)`,
      },
      attempts,
      deadLetteredAt: publishedAt,
    };
  }
  const reason: DeadLetterReason = (DEAD_LETTER_REASONS as readonly string[]).includes(reasonText)
    ? (reasonText as DeadLetterReason)
    : 'manual';
  const errorMessage = raw[DL.errorMessage];
  const error: ErrorInfo | undefined =
    errorMessage === undefined
      ? undefined
      : {
          message: errorMessage,
          ...(raw[DL.errorName] !== undefined ? { name: raw[DL.errorName] } : {}),
          ...(raw[DL.errorCode] !== undefined ? { code: raw[DL.errorCode] } : {}),
          ...(raw[DL.errorStack] !== undefined ? { stack: raw[DL.errorStack] } : {}),
        };
  const enqueuedAt = toNumber(raw[DL.enqueuedAt]);
  return {
    id,
    body,
    attributes,
    reason,
    ...(error ? { error } : {}),
    attempts: toNumber(raw[DL.attempts]) ?? 0,
    ...(enqueuedAt !== undefined ? { enqueuedAt } : {}),
    deadLetteredAt: toNumber(raw[DL.at]) ?? publishedAt,
  };
}
