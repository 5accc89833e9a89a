import { type DeadLetter, decodeWtf8, encodeWtf8, type OutgoingMessage } from '@bg/core/adapter';

/**
 * The text stored in an Azure message, as written by this adapter.
 *
 * Azure messages carry no attributes, so the job id and attributes travel inside the
 * message text. A live message is the Base64 encoding (standard alphabet, padded) of the
 * UTF-8 bytes (WTF-8: a lone surrogate as the 3 bytes of its code point) of
 *
 * ```text
 * bg1 {"i":"<job id>","a":{"<attribute>":"<value>"}}\n<body>
 * ```
 *
 * i.e. the marker `bg1 `, one line of JSON (`a` omitted when there are no attributes), a
 * line feed, then the body exactly as given. Base64 keeps any body (XML specials, NUL and
 * other characters XML 1.0 cannot carry, lone line separators) intact through the XML
 * protocol, and matches the default message encoding of Azure Functions.
 *
 * Text that is not in this format (a message written by another client) is delivered as
 * is: `id` = the Azure message id, `body` = the raw message text, no attributes.
 *
 * @module
 */

/** The service limit: 64 KiB of message text. */
export const MAX_MESSAGE_TEXT_CHARS = 64 * 1024;
/** The most UTF-8 bytes whose Base64 encoding fits in {@link MAX_MESSAGE_TEXT_CHARS} (48 KiB). */
export const MAX_WRAPPED_BYTES = (MAX_MESSAGE_TEXT_CHARS / 4) * 3;
/**
 * Bytes reserved for the wrapper (job id, attributes) and for the extra fields of a
 * dead-letter record, so that any body up to {@link MAX_BODY_BYTES} with no attributes and
 * any valid id (≤ 128 characters) always fits, live and dead-lettered.
 */
export const WRAPPER_RESERVE_BYTES = 2048;
/** Room a dead-letter record needs beyond the live wrapper (reason, attempts, timestamps, a short error). */
export const DEAD_LETTER_ROOM_BYTES = 512;
/** The largest body that always fits (46 KiB): `capabilities.maxPayloadBytes`. */
export const MAX_BODY_BYTES = MAX_WRAPPED_BYTES - WRAPPER_RESERVE_BYTES;

const LIVE_MARKER = 'bg1 ';
const DEAD_MARKER = 'bg1d ';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function liveHeader(id: string, attributes: Readonly<Record<string, string>> | undefined): string {
  const header: { i: string; a?: Readonly<Record<string, string>> } = { i: id };
  if (attributes && Object.keys(attributes).length > 0) header.a = attributes;
  return `${LIVE_MARKER}${JSON.stringify(header)}\n`;
}

/**
 * Bytes a message costs beyond its body, as `assertSendable` counts them: the part of the
 * wrapper (plus {@link DEAD_LETTER_ROOM_BYTES}) that exceeds {@link WRAPPER_RESERVE_BYTES}.
 * Zero for messages without attributes.
 */
export function overheadBytes(message: OutgoingMessage): number {
  const wrapper = Buffer.byteLength(liveHeader(message.id, message.attributes), 'utf8');
  return Math.max(0, wrapper + DEAD_LETTER_ROOM_BYTES - WRAPPER_RESERVE_BYTES);
}

/** Encodes a live message into its stored text. */
export function encodeLive(id: string, body: string, attributes: Readonly<Record<string, string>> | undefined): string {
  // WTF-8, not UTF-8: a lone surrogate in the body comes back as itself, not as U+FFFD.
  return encodeWtf8(liveHeader(id, attributes) + body).toString('base64');
}

