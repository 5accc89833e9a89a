import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { DeadLetterInfo, ErrorInfo } from '@bg/core';
import { decodeWtf8, encodeWtf8 } from '@bg/core/adapter';
import { ATTRIBUTE_ALLOWANCE_BYTES, SQS_MAX_ATTRIBUTES } from './capabilities.js';

/** Message attribute holding the job id. */
export const ID_ATTRIBUTE = 'bg.id';
/** Message attribute holding adapter metadata (body encoding, packed attributes, dead-letter info). */
export const META_ATTRIBUTE = 'bg.meta';
/** How many caller attributes are stored as separate SQS message attributes at most. */
const MAX_SEPARATE_ATTRIBUTES = SQS_MAX_ATTRIBUTES - 2;

/** Dead-letter details stored in `bg.meta` of a dead-letter queue message. */
export interface DeadMeta {
  readonly reason: DeadLetterInfo['reason'];
  readonly error?: ErrorInfo;
  readonly attempts: number;
  readonly enqueuedAt?: number;
  readonly deadLetteredAt: number;
}

/** The JSON in `bg.meta`. */
interface Meta {
  /** `b64`: the body is the base64 of the text's WTF-8 (UTF-8 and lone surrogates; it held characters SQS rejects). */
  enc?: 'b64';
  /** Caller attributes that could not be stored as SQS message attributes. */
  attrs?: Record<string, string>;
  dead?: DeadMeta;
  /** The job id, when it holds characters SQS rejects in `bg.id`. */
  id?: string;
}

/** A message ready for `SendMessage(Batch)`. */
export interface EncodedMessage {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** Size as SQS counts it: body + every attribute's name, type and value, in UTF-8 bytes. */
  readonly bytes: number;
  /**
   * The caller's share of `bytes`, which must fit the message limit minus the adapter's reserve:
   * the encoded body plus whatever its attributes take beyond {@link ATTRIBUTE_ALLOWANCE_BYTES}.
   */
  readonly payloadBytes: number;
}

const SQS_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]*$/u;
/** The same without characters above U+FFFF, which some SQS emulators (fauxqs) reject. */
const SQS_BMP_TEXT = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]*$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,254}[A-Za-z0-9_-])?$/;

/**
 * True when SQS accepts `text` as a body or attribute value (its XML character set);
 * with `astral` false, characters above U+FFFF count as unacceptable too.
 */
export function isSqsText(text: string, astral = true): boolean {
  return (astral ? SQS_TEXT : SQS_BMP_TEXT).test(text);
}

function isSeparableName(name: string): boolean {
  return (
    ATTRIBUTE_NAME.test(name) &&
    !name.includes('..') &&
    !/^(aws|amazon)\./i.test(name) &&
    name !== ID_ATTRIBUTE &&
    name !== META_ATTRIBUTE
  );
}

/** JSON text SQS accepts: `JSON.stringify` plus `\\u` escapes for U+FFFE, U+FFFF and surrogates. */
export function sqsSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\uFFFE\uFFFF\uD800-\uDFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function attributeBytes(name: string, value: string): number {
  return Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
}

function stringAttribute(value: string): MessageAttributeValue {
  return { DataType: 'String', StringValue: value };
}

/**
 * Encodes a job for SQS: the body as is (or base64 when it holds characters SQS rejects),
 * the job id in `bg.id`, caller attributes as SQS message attributes when SQS allows
 * their names, values and count (else packed into `bg.meta`), dead-letter info in `bg.meta`.
 */
