import { type DeadLetter, hasLoneSurrogate, type ReceivedMessage } from '@bg/core/adapter';
import { formatHandle } from './lease-handle.js';

/**
 * How messages and dead letters are stored in rows and read back: bodies as `text` (JSON
 * when `text` cannot keep them), attributes as JSON text (null for none), dead-letter errors
 * as JSON text, times as epoch ms.
 */

/**
 * A body as `text` can store it: as is, or — when it holds a NUL character or a lone surrogate,
 * which PostgreSQL's UTF-8 `text` cannot keep byte for byte — as a JSON string (flag true).
 */
export function storedBody(body: string): [text: string, json: boolean] {
  return textLoses(body) ? [JSON.stringify(body), true] : [body, false];
}

/** Whether PostgreSQL's UTF-8 `text` would not keep `value` byte for byte (a NUL character, a lone surrogate). */
export function textLoses(value: string): boolean {
  return value.includes('\u0000') || hasLoneSurrogate(value);
}

/** The body back from its stored form. */
export function loadedBody(text: string, json: boolean): string {
  return json ? (JSON.parse(text) as string) : text;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

/** Stored attributes: null for none, JSON otherwise. */
export function attributesText(attributes: Readonly<Record<string, string>> | undefined): string | null {
  if (attributes === undefined) return null;
  for (const _ in attributes) return JSON.stringify(attributes);
  return null;
}

/** Attributes back from their stored form (garbage reads as none). */
export function attributesOf(text: string | null): Readonly<Record<string, string>> {
  if (text === null) return NO_ATTRIBUTES;
  try {
    return JSON.parse(text) as Record<string, string>;
  } catch {
    return {};
  }
}

/** A row the receiving statement returns. */
export interface ReceiveRow {
  seq: string;
  id: string;
  body: string;
  body_json: boolean;
  attributes: string | null;
  deliveries: number;
  lease_token: string;
  visible_at: string;
  enqueued_at: string;
}

/** The delivery a received row is. */
export function toReceived(row: ReceiveRow): ReceivedMessage {
  return {
    id: row.id,
    body: loadedBody(row.body, row.body_json),
    attributes: attributesOf(row.attributes),
    deliveryCount: row.deliveries,
    handle: formatHandle(row.seq, row.lease_token),
    leaseExpiresAt: Number(row.visible_at),
    enqueuedAt: Number(row.enqueued_at),
  };
}

/** A row of the `dead` table. */
export interface DeadRow {
  id: string;
  body: string;
  body_json: boolean;
  attributes: string | null;
  reason: string;
  error: string | null;
  attempts: number;
  enqueued_at: string | null;
  dead_lettered_at: string;
}

/** The dead letter a `dead` row holds. */
export function toDeadLetter(row: DeadRow): DeadLetter {
  return {
    id: row.id,
    body: loadedBody(row.body, row.body_json),
    attributes: { ...attributesOf(row.attributes) },
    reason: row.reason as DeadLetter['reason'],
    ...(row.error !== null ? { error: JSON.parse(row.error) as NonNullable<DeadLetter['error']> } : {}),
    attempts: row.attempts,
    ...(row.enqueued_at !== null ? { enqueuedAt: Number(row.enqueued_at) } : {}),
    deadLetteredAt: Number(row.dead_lettered_at),
  };
}

/**
 * The values of a dead letter for the dead-letter statement, in its parameter order after
 * the queue: id, body, attributes, reason, error, attempts, enqueued at, dead-lettered at,
 * and last the body's JSON flag.
 */
export function deadLetterValues(letter: DeadLetter): { readonly values: unknown[]; readonly bodyJson: boolean } {
  const [body, bodyJson] = storedBody(letter.body);
  return {
    values: [
      letter.id,
      body,
      attributesText(letter.attributes),
      letter.reason,
      letter.error ? JSON.stringify(letter.error) : null,
      letter.attempts,
      letter.enqueuedAt ?? null,
      letter.deadLetteredAt,
    ],
    bodyJson,
  };
}