/** A decoded live message. */
export interface DecodedLive {
  readonly id: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

function unwrap(text: string, marker: string): { header: Record<string, unknown>; body: string } | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const decoded = decodeWtf8(Buffer.from(text, 'base64'));
  if (!decoded.startsWith(marker)) return undefined;
  const newline = decoded.indexOf('\n');
  if (newline < 0) return undefined;
  let header: unknown;
  try {
    header = JSON.parse(decoded.slice(marker.length, newline));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  return { header: header as Record<string, unknown>, body: decoded.slice(newline + 1) };
}

function stringRecord(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') return undefined;
    out[k] = v;
  }
  return out;
}

/** Decodes stored text; messages not in this adapter's format come back raw. */
export function decodeLive(text: string, messageId: string): DecodedLive {
  const parts = unwrap(text, LIVE_MARKER);
  const attributes = parts ? stringRecord(parts.header.a) : undefined;
  if (!parts || typeof parts.header.i !== 'string' || !attributes) return { id: messageId, body: text, attributes: {} };
  return { id: parts.header.i, body: parts.body, attributes };
}

/**
 * Encodes a dead-letter record. The text is `bg1d ` + one JSON line (`id`, `attributes`,
 * `reason`, `attempts`, `enqueuedAt`, `deadLetteredAt`, `error`) + line feed + body, in
 * Base64. When the record would exceed the 64 KiB limit, the error's stack, then its
 * message are shortened (the body is never touched).
 */
export function encodeDeadLetter(record: DeadLetter): string {
  const header = {
    id: record.id,
    ...(Object.keys(record.attributes).length > 0 ? { attributes: record.attributes } : {}),
    reason: record.reason,
    attempts: record.attempts,
    ...(record.enqueuedAt !== undefined ? { enqueuedAt: record.enqueuedAt } : {}),
    deadLetteredAt: record.deadLetteredAt,
  };
  let error = record.error ? { ...record.error } : undefined;
  const size = (): number =>
    Buffer.byteLength(`${DEAD_MARKER}${JSON.stringify(error ? { ...header, error } : header)}\n`, 'utf8') +
    Buffer.byteLength(record.body, 'utf8');
  for (let over = size() - MAX_WRAPPED_BYTES; over > 0 && error; over = size() - MAX_WRAPPED_BYTES) {
    if (error.stack) error.stack = error.stack.slice(0, Math.max(0, error.stack.length - over));
    else if (error.message) error = { ...error, message: error.message.slice(0, Math.max(0, error.message.length - over)) };
    else error = undefined;
    if (error && !error.stack) delete error.stack;
  }
  const text = `${DEAD_MARKER}${JSON.stringify(error ? { ...header, error } : header)}\n${record.body}`;
  return encodeWtf8(text).toString('base64');
}

/**
 * Decodes a dead-letter record; foreign text in the poison queue (e.g. a message moved
 * there by Azure Functions) comes back as a `manual` dead letter with the raw text as body.
 */
export function decodeDeadLetter(
  text: string,
  fallback: { messageId: string; insertedOn: number; dequeueCount: number },
): DeadLetter {
  const parts = unwrap(text, DEAD_MARKER);
  const h = parts?.header;
  const attributes = h ? stringRecord(h.attributes) : undefined;
  if (
    !parts ||
    !h ||
    !attributes ||
    typeof h.id !== 'string' ||
    typeof h.reason !== 'string' ||
    typeof h.attempts !== 'number' ||
    typeof h.deadLetteredAt !== 'number'
  ) {
    return {
      id: fallback.messageId,
      body: text,
      attributes: {},
      reason: 'manual',
      attempts: fallback.dequeueCount,
      deadLetteredAt: fallback.insertedOn,
    };
  }
  const error = h.error as DeadLetter['error'] | undefined;
  return {
    id: h.id,
    body: parts.body,
    attributes,
    reason: h.reason as DeadLetter['reason'],
    ...(error && typeof error === 'object' && typeof error.message === 'string' ? { error } : {}),
    attempts: h.attempts,
    ...(typeof h.enqueuedAt === 'number' ? { enqueuedAt: h.enqueuedAt } : {}),
    deadLetteredAt: h.deadLetteredAt,
  };
}