export function encodeMessage(
  message: { readonly id: string; readonly body: string; readonly attributes?: Readonly<Record<string, string>> },
  dead?: DeadMeta,
  astral = false,
): EncodedMessage {
  const text = (value: string): boolean => isSqsText(value, astral);
  const meta: Meta = {};
  let body = message.body;
  if (!text(body)) {
    // WTF-8, not UTF-8: a lone surrogate comes back as itself, not as U+FFFD.
    body = encodeWtf8(body).toString('base64');
    meta.enc = 'b64';
  }
  const attributes: Record<string, MessageAttributeValue> = {};
  const entries = Object.entries(message.attributes ?? {});
  const separate =
    entries.length <= MAX_SEPARATE_ATTRIBUTES &&
    entries.every(([name, value]) => typeof value === 'string' && value.length > 0 && isSeparableName(name) && text(value));
  let callerAttributeBytes = 0;
  if (separate) {
    for (const [name, value] of entries) {
      attributes[name] = stringAttribute(value);
      callerAttributeBytes += attributeBytes(name, value);
    }
  } else if (entries.length > 0) {
    meta.attrs = Object.fromEntries(entries);
    callerAttributeBytes += Buffer.byteLength(sqsSafeJson({ attrs: meta.attrs }));
  }
  const payloadBytes = Buffer.byteLength(body) + Math.max(0, callerAttributeBytes - ATTRIBUTE_ALLOWANCE_BYTES);
  if (dead) meta.dead = dead;
  attributes[ID_ATTRIBUTE] = stringAttribute(text(message.id) ? message.id : sqsSafeJson(message.id));
  if (!text(message.id)) meta.id = message.id;
  if (Object.keys(meta).length > 0) attributes[META_ATTRIBUTE] = stringAttribute(sqsSafeJson(meta));
  let bytes = Buffer.byteLength(body);
  for (const [name, value] of Object.entries(attributes)) bytes += attributeBytes(name, value.StringValue ?? '');
  return { body, attributes, bytes, payloadBytes };
}

/**
 * Encodes a dead-letter record, shortening the error's stack and then its message so the
 * whole record fits `maxBytes` (the original body and attributes are never cut).
 */
export function encodeDeadLetter(
  message: { readonly id: string; readonly body: string; readonly attributes?: Readonly<Record<string, string>> },
  dead: DeadMeta,
  maxBytes: number,
  astral = false,
): EncodedMessage {
  let encoded = encodeMessage(message, dead, astral);
  let error = dead.error;
  for (let round = 0; encoded.bytes > maxBytes && error !== undefined && round < 8; round++) {
    const excess = encoded.bytes - maxBytes + 64;
    if (error.stack !== undefined && error.stack.length > 0) {
      const keep = Math.max(0, error.stack.length - excess);
      error = { ...error, stack: keep > 0 ? error.stack.slice(0, keep) : '' };
    } else {
      error = { ...error, message: error.message.slice(0, Math.max(0, error.message.length - excess)) };
    }
    encoded = encodeMessage(message, { ...dead, error }, astral);
  }
  return encoded;
}

/** A message read back from SQS. */
export interface DecodedMessage {
  /** `bg.id`, or the SQS MessageId for a message written by another client. */
  readonly id: string;
  readonly body: string;
  readonly attributes: Record<string, string>;
  readonly dead?: DeadMeta;
}

/** Decodes what {@link encodeMessage} wrote (and tolerates foreign messages). */
export function decodeMessage(message: {
  MessageId?: string;
  Body?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
}): DecodedMessage {
  const raw = message.MessageAttributes ?? {};
  let meta: Meta = {};
  const metaText = raw[META_ATTRIBUTE]?.StringValue;
  if (metaText !== undefined) {
    try {
      const parsed: unknown = JSON.parse(metaText);
      if (typeof parsed === 'object' && parsed !== null) meta = parsed as Meta;
    } catch {
      meta = {};
    }
  }
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === ID_ATTRIBUTE || name === META_ATTRIBUTE) continue;
    if (typeof value.StringValue === 'string') attributes[name] = value.StringValue;
  }
  Object.assign(attributes, meta.attrs);
  const body = meta.enc === 'b64' ? decodeWtf8(Buffer.from(message.Body ?? '', 'base64')) : (message.Body ?? '');
  const id = (typeof meta.id === 'string' ? meta.id : undefined) ?? raw[ID_ATTRIBUTE]?.StringValue ?? message.MessageId ?? '';
  return { id, body, attributes, ...(meta.dead ? { dead: meta.dead } : {}) };
}
